use super::*;
use crate::ingest::Aggregator;
use crate::ingest::parse::{Line, parse_line};

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

#[test]
fn sampled_ticks_count_on_metrics_exactly_as_in_the_report() {
    let mut agg = Aggregator::new(100);
    let lines = [
        "tick.duration:40|ms|@0.1",
        "tick.duration:60|ms|@0.5",
        "tick.duration:300|ms|@0.5",
        "tick.duration:20|ms|#shard:2",
        "tick.duration:3|c",
        "auth.latency:40|ms",
    ];
    for l in lines {
        let Ok(Line::Metric(m)) = parse_line(l.as_bytes()) else {
            panic!("{l}")
        };
        agg.record(&m).unwrap();
    }
    let interval = agg.take();
    let reported: f64 = interval
        .histograms
        .iter()
        .filter(|s| s.name == signal::TICK_DURATION)
        .map(|s| s.histogram.count)
        .sum();
    assert_eq!(reported, 10.0 + 2.0 + 2.0 + 1.0);

    let m = AgentMetrics::new("w1");
    m.record_interval(&interval.histograms, &interval.gauges);
    m.record_interval(&interval.histograms, &interval.gauges);
    let text = m.render(&IngestStats::default(), None);
    let n = "liveops_agent_tick_duration_seconds";
    let w = "{world=\"w1\"}";
    assert_eq!(sample(&text, &format!("{n}_count{w}")), 2.0 * reported);
    // Weighted too: 40 ms × 10, 60 and 300 ms × 2, 20 ms once.
    let sum = sample(&text, &format!("{n}_sum{w}"));
    assert!((sum - 2.0 * 1.14).abs() < 1e-9, "{sum}");
    let bucket = |le: &str| sample(&text, &format!("{n}_bucket{{world=\"w1\",le=\"{le}\"}}"));
    assert_eq!(bucket("0.02"), 2.0);
    assert_eq!(bucket("0.05"), 2.0 * 11.0);
    assert_eq!(bucket("0.25"), 2.0 * 13.0);
    assert_eq!(bucket("+Inf"), 2.0 * reported);
    assert_eq!(text.matches(&format!("# TYPE {n} histogram")).count(), 1);
}

#[test]
fn the_backlog_and_players_gauges_follow_the_reports() {
    let m = AgentMetrics::new("w1");
    let g = |name: &str, shard: &str, value| GaugeSeries {
        name: name.into(),
        tags: [("shard".to_owned(), shard.to_owned())].into(),
        value,
    };
    m.record_interval(
        &[],
        &[
            g("tick.backlog", "1", 3.0),
            g("tick.backlog", "2", 4.0),
            g("players.online", "1", 42.0),
        ],
    );
    let text = m.render(&IngestStats::default(), None);
    assert_eq!(
        sample(&text, "liveops_agent_tick_backlog{world=\"w1\"}"),
        7.0
    );
    // An interval without the gauge leaves the last value.
    m.record_interval(&[], &[]);
    let text = m.render(&IngestStats::default(), None);
    assert_eq!(
        sample(&text, "liveops_agent_tick_backlog{world=\"w1\"}"),
        7.0
    );
    assert_eq!(
        sample(&text, "liveops_agent_players_online{world=\"w1\"}"),
        42.0
    );
}
