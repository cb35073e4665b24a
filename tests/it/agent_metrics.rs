//! The agent's own `/metrics` tells the same story as its reports: sampled
//! tick timings weigh 1/rate on the tick histogram exactly as in the SLO the
//! collector computes from the reports, and the world's tick backlog is
//! both reported and exported.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::Duration;

use liveops_protocol::signal;
use liveops_telemetry::names;

use crate::report_sink::ReportSink;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_ticks_count_the_same_on_metrics_and_in_the_slo() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let agent = start_agent(agent_config(dir.path(), "w1", &url)).await;
    let statsd = agent.bound().statsd_udp.unwrap();
    let sock = UdpSocket::bind(any_port()).unwrap();

    // 30 timings at @0.1 (10 ticks each) and 40 at @0.5 (2 each), one over
    // the 250 ms budget in each group: 380 ticks, 12 of them slow.
    let mut datagram = Vec::new();
    for i in 0..30 {
        let ms = if i == 0 { 400 } else { 40 };
        datagram.push(format!("tick.duration:{ms}|ms|@0.1"));
    }
    for i in 0..40 {
        let ms = if i == 0 { 300 } else { 60 };
        datagram.push(format!("tick.duration:{ms}|ms|@0.5"));
    }
    for chunk in datagram.chunks(10) {
        sock.send_to(chunk.join("\n").as_bytes(), statsd).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    expect_events(&url, "w1", "tick_latency", 380.0, Duration::from_secs(5)).await;
    let slo = slo(&url, "w1", "tick_latency").await.unwrap();
    assert!(close(&slo["sli"], 368.0 / 380.0), "{slo}");

    let metrics = get_text(&format!("http://{}/metrics", agent.bound().http)).await;
    let w = [("world", "w1")];
    let name = |suffix: &str| format!("{}{suffix}", names::AGENT_TICK_DURATION);
    assert_eq!(
        sample(&metrics, &name("_count"), &w),
        Some(380.0),
        "{metrics}"
    );
    let sum = sample(&metrics, &name("_sum"), &w).unwrap();
    let want = (400.0 + 29.0 * 40.0) * 10.0 + (300.0 + 39.0 * 60.0) * 2.0;
    assert!((sum - want / 1000.0).abs() < 1e-9, "{sum}");
    let le = |b: &str| sample(&metrics, &name("_bucket"), &[("world", "w1"), ("le", b)]);
    assert_eq!(le("0.25"), Some(368.0), "{metrics}");
    assert_eq!(le("+Inf"), Some(380.0), "{metrics}");

    agent.stop();
    agent.wait().await.unwrap();
    collector.stop();
    collector.wait().await.unwrap();
}

/// The world's `tick.backlog` gauge travels in every report of an interval
/// it was set in (where the collector's `TickBacklog` alert reads it) and
/// shows on the agent's `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tick_backlog_is_reported_and_exported() {
    let sink = ReportSink::start(HashMap::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = agent_config(dir.path(), "w1", &sink.url());
    cfg.report_interval = Duration::from_millis(100);
    let agent = start_agent(cfg).await;
    let statsd = agent.bound().statsd_udp.unwrap();
    let metrics_url = format!("http://{}/metrics", agent.bound().http);
    let sock = UdpSocket::bind(any_port()).unwrap();
    let w = [("world", "w1")];

    for backlog in [7.0, 0.0, 31.0] {
        let line = format!("tick.backlog:{backlog}|g\ntick.duration:40|ms");
        let what = format!("backlog {backlog} in a report and on /metrics");
        eventually(Duration::from_secs(5), &what, || async {
            sock.send_to(line.as_bytes(), statsd).unwrap();
            let reported = sink.seen(|s| {
                s.taken.iter().rev().find_map(|r| {
                    r.gauges
                        .iter()
                        .find(|g| g.name == signal::TICK_BACKLOG)
                        .map(|g| g.value)
                })
            });
            let metrics = get_text(&metrics_url).await;
            let exported = sample(&metrics, names::AGENT_TICK_BACKLOG, &w);
            if reported == Some(backlog) && exported == Some(backlog) {
                Ok(())
            } else {
                Err(format!("reported {reported:?}, exported {exported:?}"))
            }
        })
        .await;
    }
    // Every report of an interval the world set it in carries it.
    let (with, ticked) = sink.seen(|s| {
        let ticked: Vec<_> = s
            .taken
            .iter()
            .filter(|r| r.histograms.iter().any(|h| h.name == signal::TICK_DURATION))
            .collect();
        let with = ticked
            .iter()
            .filter(|r| r.gauges.iter().any(|g| g.name == signal::TICK_BACKLOG))
            .count();
        (with, ticked.len())
    });
    assert!(ticked > 0);
    assert_eq!(with, ticked, "a report with ticks but without the backlog");

    agent.stop();
    agent.wait().await.unwrap();
}
