//! Restarts lose nothing and page nothing twice:
//!
//! - a collector stopped mid-stream for ~3 s and started again on the same
//!   port and data dir ends up with exactly the events the game sent, and
//!   the agent's spool drains;
//! - an agent stopped with reports spooled (collector down) and started
//!   again on the same data dir keeps its identity and its sequence going
//!   up, so the collector takes every report and drops none as a replay;
//! - a firing alert (TickStalled, and AgentSilent) survives a collector
//!   restart with its `starts_at`, and the pager hears of it once;
//! - a collector that crashes (no shutdown, no checkpoint) after such a
//!   restart still has every report it acknowledged.

use std::time::Duration;

use liveops_agent::Agent;
use liveops_client::Client;
use liveops_client::signal::REQUEST;
use liveops_collector::Collector;
use liveops_protocol::{AlertStatus, Notification};
use serde_json::Value;

use crate::support::*;

const WITHIN: Duration = Duration::from_secs(15);

/// Sends `rounds` × `per_round` requests at one round per 100 ms; one in
/// 50 is an error. Returns how many were sent.
async fn steady(stats: Client, rounds: u32, per_round: u32) -> f64 {
    let mut every = tokio::time::interval(Duration::from_millis(100));
    let mut sent = 0;
    for _ in 0..rounds {
        every.tick().await;
        for _ in 0..per_round {
            let status = if sent % 50 == 49 { "error" } else { "ok" };
            stats.incr(REQUEST, &[("op", "march"), ("status", status)]);
            sent += 1;
        }
    }
    stats.flush();
    f64::from(sent)
}

async fn spooled(agent: &Agent) -> u64 {
    try_get_json(&format!("http://{}/healthz", agent.bound().http))
        .await
        .unwrap()["spooled_reports"]
        .as_u64()
        .expect("spooled_reports")
}

async fn spool_drains(agent: &Agent) {
    eventually(WITHIN, "the agent's spool to drain", || async {
        match spooled(agent).await {
            0 => Ok(()),
            n => Err(format!("{n} reports spooled")),
        }
    })
    .await;
}

async fn stop_collector(c: Collector) {
    c.stop();
    c.wait().await.expect("collector stops cleanly");
}

async fn agent_metric(agent: &Agent, name: &str) -> f64 {
    let text = get_text(&format!("http://{}/metrics", agent.bound().http)).await;
    sample(&text, name, &[("world", "w1")]).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_restarted_mid_stream_loses_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_collector(collector_config(dir.path(), any_port())).await;
    let cfg = collector_config(dir.path(), first.addr());
    let url = first.url();
    let agent = start_agent(agent_config(dir.path(), "w1", &url)).await;
    let stats = Client::udp(agent.bound().statsd_udp.unwrap()).unwrap();

    // 7 s of steady traffic; the collector is away from 2 s to about 5 s.
    let traffic = tokio::spawn(steady(stats, 70, 10));
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_collector(first).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = spooled(&agent).await;
    assert!(
        during >= 2,
        "reports pile up while the collector is away: {during}"
    );
    let second = start_collector(cfg).await;
    let sent = traffic.await.unwrap();

    expect_events(&url, "w1", "error_rate", sent, WITHIN).await;
    let row = slo(&url, "w1", "error_rate").await.unwrap();
    assert!(close(&row["sli"], 0.98), "{row}");
    spool_drains(&agent).await;
    agent.stop();
    agent.wait().await.unwrap();
    stop_collector(second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_restarted_while_the_collector_is_down_delivers_its_spool() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_collector(collector_config(dir.path(), any_port())).await;
    let cfg = collector_config(dir.path(), first.addr());
    let url = first.url();
    let send = |agent: &Agent, n: u32| {
        let stats = Client::udp(agent.bound().statsd_udp.unwrap()).unwrap();
        steady(stats, 1, n)
    };

    let agent = start_agent(agent_config(dir.path(), "w1", &url)).await;
    let id = agent.agent_id().to_owned();
    send(&agent, 100).await;
    expect_events(&url, "w1", "error_rate", 100.0, WITHIN).await;
    stop_collector(first).await;

    send(&agent, 200).await;
    let lines = "liveops_agent_statsd_lines_total";
    eventually(WITHIN, "300 lines ingested", || async {
        let n = agent_metric(&agent, lines).await;
        if n == 300.0 {
            Ok(())
        } else {
            Err(format!("{n} lines"))
        }
    })
    .await;
    // Stopping spools a last report covering everything ingested.
    agent.stop();
    agent.wait().await.unwrap();

    let agent = start_agent(agent_config(dir.path(), "w1", &url)).await;
    assert_eq!(agent.agent_id(), id, "identity survives a restart");
    let kept = spooled(&agent).await;
    assert!(kept >= 1, "the spool survives a restart: {kept}");
    send(&agent, 50).await;
    let second = start_collector(cfg).await;

    expect_events(&url, "w1", "error_rate", 350.0, WITHIN).await;
    spool_drains(&agent).await;
    let text = get_text(&format!("{url}/metrics")).await;
    let replays = sample(&text, "liveops_collector_duplicate_reports_total", &[]);
    assert_eq!(replays, Some(0.0), "no report taken for a replay: {text}");
    agent.stop();
    agent.wait().await.unwrap();
    stop_collector(second).await;
}

/// The active alert `alertname` of `world` from `GET /api/v1/alerts`.
async fn active(url: &str, alertname: &str, world: &str) -> Result<Value, String> {
    let body = try_get_json(&format!("{url}/api/v1/alerts")).await?;
    body["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["labels"]["alertname"] == alertname && a["labels"]["world"] == world)
        .cloned()
        .ok_or_else(|| format!("no {alertname} for {world} in {body}"))
}

fn pages_of(dir: &std::path::Path, alertname: &str, world: &str) -> Vec<Notification> {
    pager_log(dir)
        .into_iter()
        .filter(|n| n.label("alertname") == Some(alertname) && n.label("world") == Some(world))
        .collect()
}

/// Restarts the collector while `alertname` fires for w1, lets the new one
/// evaluate for `settle`, and checks the alert is still the same one and
/// was paged once.
async fn restart_while_firing(
    dir: &std::path::Path,
    first: Collector,
    alertname: &str,
    settle: Duration,
) {
    let url = first.url();
    let before = eventually(WITHIN, alertname, || active(&url, alertname, "w1")).await;
    let cfg = {
        let mut cfg = collector_config(dir, first.addr());
        cfg.no_data_after = first.shared().config().no_data_after;
        cfg
    };
    stop_collector(first).await;
    let second = start_collector(cfg).await;
    // Long enough for a wrongly forgotten alert to resolve and fire again.
    tokio::time::sleep(settle).await;

    let pages = pages_of(dir, alertname, "w1");
    let statuses: Vec<AlertStatus> = pages.iter().map(|n| n.status).collect();
    assert_eq!(statuses, [AlertStatus::Firing], "paged once: {pages:#?}");
    assert_eq!(pages[0].starts_at, before["starts_at"].as_str().unwrap());
    let after = active(&url, alertname, "w1").await.unwrap();
    assert_eq!(after["fingerprint"], before["fingerprint"]);
    assert_eq!(after["starts_at"], before["starts_at"], "{before}\n{after}");
    stop_collector(second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_stall_alert_survives_a_collector_restart_and_pages_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_collector(collector_config(dir.path(), any_port())).await;
    // An agent whose world never ticks: stalled one second after start.
    let agent = start_agent(agent_config(dir.path(), "w1", &first.url())).await;
    restart_while_firing(dir.path(), first, "TickStalled", Duration::from_secs(3)).await;
    agent.stop();
    agent.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_agent_alert_survives_a_collector_restart_and_pages_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = collector_config(dir.path(), any_port());
    cfg.no_data_after = Duration::from_secs(2);
    let first = start_collector(cfg).await;
    let stop = Switch::new();
    let (world, agent) = start_world(dir.path(), "w1", &first.url(), &stop).await;
    eventually(WITHIN, "w1 reported up", || async {
        let worlds = try_get_json(&format!("{}/api/v1/worlds", first.url())).await?;
        match worlds["worlds"]["w1"]["health"]["up"].as_bool() {
            Some(true) => Ok(()),
            _ => Err(worlds.to_string()),
        }
    })
    .await;
    agent.stop();
    agent.wait().await.unwrap();
    restart_while_firing(dir.path(), first, "AgentSilent", Duration::from_secs(4)).await;
    stop.fire();
    world.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_crashes_after_a_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_collector(collector_config(dir.path(), any_port())).await;
    let cfg = collector_config(dir.path(), first.addr());
    let url = first.url();
    let agent = start_agent(agent_config(dir.path(), "w1", &url)).await;
    let stats = Client::udp(agent.bound().statsd_udp.unwrap()).unwrap();

    steady(stats.clone(), 1, 100).await;
    expect_events(&url, "w1", "error_rate", 100.0, WITHIN).await;
    // A clean stop checkpoints and empties the journal.
    stop_collector(first).await;
    let second = start_collector(cfg.clone()).await;
    steady(stats.clone(), 1, 100).await;
    expect_events(&url, "w1", "error_rate", 200.0, WITHIN).await;
    // The agent goes first: in-process, its open connections would keep
    // the crashed collector's state (and its store's lock) alive.
    agent.stop();
    agent.wait().await.unwrap();
    // A crash: no shutdown, no checkpoint; only what is on disk remains,
    // and every acknowledged report is on disk.
    drop(second);
    // State is restored before `start` returns: no waiting.
    let third = start_collector(cfg).await;
    let row = slo(&url, "w1", "error_rate").await.unwrap();
    assert_eq!(row["events"], 200.0, "after a crash following a restart");
    stop_collector(third).await;
}
