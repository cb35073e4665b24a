//! The last line of defence before a report is encoded: JSON has no NaN or
//! infinity (serde_json writes `null`), and the collector refuses a report
//! holding one, which would drop that world's health and every series of
//! the interval. Ingest already keeps sums finite; whatever non-finite
//! number still reaches a report is removed here and counted, so a report
//! always encodes and is always accepted.

use liveops_protocol::Report;

/// Removes every non-finite number from `report`: a series holding one is
/// dropped whole (half a histogram would be wrong, not just incomplete),
/// an optional health figure is left out. Each removal is counted in
/// `losses.nonfinite_values`; returns how many there were.
pub fn scrub(report: &mut Report) -> u64 {
    let mut removed = 0u64;
    let mut keep = |finite: bool| {
        if !finite {
            removed += 1;
        }
        finite
    };
    report.counters.retain(|s| keep(s.value.is_finite()));
    report.gauges.retain(|s| keep(s.value.is_finite()));
    report.histograms.retain(|s| {
        let h = &s.histogram;
        keep(h.sum.is_finite() && h.count.is_finite() && h.counts.iter().all(|c| c.is_finite()))
    });
    if let Some(ms) = report.health.tick_interval_ms
        && !keep(ms.is_finite())
    {
        report.health.tick_interval_ms = None;
    }
    report.losses.nonfinite_values += removed;
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveops_protocol::{
        CounterSeries, GaugeSeries, Health, Histogram, HistogramSeries, Losses, Tags,
    };

    fn report() -> Report {
        Report {
            agent: "a".into(),
            world: "w1".into(),
            seq: 1,
            start_ms: 0,
            end_ms: 1000,
            urgent: false,
            health: Health {
                up: true,
                tick_interval_ms: Some(100.0),
                ..Health::default()
            },
            counters: vec![],
            gauges: vec![],
            histograms: vec![],
            losses: Losses::default(),
            flag_reloads: vec![],
        }
    }

    fn counter(name: &str, value: f64) -> CounterSeries {
        CounterSeries {
            name: name.into(),
            tags: Tags::new(),
            value,
        }
    }

    #[test]
    fn every_non_finite_number_is_removed_counted_and_the_rest_kept() {
        let mut r = report();
        r.losses.nonfinite_values = 2;
        r.counters = vec![
            counter("request", f64::INFINITY),
            counter("payment", 3.0),
            counter("x", f64::NAN),
        ];
        r.gauges = vec![GaugeSeries {
            name: "players.online".into(),
            tags: Tags::new(),
            value: f64::NEG_INFINITY,
        }];
        let mut bad = Histogram::default();
        bad.counts[3] = f64::INFINITY;
        let mut good = Histogram::default();
        good.record(40.0, 1.0);
        let nan_sum = Histogram {
            sum: f64::NAN,
            ..Histogram::default()
        };
        r.histograms = [("a", bad), ("tick.duration", good.clone()), ("b", nan_sum)]
            .into_iter()
            .map(|(name, histogram)| HistogramSeries {
                name: name.into(),
                tags: Tags::new(),
                histogram,
            })
            .collect();
        r.health.tick_interval_ms = Some(f64::INFINITY);

        assert_eq!(scrub(&mut r), 6);
        assert_eq!(r.losses.nonfinite_values, 2 + 6);
        assert_eq!(r.counters, [counter("payment", 3.0)]);
        assert!(r.gauges.is_empty());
        assert_eq!(r.histograms.len(), 1);
        assert_eq!(r.histograms[0].histogram, good);
        assert_eq!(r.health.tick_interval_ms, None);
        assert!(r.health.up, "health itself is kept");
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("null"), "{json}");
    }

    #[test]
    fn a_finite_report_is_left_alone() {
        let mut r = report();
        r.counters = vec![counter("request", 1e308)];
        let before = r.clone();
        assert_eq!(scrub(&mut r), 0);
        assert_eq!(r, before);
    }
}
