//! The agent's own `/metrics` tells the same story as its reports: sampled
//! tick timings weigh 1/rate on the tick histogram exactly as in the SLO the
//! collector computes from the reports.

use std::net::UdpSocket;
use std::time::Duration;

use liveops_telemetry::names;

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
