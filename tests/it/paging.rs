//! Paging end to end: a collector with a paging policy and two webhook
//! channels pointing at receivers in this test, real worlds and agents or
//! reports posted as an agent does, and the real `liveops` CLI.
//!
//! - a world going down (`Fault::Down`: ticks stop, then the probe fails)
//!   is **one** page, not a TickStalled and a WorldDown page; `liveops
//!   pages --json` shows who was notified through which channel; `liveops
//!   ack` stops it and the channel hears the acknowledgement; the audit log
//!   has every decision;
//! - a primary channel that answers 500 hands the page to the fallback;
//! - a silenced world's alert is visible in `/api/v1/alerts` as silenced
//!   and pages no one;
//! - an Alertmanager webhook (payload version 4) pages through the same
//!   policy, its broken alerts refused by index;
//! - at a handoff the incoming person hears what is firing (`handoff.rs`,
//!   under the pager's hand-moved clock).

mod alertmanager;
pub mod handoff;
mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use liveops_simworld::Fault;
use serde_json::{Value, json};

use crate::support::*;
use harness::{Paging, triggers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_going_down_is_one_page_that_ack_stops_and_the_audit_log_keeps() {
    let p = Paging::start(false).await;
    let stop = Switch::new();
    let (world, agent) = start_world(p.dir.path(), "w2", &p.url(), &stop).await;
    eventually(Duration::from_secs(10), "w2 reported up", || async {
        let body = try_get_json(&format!("{}/api/v1/worlds", p.url())).await?;
        (body["worlds"]["w2"]["health"]["up"] == true)
            .then_some(())
            .ok_or(body.to_string())
    })
    .await;

    let set = Instant::now();
    world.set_fault(Some(Fault::Down));
    let first = eventually(
        Duration::from_secs(10),
        "a page at the primary channel",
        || async {
            triggers(&p.primary)
                .into_iter()
                .next()
                .ok_or("none yet".to_owned())
        },
    )
    .await;
    eprintln!(
        "world down → first page at the primary channel: {:.2} s",
        set.elapsed().as_secs_f64()
    );
    // The page's facts beside the alert's own fields, as every webhook gets them.
    assert_eq!(
        (first["pageId"].as_str(), first["team"].as_str()),
        (Some("p-1"), Some("ops"))
    );
    assert_eq!(first["severity"], "SEV1");
    assert!(
        first["pageUrl"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/pages/p-1"),
        "{first}"
    );
    let a = &first["annotations"];
    assert!(
        a["runbook_url"]
            .as_str()
            .unwrap()
            .ends_with("/runbooks/uptime"),
        "{a}"
    );
    for k in ["summary", "owner"] {
        assert!(a[k].as_str().is_some_and(|v| !v.is_empty()), "{k}: {a}");
    }
    // TickStalled and WorldDown both fire within a few seconds: still one page.
    eventually(
        Duration::from_secs(10),
        "WorldDown to join the page",
        || async {
            let page = p.api("/api/v1/pages/p-1").await;
            let names: Vec<String> = page["alerts"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, a)| {
                    a["notification"]["labels"]["alertname"]
                        .as_str()
                        .map(String::from)
                })
                .collect();
            names
                .iter()
                .any(|n| n == "WorldDown")
                .then_some(())
                .ok_or(format!("{names:?}"))
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pages = p.cli(&["pages", "--json"]).await;
    let pages = pages["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "one page, not one per symptom: {pages:#?}");
    assert_eq!(triggers(&p.primary).len(), 1, "{:#?}", triggers(&p.primary));
    let sent = &pages[0]["sent"][0];
    assert_eq!(
        (sent["channel"].as_str(), sent["outcome"].as_str()),
        (Some("primary"), Some("delivered"))
    );
    assert_eq!(sent["action"], "trigger");

    let acked = p
        .cli_text(&["ack", "p-1", "--reason", "looking at w2"])
        .await;
    assert!(acked.contains("acknowledged by it-admin"), "{acked}");
    let page = p.api("/api/v1/pages/p-1").await;
    assert_eq!(page["state"], "acked");
    assert_eq!(page["due_ms"], Value::Null, "no more escalation: {page:#}");
    eventually(
        Duration::from_secs(5),
        "the acknowledgement at the channel",
        || async {
            let acks = p
                .primary
                .bodies()
                .into_iter()
                .filter(|b| b["action"] == "acknowledge")
                .count();
            (acks == 1).then_some(()).ok_or(format!("{acks} acks"))
        },
    )
    .await;
    // Every decision is in the audit log, by the pager or by the operator.
    let audit = p.cli_text(&["audit", "list"]).await;
    for want in [
        "pager (collector) page p-1 opened",
        "page p-1 paged",
        "it-admin (admin) page p-1 acked",
        "looking at w2",
    ] {
        assert!(audit.contains(want), "`{want}` not in:\n{audit}");
    }
    // The page opened an incident, and its timeline followed the page.
    let inc = eventually(
        Duration::from_secs(5),
        "the incident to hear the acknowledgement",
        || async {
            let inc = p.cli(&["incident", "show", "INC-1", "--json"]).await;
            let events: Vec<String> = inc["timeline"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["kind"].as_str().unwrap_or(""),
                        e["event"].as_str().unwrap_or("")
                    )
                })
                .collect();
            events
                .iter()
                .any(|e| e == "signal/acked")
                .then_some(inc.clone())
                .ok_or(format!("{events:?}"))
        },
    )
    .await;
    assert_eq!(inc["worlds"], json!(["w2"]), "{inc:#}");
    assert_eq!(inc["team"], "ops");
    assert_eq!(inc["pages"], json!([1]));
    assert_eq!(inc["timeline"][0]["kind"], "opened");
    assert_eq!(inc["timeline"][1]["kind"], "page");
    // Its severity is computed from the players it affects: w2 holds the
    // whole fleet's players, so SEV1, with the figures on the incident.
    let inc = eventually(Duration::from_secs(10), "INC-1 rated", || async {
        let inc = p.cli(&["incident", "show", "INC-1", "--json"]).await;
        (inc["severity"]["computed"] == "SEV1")
            .then_some(inc.clone())
            .ok_or(format!("{:#}", inc["severity"]))
    })
    .await;
    let now = &inc["impact"]["now"];
    assert_eq!(now["affected"], json!(["w2"]), "{inc:#}");
    assert_eq!(now["players_share"], 1.0, "{inc:#}");
    assert!(now["players"].as_f64().unwrap() > 0.0, "{inc:#}");
    let r = &inc["response"];
    let detect = r["detect_seconds"].as_f64().expect("detected");
    assert!((0.0..10.0).contains(&detect), "{r:#}");
    assert!(r["acknowledge_seconds"].as_f64().is_some(), "{r:#}");
    let shown = p.cli_text(&["incident", "show", "INC-1"]).await;
    assert!(shown.contains("impact: affected w2 (down"), "{shown}");
    assert!(shown.contains("response: detect "), "{shown}");
    let incidents = p.cli(&["incident", "list", "--json"]).await;
    assert_eq!(
        incidents["incidents"].as_array().map(Vec::len),
        Some(1),
        "{incidents}"
    );
    let metrics = get_text(&format!("{}/metrics", p.url())).await;
    let paged = sample(
        &metrics,
        "liveops_collector_pages_total",
        &[("severity", "SEV1"), ("event", "paged")],
    );
    assert_eq!(paged, Some(1.0), "{metrics}");
    assert_eq!(
        sample(&metrics, "liveops_collector_pages_open", &[]),
        Some(1.0)
    );
    for phase in ["detect", "acknowledge"] {
        assert_eq!(
            sample(
                &metrics,
                "liveops_collector_incident_response_seconds_count",
                &[("phase", phase)]
            ),
            Some(1.0),
            "{phase}: {metrics}"
        );
    }

    stop.fire();
    world.stopped().await;
    agent.stop();
    agent.wait().await.unwrap();
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_channel_falls_back_a_silence_holds_and_alertmanager_pages() {
    let p = Paging::start(true).await;

    // The primary receiver answers 500: its retries give up, the fallback
    // channel of the step carries the page.
    p.report_down("agent-w9", "w9").await;
    let page = eventually(
        Duration::from_secs(10),
        "the page at the fallback channel",
        || async {
            triggers(&p.fallback)
                .into_iter()
                .next()
                .ok_or("none yet".to_owned())
        },
    )
    .await;
    assert_eq!(page["labels"]["world"], "w9");
    assert_eq!(
        p.primary.bodies().len(),
        2,
        "two attempts at the failing channel"
    );
    let want = [("primary", "failed"), ("fallback", "delivered")];
    eventually(Duration::from_secs(5), "both outcomes recorded", || async {
        let sent = p.api("/api/v1/pages/p-1").await["sent"].clone();
        let outcomes: Vec<(String, String)> = sent
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["channel"].as_str().unwrap_or("").into(),
                    s["outcome"].as_str().unwrap_or("").into(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(c, o)| (c.to_string(), o.to_string()))
            .collect();
        (outcomes == want)
            .then_some(())
            .ok_or(format!("{outcomes:?}"))
    })
    .await;

    // A silenced world: the alert is there, marked silenced, and no page.
    let added = p
        .cli_text(&[
            "silence",
            "add",
            "--match",
            "world=w8",
            "--for",
            "1h",
            "--reason",
            "load test",
        ])
        .await;
    assert!(added.starts_with("s-1 world=w8 until"), "{added}");
    p.report_down("agent-w8", "w8").await;
    let alert = eventually(
        Duration::from_secs(10),
        "WorldDown for w8 silenced in /api/v1/alerts",
        || async {
            let body = try_get_json(&format!("{}/api/v1/alerts", p.url())).await?;
            body["alerts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["labels"]["world"] == "w8" && a["silenced"] == true)
                .cloned()
                .ok_or(body.to_string())
        },
    )
    .await;
    assert_eq!(alert["suppressed"]["id"], "s-1", "{alert:#}");

    // Alertmanager's webhook: the good alert pages, the bad one is named.
    let payload = json!({
        "version": "4", "status": "firing", "receiver": "liveops", "groupKey": "{}:{}",
        "externalURL": "http://alertmanager.test",
        "alerts": [
            {"status": "firing", "labels": {"alertname": "WorldDown", "world": "w7"},
             "annotations": {"summary": "w7 is down (from Prometheus)"},
             "startsAt": "2026-12-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
             "generatorURL": "http://prometheus.test/graph", "fingerprint": "c0ffee"},
            {"status": "firing", "labels": {"world": "w7"}, "startsAt": "2026-12-01T10:00:00Z"}
        ]
    });
    let resp = http()
        .post(format!("{}/api/v1/alertmanager", p.url()))
        .bearer_auth(AGENT_TOKEN)
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ack: Value = resp.json().await.unwrap();
    assert_eq!(ack["accepted"], 1, "{ack}");
    assert_eq!(ack["refused"][0]["index"], 1, "{ack}");
    let unauthenticated = http()
        .post(format!("{}/api/v1/alertmanager", p.url()))
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    eventually(
        Duration::from_secs(10),
        "the Alertmanager alert paged",
        || async {
            triggers(&p.fallback)
                .into_iter()
                .find(|b| b["labels"]["world"] == "w7")
                .map(|b| assert_eq!(b["severity"], "SEV1"))
                .ok_or("not yet".to_owned())
        },
    )
    .await;
    let pages = p.cli(&["pages", "--json"]).await;
    let worlds: Vec<&str> = pages["pages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["world"].as_str())
        .collect();
    // The failing primary channel raised NotifierFailing (world `fleet`),
    // which is paged like any other alert, through the fallback.
    assert_eq!(worlds, ["w7", "fleet", "w9"], "w8 is silenced: {pages:#}");
    assert!(
        !triggers(&p.fallback)
            .iter()
            .any(|b| b["labels"]["world"] == "w8")
    );

    // Operator input is checked: a reason is required, and a role.
    let no_reason = http()
        .post(format!("{}/api/v1/pages/p-1/ack", p.url()))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), 400);
    let viewer = http()
        .post(format!("{}/api/v1/pages/p-1/resolve", p.url()))
        .bearer_auth(VIEWER_TOKEN)
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), 403);
    let resolved = p
        .cli_text(&["resolve", "p-1", "--reason", "w9 restarted"])
        .await;
    assert!(resolved.contains("p-1 resolved"), "{resolved}");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paging_policy_naming_an_unknown_channel_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let paging = dir.path().join("paging.toml");
    std::fs::write(
        &paging,
        harness::POLICY.replace("\"fallback\"]", "\"pagerduty\"]"),
    )
    .unwrap();
    let collector = dir.path().join("collector.toml");
    let text = liveops_config::DEFAULT_COLLECTOR_TOML
        .replace("# paging = \"paging.toml\"", "paging = \"paging.toml\"");
    std::fs::write(&collector, text).unwrap();
    let bin = built(&["liveops-collector"]).join("liveops-collector");
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(&collector)
        .args(["--listen", "127.0.0.1:0"]);
    cmd.arg("--data-dir").arg(dir.path().join("data"));
    let out = run(cmd, Duration::from_secs(30), dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let at = format!("{}:", paging.display());
    assert!(
        stderr.contains(&at) && stderr.contains("unknown channel `pagerduty`"),
        "{stderr}"
    );
}
