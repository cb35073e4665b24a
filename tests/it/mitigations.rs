//! One-click mitigations end to end, against a real collector:
//!
//! - roles and reasons are enforced by the API (401, 403, 400, 404);
//! - `/metrics` counts what is in force, open streams and audit entries,
//!   with no reason or id in a label;
//! - a TTL lifts a mitigation by itself, audited as `expire`;
//! - overrides and their ids survive a collector restart;
//! - `audit.rs`: `liveops audit verify` passes, then fails naming the
//!   edited entry, a cut-off tail or entries added while the collector was
//!   stopped; flag reloads in agent reports land in the log once;
//! - `fleet.rs`: `liveops mitigate --fleet` reaches every agent's override
//!   stream, and `liveops mitigate revert` restores exactly the set before
//!   it; a fleet mitigation reaches 100 streams, p99 ≤ 1 s.

mod audit;
mod fleet;
mod harness;

use std::time::Duration;

use serde_json::{Value, json};

use harness::*;

use crate::support::{eventually, get_text, sample};

const SOON: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_enforces_roles_reasons_and_known_names() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let m = format!("{}/api/v1/mitigations", c.url());
    let o = format!("{}/api/v1/overrides", c.url());
    let body = json!({"name": "freeze-attacks", "world": "w1", "reason": "exploit"});
    let err = |v: &Value| v["error"].as_str().unwrap_or_default().to_owned();

    let (status, _) = call("POST", &m, None, Some(body.clone())).await;
    assert_eq!(status, 401);
    let (status, _) = call("POST", &m, Some("not-a-token"), Some(body.clone())).await;
    assert_eq!(status, 401);
    let (status, v) = call("POST", &m, Some(VIEWER), Some(body.clone())).await;
    assert_eq!((status, err(&v).contains("responder")), (403, true), "{v}");
    let (status, _) = call("POST", &m, Some(AGENT), Some(body.clone())).await;
    assert_eq!(status, 403);

    let cases = [
        (
            json!({"name": "freeze-attacks", "world": "w1"}),
            400,
            "`reason` is required",
        ),
        (
            json!({"name": "freeze-attacks", "world": "w1", "reason": "  "}),
            400,
            "`reason` is required",
        ),
        (
            json!({"name": "freeze-attacks", "reason": "x"}),
            400,
            "exactly one scope",
        ),
        (
            json!({"name": "freeze-attacks", "world": "w1", "fleet": true, "reason": "x"}),
            400,
            "exactly one scope",
        ),
        (
            json!({"name": "freeze-attacks", "world": "w 1", "reason": "x"}),
            400,
            "world `w 1`",
        ),
        (
            json!({"name": "freeze-attacks", "fleet": true, "reason": "x", "ttl": "soon"}),
            400,
            "`ttl`: `soon` is not a duration",
        ),
        (
            json!({"name": "freeze-attackz", "fleet": true, "reason": "x"}),
            404,
            "unknown mitigation `freeze-attackz`; known: freeze-attacks, pause-payments",
        ),
        (
            json!({"name": "freeze-attacks", "fleet": true, "reason": "x", "colour": 1}),
            400,
            "unknown field `colour`",
        ),
    ];
    for (body, want_status, want) in cases {
        let (status, v) = call("POST", &m, Some(RESPONDER), Some(body.clone())).await;
        assert_eq!(status, want_status, "{body} → {v}");
        assert!(err(&v).contains(want), "{body} → {v}");
    }
    let cases = [
        (
            json!({"flag": "combat.atacks", "value": "false", "world": "w1", "reason": "x"}),
            404,
            "unknown flag `combat.atacks`",
        ),
        (
            json!({"flag": "combat.attacks", "value": "maybe", "world": "w1", "reason": "x"}),
            400,
            "`maybe` is not a boolean",
        ),
        (
            json!({"flag": "combat.attacks", "value": 3, "player": "p1", "reason": "x"}),
            400,
            "is a boolean flag",
        ),
        (
            json!({"flag": "combat.attacks", "value": false, "world": "w1", "player": "p1", "reason": "x"}),
            400,
            "exactly one scope",
        ),
        (
            json!({"flag": "combat.attacks", "value": false, "player": "p1"}),
            400,
            "`reason` is required",
        ),
    ];
    for (body, want_status, want) in cases {
        let (status, v) = call("POST", &o, Some(RESPONDER), Some(body.clone())).await;
        assert_eq!(status, want_status, "{body} → {v}");
        assert!(err(&v).contains(want), "{body} → {v}");
    }
    // Reads need a viewer; the stream an agent (or a viewer and above).
    for path in ["/api/v1/mitigations", "/api/v1/overrides", "/api/v1/audit"] {
        let url = format!("{}{path}", c.url());
        assert_eq!(call("GET", &url, None, None).await.0, 401, "{path}");
        assert_eq!(call("GET", &url, Some(AGENT), None).await.0, 403, "{path}");
        assert_eq!(call("GET", &url, Some(VIEWER), None).await.0, 200, "{path}");
    }
    let stream = format!("{}/api/v1/overrides/stream?world=w1", c.url());
    let resp = reqwest::Client::new().get(&stream).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let revert = format!("{}/api/v1/mitigations/m-9/revert", c.url());
    for body in [None, Some(json!({})), Some(json!({"reason": " "}))] {
        let (status, v) = call("POST", &revert, Some(RESPONDER), body.clone()).await;
        let refused = (status, err(&v).contains("`reason` is required"));
        assert_eq!(refused, (400, true), "{body:?} → {v}");
    }
    let body = json!({"reason": "x"});
    let (status, v) = call("POST", &revert, Some(RESPONDER), Some(body)).await;
    assert_eq!((status, err(&v).contains("`m-9`")), (404, true), "{v}");
    // Nothing refused left a trace.
    let audit = ok("GET", &format!("{}/api/v1/audit", c.url()), VIEWER, None).await;
    assert_eq!(audit["entries"], json!([]));
    stop(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_is_in_force_open_streams_and_audit_entries() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let metrics = format!("{}/metrics", c.url());
    let overrides =
        |text: &str, scope| sample(text, "liveops_collector_overrides", &[("scope", scope)]);
    let mitigations = |text: &str, name| {
        sample(
            text,
            "liveops_collector_mitigations",
            &[("mitigation", name)],
        )
    };
    let streams = |text: &str| sample(text, "liveops_collector_override_streams", &[]);
    let audited = |text: &str, action| {
        sample(
            text,
            "liveops_collector_audit_entries_total",
            &[("action", action)],
        )
    };

    // Before anything happens, every series is there at zero.
    let text = get_text(&metrics).await;
    for scope in ["fleet", "world", "village", "account", "player"] {
        assert_eq!(overrides(&text, scope), Some(0.0), "{scope}\n{text}");
    }
    for name in ["freeze-attacks", "pause-payments"] {
        assert_eq!(mitigations(&text, name), Some(0.0), "{name}\n{text}");
    }
    for action in ["mitigate", "override", "revert", "expire", "flag-reload"] {
        assert_eq!(audited(&text, action), Some(0.0), "{action}\n{text}");
    }
    assert_eq!(streams(&text), Some(0.0), "{text}");
    let failures = "liveops_collector_audit_append_failures_total";
    assert_eq!(sample(&text, failures, &[]), Some(0.0), "{text}");

    let mut w1 = Stream::open(&c.url(), "w1", AGENT).await;
    w1.next(SOON).await;
    assert_eq!(streams(&get_text(&metrics).await), Some(1.0));

    let m = format!("{}/api/v1/mitigations", c.url());
    let body = json!({"name": "pause-payments", "world": "w1", "reason": "provider down"});
    assert_eq!(ok("POST", &m, RESPONDER, Some(body)).await["id"], "m-1");
    let o = format!("{}/api/v1/overrides", c.url());
    let body =
        json!({"flag": "trade.market", "value": false, "player": "p-4711", "reason": "dupe ring"});
    assert_eq!(ok("POST", &o, RESPONDER, Some(body)).await["id"], "o-3");
    let text = get_text(&metrics).await;
    assert_eq!(overrides(&text, "world"), Some(2.0), "{text}");
    assert_eq!(overrides(&text, "player"), Some(1.0), "{text}");
    assert_eq!(overrides(&text, "fleet"), Some(0.0), "{text}");
    assert_eq!(mitigations(&text, "pause-payments"), Some(1.0), "{text}");
    assert_eq!(mitigations(&text, "freeze-attacks"), Some(0.0), "{text}");
    assert_eq!(audited(&text, "mitigate"), Some(1.0), "{text}");
    assert_eq!(audited(&text, "override"), Some(1.0), "{text}");
    // Labels are bounded: no reason, player or id ever becomes one.
    for unbounded in ["provider down", "dupe ring", "p-4711", "m-1", "o-3"] {
        assert!(
            !text.contains(unbounded),
            "`{unbounded}` on /metrics:\n{text}"
        );
    }

    let revert = format!("{}/api/v1/mitigations/m-1/revert", c.url());
    ok(
        "POST",
        &revert,
        RESPONDER,
        Some(json!({"reason": "provider back"})),
    )
    .await;
    let text = get_text(&metrics).await;
    assert_eq!(overrides(&text, "world"), Some(0.0), "{text}");
    assert_eq!(overrides(&text, "player"), Some(1.0), "{text}");
    assert_eq!(mitigations(&text, "pause-payments"), Some(0.0), "{text}");
    assert_eq!(audited(&text, "revert"), Some(1.0), "{text}");
    assert_eq!(audited(&text, "mitigate"), Some(1.0), "{text}");
    assert_eq!(sample(&text, failures, &[]), Some(0.0), "{text}");

    // An agent that goes away is no longer counted.
    drop(w1);
    eventually(SOON, "the closed stream to be uncounted", || async {
        let text = get_text(&metrics).await;
        match streams(&text) {
            Some(0.0) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    stop(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ttl_lifts_the_mitigation_by_itself_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let mut w1 = Stream::open(&c.url(), "w1", AGENT).await;
    w1.next(SOON).await;
    let m = format!("{}/api/v1/mitigations", c.url());
    let body =
        json!({"name": "pause-payments", "world": "w1", "reason": "provider down", "ttl": "1s"});
    let app = ok("POST", &m, RESPONDER, Some(body)).await;
    let expires = app["expires_ms"].as_u64().unwrap();
    assert_eq!(app["overrides"].as_array().unwrap().len(), 2);
    assert_eq!(summary(&w1.at(1, SOON).await).len(), 2);
    let lifted = w1.at(2, SOON).await;
    let late = liveops_collector::now_ms().saturating_sub(expires);
    assert_eq!(lifted["overrides"], json!([]));
    assert!(late <= 1_000, "lifted {late} ms after its expiry");
    let listing = ok("GET", &m, VIEWER, None).await;
    assert_eq!(listing["active"], json!([]));
    let audit = ok("GET", &format!("{}/api/v1/audit", c.url()), VIEWER, None).await;
    let last = &audit["entries"][1];
    assert_eq!(
        (last["action"].as_str(), last["id"].as_str()),
        (Some("expire"), Some("m-1"))
    );
    assert_eq!(last["actor"], "collector");
    assert_eq!(
        last["before"],
        json!({"payments.purchases": false, "payments.refunds": false})
    );
    assert_eq!(
        last["after"],
        json!({"payments.purchases": null, "payments.refunds": null})
    );
    stop(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_and_their_ids_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (first, cfg) = start_restartable(dir.path()).await;
    let url = first.url();
    let out = liveops(
        &url,
        &[
            "mitigate",
            "block-logins",
            "--world",
            "w3",
            "--reason",
            "auth meltdown",
            "--ttl",
            "2h",
        ],
        dir.path(),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = liveops(
        &url,
        &[
            "flag",
            "set",
            "trade.market",
            "false",
            "--account",
            "acct-7",
            "--reason",
            "dupe ring",
        ],
        dir.path(),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().next(), Some("o-2"), "{}", stdout(&out));
    let before = ok("GET", &format!("{url}/api/v1/overrides"), VIEWER, None).await;
    let mut stream = Stream::open(&url, "w3", AGENT).await;
    stream.next(SOON).await;
    stop(first).await;

    let second = start(&cfg).await;
    let after = ok("GET", &format!("{url}/api/v1/overrides"), VIEWER, None).await;
    assert_eq!(after, before);
    let set = ok(
        "GET",
        &format!("{url}/api/v1/overrides?world=w3"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(summary(&set).len(), 2);
    let m = format!("{url}/api/v1/mitigations");
    let body = json!({"name": "freeze-trade", "fleet": true, "reason": "more dupes"});
    assert_eq!(ok("POST", &m, RESPONDER, Some(body)).await["id"], "m-2");
    stop(second).await;
}
