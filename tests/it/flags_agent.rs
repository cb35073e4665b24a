//! The agent's flag runtime as a game and an operator meet it: a flag file
//! saved in place, by an editor's rename or by a ConfigMap symlink swap is
//! served over OFREP within two seconds; a broken file never breaks the
//! game (last good flags kept, error shown in `/healthz` and `/metrics`,
//! recovery on the next good save, fail-safe values if it was never
//! valid); restarts keep the last good flags and the operator overrides;
//! OFREP errors, ETags and the change stream follow their contract; and
//! the collector's override stream is applied and resynced after the
//! collector restarts.

mod fake_collector;
mod files;
mod ofrep;
mod symlinks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use liveops_agent::Agent;
use serde_json::{Value, json};

use crate::support::*;
use fake_collector::{FakeCollector, Shared};
use files::*;

/// What "within a save" means for a game: the brief says two seconds.
const SEEN_WITHIN: Duration = Duration::from_secs(2);

async fn start_with_flags(dir: &Path, world: &str, file: &Path, collector: &str) -> Agent {
    let mut cfg = agent_config(dir, world, collector);
    cfg.flags.file = Some(file.to_owned());
    start_agent(cfg).await
}

fn base(agent: &Agent) -> String {
    format!("http://{}", agent.bound().http)
}

/// A collector address nothing listens on.
fn nowhere() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

fn flag_dir(dir: &Path) -> PathBuf {
    let d = dir.join("flags");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `POST /ofrep/v1/evaluate/flags/{key}` → (status, body).
pub async fn ofrep_eval(base: &str, key: &str, body: &str) -> (u16, Value) {
    let resp = http()
        .post(format!("{base}/ofrep/v1/evaluate/flags/{key}"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("OFREP request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Polls until `key` for `ctx` evaluates to `want` (value, variant).
async fn expect_value(base: &str, key: &str, ctx: Value, want: Value, variant: &str) {
    let body = json!({ "context": ctx }).to_string();
    eventually(
        SEEN_WITHIN,
        &format!("{key} = {want} ({variant})"),
        || async {
            let (status, got) = ofrep_eval(base, key, &body).await;
            (status == 200 && got["value"] == want && got["variant"] == variant)
                .then_some(())
                .ok_or(format!("{status} {got}"))
        },
    )
    .await
}

async fn healthz_flags(base: &str) -> Value {
    try_get_json(&format!("{base}/healthz")).await.unwrap()["flags"].clone()
}

async fn metric(base: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    sample(&get_text(&format!("{base}/metrics")).await, name, labels)
}

#[tokio::test]
async fn in_place_edits_renames_and_configmap_swaps_are_served_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let agent = start_with_flags(dir.path(), "hr1", &path, &nowhere()).await;
    let url = base(&agent);
    expect_value(&url, "combat.attacks", json!({}), json!(true), "default").await;

    std::fs::write(&path, flags_toml(false, 5)).unwrap();
    expect_value(&url, "combat.attacks", json!({}), json!(false), "default").await;
    rename_over(&path, &flags_toml(false, 6));
    expect_value(&url, "market.fee", json!({}), json!(6), "default").await;
    rename_over(&path, &flags_toml(false, 7));
    expect_value(&url, "market.fee", json!({}), json!(7), "default").await;

    let mut cm = ConfigMap::new(&dir.path().join("configmap"), &flags_toml(true, 5));
    let cm_agent = start_with_flags(dir.path(), "hr2", &cm.file(), &nowhere()).await;
    let cm_url = base(&cm_agent);
    expect_value(&cm_url, "market.fee", json!({}), json!(5), "default").await;
    for fee in [11, 12] {
        cm.update(&flags_toml(true, fee));
        expect_value(&cm_url, "market.fee", json!({}), json!(fee), "default").await;
    }
    let status = healthz_flags(&cm_url).await;
    assert_eq!(status["state"], "ok", "{status}");
    for a in [agent, cm_agent] {
        a.stop();
        a.wait().await.unwrap();
    }
}

#[tokio::test]
async fn a_broken_file_keeps_the_last_good_flags_shows_why_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let shared = Shared::new(json!({ "version": 0, "overrides": [] }));
    let collector = FakeCollector::start(any_port(), shared.clone()).await;
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let agent = start_with_flags(dir.path(), "bad1", &path, &collector.url()).await;
    let url = base(&agent);
    let valid = "liveops_agent_flags_file_valid";
    assert_eq!(metric(&url, valid, &[("world", "bad1")]).await, Some(1.0));

    let (text, line, col) = broken_toml();
    rename_over(&path, &text);
    let want = format!("{}:{line}:{col}: ", path.display());
    let status = eventually(SEEN_WITHIN, "the error in /healthz", || async {
        let f = healthz_flags(&url).await;
        (f["state"] == "error")
            .then_some(f.clone())
            .ok_or(f.to_string())
    })
    .await;
    let error = status["last_error"].as_str().unwrap();
    assert!(error.starts_with(&want), "{error} should start with {want}");
    assert_eq!(status["file"], path.display().to_string());
    expect_value(&url, "market.fee", json!({}), json!(5), "default").await;
    assert_eq!(metric(&url, valid, &[("world", "bad1")]).await, Some(0.0));
    let rejected = [("world", "bad1"), ("outcome", "rejected")];
    let reloads = "liveops_agent_flags_reloads_total";
    assert!(metric(&url, reloads, &rejected).await >= Some(1.0));

    for (broken, why) in [("", "the file is empty"), ("-", "cannot read")] {
        if broken == "-" {
            std::fs::remove_file(&path).unwrap();
        } else {
            std::fs::write(&path, broken).unwrap();
        }
        eventually(SEEN_WITHIN, why, || async {
            let f = healthz_flags(&url).await;
            let e = f["last_error"].as_str().unwrap_or("").to_owned();
            e.contains(why).then_some(()).ok_or(e)
        })
        .await;
        expect_value(&url, "market.fee", json!({}), json!(5), "default").await;
    }

    rename_over(&path, &flags_toml(true, 9));
    expect_value(&url, "market.fee", json!({}), json!(9), "default").await;
    let status = healthz_flags(&url).await;
    assert_eq!(status["state"], "ok", "{status}");
    assert!(status.get("last_error").is_none(), "{status}");
    assert_eq!(metric(&url, valid, &[("world", "bad1")]).await, Some(1.0));

    // Every reload reaches the collector in the reports, for its audit log.
    eventually(Duration::from_secs(5), "reloads in reports", || async {
        let got = shared.reloads.lock().unwrap().clone();
        let refused = got
            .iter()
            .any(|r| !r.applied && r.error.as_deref().is_some_and(|e| e.starts_with(&want)));
        let fixed = got.iter().any(|r| {
            r.applied
                && r.changes.iter().any(|c| {
                    c.flag == "market.fee"
                        && c.before.as_deref() == Some("default=5, enabled, no rules")
                        && c.after.as_deref() == Some("default=9, enabled, no rules")
                })
        });
        (refused && fixed).then_some(()).ok_or(format!("{got:?}"))
    })
    .await;
    agent.stop();
    agent.wait().await.unwrap();
    collector.stop().await;
}

#[tokio::test]
async fn a_file_never_valid_serves_fail_safe_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, half_valid_toml()).unwrap();
    let agent = start_with_flags(dir.path(), "fs1", &path, &nowhere()).await;
    let url = base(&agent);
    let (status, body) = ofrep_eval(&url, "combat.attacks", "{}").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], false, "{body}");
    assert_eq!(body["variant"], "fail-safe");
    let (status, body) = ofrep_eval(&url, "market.fee", "{}").await;
    assert_eq!((status, &body["errorCode"]), (400, &json!("PARSE_ERROR")));
    assert!(
        body["errorDetails"]
            .as_str()
            .unwrap()
            .contains("flags.toml:"),
        "{body}"
    );
    assert_eq!(healthz_flags(&url).await["state"], "fail_safe");
    let valid = metric(&url, "liveops_agent_flags_file_valid", &[("world", "fs1")]).await;
    assert_eq!(valid, Some(0.0));

    rename_over(&path, &flags_toml(true, 5));
    expect_value(&url, "combat.attacks", json!({}), json!(true), "default").await;
    expect_value(&url, "market.fee", json!({}), json!(5), "default").await;
    agent.stop();
    agent.wait().await.unwrap();
}

fn override_set(version: u64, overrides: Value) -> Value {
    json!({ "version": version, "overrides": overrides })
}

fn an_override(id: &str, flag: &str, scope: Value, value: Value, expires: Option<u64>) -> Value {
    let mut o = json!({
        "id": id, "flag": flag, "scope": scope, "value": value,
        "reason": "incident 12", "actor": "it-admin", "created": liveops_agent::report::now_ms(),
    });
    if let Some(t) = expires {
        o["expires"] = json!(t);
    }
    o
}

#[tokio::test]
async fn a_restart_keeps_the_last_good_flags_and_the_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let player42 = json!({ "kind": "player", "id": "42" });
    let o1 = an_override("o-1", "combat.attacks", player42, json!(false), None);
    let shared = Shared::new(override_set(1, json!([o1])));
    let collector = FakeCollector::start(any_port(), shared.clone()).await;
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let agent = start_with_flags(dir.path(), "rs1", &path, &collector.url()).await;
    let url = base(&agent);
    let p42 = json!({ "player": 42 });
    expect_value(
        &url,
        "combat.attacks",
        p42.clone(),
        json!(false),
        "override-o-1",
    )
    .await;
    assert_eq!(shared.subscribers.lock().unwrap()[0], "world=rs1");
    agent.stop();
    agent.wait().await.unwrap();
    collector.stop().await;

    rename_over(&path, &broken_toml().0);
    let agent = start_with_flags(dir.path(), "rs1", &path, &nowhere()).await;
    let url = base(&agent);
    expect_value(&url, "combat.attacks", p42, json!(false), "override-o-1").await;
    expect_value(&url, "combat.attacks", json!({}), json!(true), "default").await;
    expect_value(&url, "market.fee", json!({}), json!(5), "default").await;
    let status = healthz_flags(&url).await;
    assert_eq!(status["state"], "error", "{status}");
    assert_eq!(status["overrides"], 1, "{status}");
    agent.stop();
    agent.wait().await.unwrap();
}

#[tokio::test]
async fn the_override_stream_is_applied_and_resynced_after_the_collector_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let player42 = json!({ "kind": "player", "id": "42" });
    let o1 = an_override("o-1", "combat.attacks", player42, json!(false), None);
    let shared = Shared::new(override_set(1, json!([o1])));
    let collector = FakeCollector::start(any_port(), shared.clone()).await;
    let addr = collector.addr;
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let agent = start_with_flags(dir.path(), "os1", &path, &collector.url()).await;
    let url = base(&agent);
    let p42 = json!({ "player": "42" });
    expect_value(
        &url,
        "combat.attacks",
        p42.clone(),
        json!(false),
        "override-o-1",
    )
    .await;
    let connected = "liveops_agent_flags_override_stream_connected";
    assert_eq!(
        metric(&url, connected, &[("world", "os1")]).await,
        Some(1.0)
    );

    // A pushed set replaces the old one whole; its expiry is kept locally.
    let soon = liveops_agent::report::now_ms() + 1_500;
    let fleet = json!({ "kind": "fleet" });
    let o2 = an_override("o-2", "market.fee", fleet, json!(1), Some(soon));
    shared.overrides.send_replace(override_set(2, json!([o2])));
    expect_value(&url, "market.fee", json!({}), json!(1), "override-o-2").await;
    expect_value(&url, "combat.attacks", p42.clone(), json!(true), "default").await;
    let before = healthz_flags(&url).await["version"].clone();
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    expect_value(&url, "market.fee", json!({}), json!(5), "default").await;
    let after = healthz_flags(&url).await["version"].clone();
    assert_ne!(before, after, "an expiry moves the snapshot version");

    collector.stop().await;
    eventually(SEEN_WITHIN, "the stream seen down", || async {
        let up = metric(&url, connected, &[("world", "os1")]).await;
        (up == Some(0.0)).then_some(()).ok_or(format!("{up:?}"))
    })
    .await;
    let world = json!({ "kind": "world", "id": "os1" });
    let o3 = an_override("o-3", "combat.attacks", world, json!(false), None);
    shared.overrides.send_replace(override_set(3, json!([o3])));
    let collector = FakeCollector::start(addr, shared.clone()).await;
    let resync = Duration::from_secs(8);
    eventually(resync, "resync after the collector restart", || async {
        let (_, body) = ofrep_eval(&url, "combat.attacks", "{}").await;
        (body["variant"] == "override-o-3")
            .then_some(())
            .ok_or(body.to_string())
    })
    .await;
    assert_eq!(shared.subscribers.lock().unwrap().len(), 2);
    agent.stop();
    agent.wait().await.unwrap();
    collector.stop().await;
}
