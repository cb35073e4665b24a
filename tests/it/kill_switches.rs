//! A mitigation reaches the game: the collector pushes `pause-payments` to
//! the world's agent, the simulated world reads it through the Rust flag
//! client and stops taking payments, and the payment SLO stops counting
//! attempts while the rest of the world carries on. Reverting restores it.

use std::time::Duration;

use liveops_client::Target;
use liveops_simworld::{World, WorldConfig};
use serde_json::{Value, json};

use crate::support::*;

/// Long enough for the last reports sent before the switch to land.
const SETTLE: Duration = Duration::from_millis(2500);

async fn events(collector: &str, slo_name: &str) -> f64 {
    slo(collector, "w1", slo_name)
        .await
        .ok()
        .and_then(|v| v["events"].as_f64())
        .unwrap_or(0.0)
}

async fn post(url: &str, body: Value) -> Value {
    let resp = http()
        .post(url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_payments_stops_the_worlds_payments_until_reverted() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let c = collector.url();
    let flags = dir.path().join("flags.toml");
    std::fs::write(&flags, liveops_config::DEFAULT_FLAGS_TOML).unwrap();

    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let mut acfg = agent_config(dir.path(), "w1", &c);
    acfg.game = Some(format!("http://{}", listener.local_addr().unwrap()));
    acfg.flags.file = Some(flags);
    let agent = start_agent(acfg).await;
    let mut wcfg = WorldConfig::new("w1", Target::Udp(agent.bound().statsd_udp.unwrap()));
    wcfg.flags = Some(format!("http://{}", agent.bound().http));
    let stop = Switch::new();
    let world = World::start(wcfg, listener, stop.signal()).await.unwrap();

    eventually(Duration::from_secs(15), "payments counted", || async {
        let n = events(&c, "payment_success").await;
        (n >= 20.0).then_some(()).ok_or(format!("{n} payments"))
    })
    .await;

    let m = post(
        &format!("{c}/api/v1/mitigations"),
        json!({"name": "pause-payments", "world": "w1", "reason": "provider outage"}),
    )
    .await;
    tokio::time::sleep(SETTLE).await;
    let (payments, requests) = (
        events(&c, "payment_success").await,
        events(&c, "error_rate").await,
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    // About 30 payments would have come in those 3 s; none did, while
    // players kept playing.
    assert_eq!(
        events(&c, "payment_success").await,
        payments,
        "no payment while paused"
    );
    assert!(
        events(&c, "error_rate").await > requests + 50.0,
        "the world keeps serving requests"
    );

    let id = m["id"].as_str().unwrap();
    post(
        &format!("{c}/api/v1/mitigations/{id}/revert"),
        json!({"reason": "provider back"}),
    )
    .await;
    eventually(Duration::from_secs(10), "payments again", || async {
        let n = events(&c, "payment_success").await;
        (n >= payments + 10.0)
            .then_some(())
            .ok_or(format!("{n} payments"))
    })
    .await;

    stop.fire();
    world.stopped().await;
}
