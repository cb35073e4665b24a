//! What a buggy or hostile peer sends the collector: each bad part of a
//! report is refused and named, the rest is taken, and nothing panics.

use std::time::Duration;

use liveops_protocol::report::{REPORTS_PATH, ReportAck};
use serde_json::{Value, json};

use crate::support::*;

fn report(world: &str, seq: u64) -> Value {
    let end_ms = liveops_collector::now_ms();
    json!({
        "agent": format!("{world}-hand-made"), "world": world, "seq": seq,
        "start_ms": end_ms - 1000, "end_ms": end_ms,
        "health": {"up": true, "probe_ok": true, "stalled": false, "up_ms": 1000, "observed_ms": 1000},
        "counters": [
            {"name": "request", "tags": {"status": "ok"}, "value": 30.0},
            // What an agent sent when a game's counter overflowed to +inf.
            {"name": "request", "tags": {"status": "error"}, "value": null},
        ],
        "gauges": [{"name": "players.online", "tags": {}, "value": 12.0}],
        "flag_reloads": [
            {"at_ms": u64::MAX, "file": "flags.toml", "sha256": "ab", "applied": true},
            {"at_ms": end_ms - 5, "file": "flags.toml", "sha256": "cd", "applied": true},
        ],
    })
}

async fn post(url: &str, body: &Value) -> (reqwest::StatusCode, Value) {
    let resp = http()
        .post(format!("{url}{REPORTS_PATH}"))
        .bearer_auth(AGENT_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_with_bad_parts_is_taken_for_its_good_parts() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();

    // Before the fix, the year-9999+ reload time panicked the handler while
    // formatting it, and the null counter refused the whole report: either
    // one stopped the agent's spool for good.
    let (status, ack) = post(&url, &report("w7", 1)).await;
    assert_eq!(status, 200, "{ack}");
    let ack: ReportAck = serde_json::from_value(ack).unwrap();
    let parts: Vec<&str> = ack.refused.iter().map(|r| r.part.as_str()).collect();
    assert_eq!(
        parts,
        ["counters[1]", "flag_reloads[0]"],
        "{:?}",
        ack.refused
    );
    assert!(
        ack.refused[1]
            .reason
            .contains("ahead of the collector's clock")
    );

    // The good parts count: the world's health, its good series, its good
    // reload in the audit log.
    expect_events(&url, "w7", "error_rate", 30.0, Duration::from_secs(5)).await;
    let worlds = try_get_json(&format!("{url}/api/v1/worlds")).await.unwrap();
    assert_eq!(worlds["worlds"]["w7"]["health"]["up"], true, "{worlds}");
    let audit = crate::support::audit_entries(&url, ADMIN_TOKEN).await;
    let reloads: Vec<&Value> = audit
        .iter()
        .filter(|e| e["action"] == "flag-reload")
        .collect();
    assert_eq!(reloads.len(), 1, "{audit:?}");
    assert!(reloads[0]["reason"].as_str().unwrap().contains("sha256 cd"));

    // A whole report with a broken health part still brings its series.
    let mut bad_health = report("w7", 2);
    bad_health["health"]["observed_ms"] = json!(u64::MAX);
    let (status, ack) = post(&url, &bad_health).await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["refused"][0]["part"], "health", "{ack}");
    expect_events(&url, "w7", "error_rate", 60.0, Duration::from_secs(5)).await;

    let metrics = get_text(&format!("{url}/metrics")).await;
    for (part, n) in [("counters", 2.0), ("flag_reloads", 2.0), ("health", 1.0)] {
        assert_eq!(
            sample(
                &metrics,
                "liveops_collector_report_parts_refused_total",
                &[("part", part)]
            ),
            Some(n),
            "{part}:\n{metrics}"
        );
    }
    collector.stop();
    collector.wait().await.unwrap();
}
