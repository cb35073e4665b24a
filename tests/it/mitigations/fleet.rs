//! The push target: `liveops mitigate --fleet` reaches all of 100 agents'
//! override streams with p99 ≤ 1 s (measured from the API call to each
//! stream's event; in-process collector, loopback).

use std::time::{Duration, Instant};

use serde_json::json;

use super::harness::*;

const SOON: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fleet_mitigation_reaches_a_hundred_agents_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let mut streams = Vec::new();
    for i in 0..100 {
        let mut s = Stream::open(&c.url(), &format!("w{i}"), AGENT).await;
        s.next(SOON).await;
        streams.push(s);
    }
    let started = Instant::now();
    let waits = streams.into_iter().map(|mut s| {
        tokio::spawn(async move {
            let set = s.next(SOON).await;
            assert_eq!(summary(&set).len(), 2);
            started.elapsed()
        })
    });
    let waits: Vec<_> = waits.collect();
    let body = json!({"name": "freeze-attacks", "fleet": true, "reason": "load test"});
    ok(
        "POST",
        &format!("{}/api/v1/mitigations", c.url()),
        RESPONDER,
        Some(body),
    )
    .await;
    let mut took = Vec::new();
    for w in waits {
        took.push(w.await.unwrap());
    }
    took.sort();
    let p99 = took[98];
    eprintln!(
        "fleet mitigation to 100 streams: p50 {:?}, p99 {p99:?}",
        took[49]
    );
    assert!(p99 <= Duration::from_secs(1), "p99 {p99:?}");
    stop(c).await;
}
