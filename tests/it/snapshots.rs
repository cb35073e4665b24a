//! Snapshots as an operator takes them: the `liveops` binary → the
//! collector → the world's agent over its command stream → the simulated
//! world's state contract, and back; audited where it writes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use liveops_client::Target;
use liveops_simworld::{Fault, World, WorldConfig};
use serde_json::{Value, json};

use crate::support::{
    ADMIN_TOKEN, Switch, VIEWER_TOKEN, agent_config, any_port, collector_config, eventually, http,
    liveops_bin, run, start_agent, start_collector,
};

/// A world whose state changes only under a fault (no churn), with its agent.
pub(crate) async fn frozen_world(
    dir: &Path,
    name: &str,
    collector: &str,
    stop: &Switch,
) -> (World, liveops_agent::Agent) {
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let mut cfg = agent_config(dir, name, collector);
    cfg.game = Some(format!("http://{}", listener.local_addr().unwrap()));
    // Only the snapshots this test takes (no first one at start).
    cfg.snapshots.every = None;
    let agent = start_agent(cfg).await;
    let statsd = agent.bound().statsd_udp.expect("UDP listener");
    let mut wc = WorldConfig::new(name, Target::Udp(statsd));
    wc.players = 200;
    wc.state_players = 500;
    wc.state_churn = 0;
    let world = World::start(wc, listener, stop.signal())
        .await
        .expect("world starts");
    (world, agent)
}

pub(crate) async fn liveops(
    dir: &Path,
    collector: &str,
    token: &str,
    args: &[&str],
) -> (bool, String, String) {
    let mut cmd = Command::new(liveops_bin());
    cmd.args(args)
        .args(["--collector", collector])
        .env("LIVEOPS_TOKEN", token);
    let out = run(cmd, Duration::from_secs(60), dir).await;
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// Multi-threaded: the agent, collector and world in this process must
// keep serving while the machine is loaded by other tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn take_exploit_and_diff_show_exactly_the_suspects_villages_at_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let stop = Switch::new();
    let (world, _agent) = frozen_world(dir.path(), "w1", &url, &stop).await;

    // The agent's command stream is up once a list answers.
    let list = eventually(
        Duration::from_secs(30),
        "the agent answers commands",
        || async {
            let (ok, out, err) = liveops(
                dir.path(),
                &url,
                VIEWER_TOKEN,
                &["snapshot", "list", "--world", "w1"],
            )
            .await;
            if ok { Ok(out) } else { Err(err) }
        },
    )
    .await;
    assert!(list.contains("w1 has no snapshots yet"), "{list}");

    let (ok, _, err) = liveops(
        dir.path(),
        &url,
        VIEWER_TOKEN,
        &["snapshot", "take", "--world", "w1"],
    )
    .await;
    assert!(
        !ok && err.contains("this needs role `responder`"),
        "a viewer cannot take one: {err}"
    );
    let (ok, out, err) = liveops(
        dir.path(),
        &url,
        ADMIN_TOKEN,
        &[
            "snapshot",
            "take",
            "--world",
            "w1",
            "--label",
            "before-exploit",
            "--reason",
            "drill",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.starts_with("s-1 of w1: 2000 entities"), "{out}");

    let suspect = world.exploit_suspect().expect("a suspect");
    world.set_fault(Some(Fault::Exploit));
    let ticks = world.ticks();
    eventually(
        Duration::from_secs(30),
        "the exploit runs a few ticks",
        || async {
            if world.ticks() > ticks + 5 {
                Ok(())
            } else {
                Err("no ticks".to_string())
            }
        },
    )
    .await;
    world.set_fault(None);

    let (ok, out, err) = liveops(
        dir.path(),
        &url,
        VIEWER_TOKEN,
        &[
            "snapshot",
            "diff",
            "before-exploit",
            "live",
            "--world",
            "w1",
            "--json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let owners: Vec<&str> = report["largest"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|d| d["owner"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(owners, [suspect.as_str(), suspect.as_str()], "{report:#}");
    assert_eq!(report["from"], "s-1");
    assert_eq!(report["to"], "live");

    let (ok, out, err) = liveops(
        dir.path(),
        &url,
        VIEWER_TOKEN,
        &[
            "snapshot", "diff", "s-1", "--world", "w1", "--owner", &suspect,
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("largest numeric changes:") && out.contains("data.resources.gold"),
        "{out}"
    );

    let (ok, out, err) = liveops(
        dir.path(),
        &url,
        VIEWER_TOKEN,
        &["snapshot", "verify", "--world", "w1"],
    )
    .await;
    assert!(
        ok && out.contains("s-1") && out.contains("ok"),
        "{out}{err}"
    );

    // The take is in the audit log twice: the request and its outcome.
    let audit = crate::support::audit_entries(&url, VIEWER_TOKEN).await;
    let actions: Vec<&str> = audit
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| *a == "snapshot-take" || *a == "command-result")
        .collect();
    assert_eq!(actions, ["snapshot-take", "command-result"], "{audit:#?}");
    stop.fire();
}

#[tokio::test]
async fn a_world_without_an_agent_and_bad_requests_get_clear_answers() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let post = |world: &str, body: Value, token: &str| {
        http()
            .post(format!("{url}/api/v1/worlds/{world}/commands"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let r = post("w9", json!({"op": "snapshot-list"}), VIEWER_TOKEN)
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "no agent of world w9 is connected to the collector"
    );
    let r = post("w9", json!({"op": "snapshot-take"}), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a take needs a reason");
    let r = post("w9", json!({"op": "format-disk"}), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post("eu 1", json!({"op": "snapshot-list"}), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http()
        .post(format!("{url}/api/v1/agent/commands/c-1-0/result?world=w9"))
        .bearer_auth(crate::support::AGENT_TOKEN)
        .json(&json!({"status": 200, "body": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "nobody waits for that outcome");
}

fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The `liveops-agent` binary for `w1`, its snapshots under `data`.
fn agent_process(bin: &Path, collector: &str, game: &str, data: &Path) -> std::process::Child {
    Command::new(bin.join("liveops-agent"))
        .args(["--world", "w1", "--collector", collector, "--game", game])
        .args([
            "--statsd-udp",
            &free_port().to_string(),
            "--http",
            &free_port().to_string(),
        ])
        .arg("--data-dir")
        .arg(data)
        .env("LIVEOPS_AGENT_TOKEN", crate::support::AGENT_TOKEN)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("starting liveops-agent")
}

async fn command(collector: &str, op: &str, reason: Option<&str>) -> Result<Value, String> {
    let r = http()
        .post(format!("{collector}/api/v1/worlds/w1/commands"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"op": op, "reason": reason}))
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body: Value = r.json().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{status}: {body}"))
    }
}

#[tokio::test]
async fn an_agent_killed_during_snapshots_keeps_every_completed_one() {
    let bin = crate::support::built(&["liveops-agent"]);
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let stop = Switch::new();
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let game = format!("http://{}", listener.local_addr().unwrap());
    let mut wc = WorldConfig::new("w1", Target::Udp(free_port()));
    // 120,000 entities, a few changing every tick: each snapshot differs.
    wc.state_players = 30_000;
    wc.state_churn = 20;
    let _world = World::start(wc, listener, stop.signal())
        .await
        .expect("world starts");
    let data = dir.path().join("agent");

    let mut completed: Vec<String> = Vec::new();
    for round in 0..8u64 {
        let mut agent = agent_process(&bin, &url, &game, &data);
        eventually(
            Duration::from_secs(30),
            "the agent answers commands",
            || command(&url, "snapshot-list", None),
        )
        .await;
        let take = tokio::spawn({
            let url = url.clone();
            async move { command(&url, "snapshot-take", Some("kill loop")).await }
        });
        // Kill at a different point of the snapshot each round; some rounds
        // let it finish first.
        tokio::time::sleep(Duration::from_millis(150 + round * 250)).await;
        agent.kill().expect("SIGKILL the agent");
        agent.wait().unwrap();
        if let Ok(Ok(meta)) = take.await {
            completed.push(meta["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let mut agent = agent_process(&bin, &url, &game, &data);
    eventually(Duration::from_secs(30), "the agent answers again", || {
        command(&url, "snapshot-list", None)
    })
    .await;
    let last = command(&url, "snapshot-take", Some("after the loop"))
        .await
        .unwrap();
    completed.push(last["id"].as_str().unwrap_or_default().to_owned());

    let listed = command(&url, "snapshot-list", None).await.unwrap();
    let ids: Vec<&str> = listed["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    for id in &completed {
        assert!(
            ids.contains(&id.as_str()),
            "{id} was acknowledged and then lost: {ids:?}"
        );
    }
    assert!(
        listed["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["complete"] == true)
    );
    let verified = command(&url, "snapshot-verify", None).await.unwrap();
    for v in verified["snapshots"].as_array().unwrap() {
        assert_eq!(v["problems"], json!([]), "{v}");
        assert_eq!(v["entities"], 120_000, "{v}");
    }
    agent.kill().unwrap();
    agent.wait().unwrap();
    stop.fire();
}
