//! A game cannot blind the collector to its world with absurd numbers:
//! `request:1e308|c` twice would sum to infinity, which JSON cannot carry,
//! and the collector would refuse every report holding it (health and all
//! other series of that second with it) until `AgentSilent` paged. The
//! agent drops the value that would overflow, counts it, and the world's
//! reports keep arriving.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use liveops_telemetry::names;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflowing_values_are_dropped_and_the_world_keeps_reporting() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = collector_config(dir.path(), any_port());
    // A silent agent pages after 2.5 s here (5 s shipped): five seconds of
    // poisoned traffic would page if its reports were lost, and one report
    // a second leaves room for a loaded machine's jitter.
    cfg.no_data_after = Duration::from_millis(2500);
    let collector = start_collector(cfg).await;
    let url = collector.url();
    let agent = start_agent(agent_config(dir.path(), "w1", &url)).await;
    let statsd = agent.bound().statsd_udp.unwrap();
    let agent_url = format!("http://{}", agent.bound().http);
    let sock = UdpSocket::bind(any_port()).unwrap();

    let healthy = b"payment:1|c|#outcome:success\ntick.duration:40|ms";
    let mut payments = 0.0;
    for _ in 0..5 {
        sock.send_to(healthy, statsd).unwrap();
        payments += 1.0;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    expect_events(&url, "w1", "payment_success", payments, WITHIN).await;

    // Every 100 ms for 5 s: the overflowing pair beside ordinary series.
    let poisoned =
        b"request:1e308|c\nrequest:1e308|c\npayment:1|c|#outcome:success\ntick.duration:40|ms";
    let started = Instant::now();
    let mut pairs = 0u64;
    while started.elapsed() < Duration::from_secs(5) {
        sock.send_to(poisoned, statsd).unwrap();
        payments += 1.0;
        pairs += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Every payment of the poisoned seconds was counted: their reports
    // were accepted, not refused.
    expect_events(&url, "w1", "payment_success", payments, WITHIN).await;
    let worlds = try_get_json(&format!("{url}/api/v1/worlds")).await.unwrap();
    let w1 = &worlds["worlds"]["w1"];
    assert_eq!(w1["agent"].as_str(), Some(agent.agent_id()), "{worlds}");
    let seen_ms = w1["last_report_ms"].as_u64().expect("last_report_ms");
    let age = liveops_protocol::time::now_ms().saturating_sub(seen_ms);
    assert!(age < 2500, "the last report is {age} ms old: {worlds}");
    let silent: Vec<_> = pager_log(dir.path())
        .into_iter()
        .filter(|n| n.labels.get("alertname").map(String::as_str) == Some("AgentSilent"))
        .collect();
    assert!(silent.is_empty(), "AgentSilent paged: {silent:?}");

    // The agent says what it dropped: every 1e308 but the first of each
    // report interval, so between one and two per datagram.
    let metrics = get_text(&format!("{agent_url}/metrics")).await;
    let dropped = sample(&metrics, names::AGENT_STATSD_NONFINITE, &[("world", "w1")])
        .expect("non-finite counter");
    assert!(
        dropped >= pairs as f64 && dropped <= 2.0 * pairs as f64,
        "{dropped} non-finite values dropped for {pairs} pairs: {metrics}"
    );
    let rejected = get_text(&format!("{url}/metrics")).await;
    assert!(
        !rejected
            .lines()
            .any(|l| l.starts_with(names::COLLECTOR_REPORTS_REJECTED) && !l.ends_with(" 0")),
        "the collector refused reports: {rejected}"
    );

    agent.stop();
    agent.wait().await.unwrap();
    collector.stop();
    collector.wait().await.unwrap();
}

/// How long the collector gets to show what the agent sent.
const WITHIN: Duration = Duration::from_secs(5);
