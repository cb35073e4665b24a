//! The audit log end to end: `liveops audit verify` passes, then names an
//! edited or cut-off entry, or one chained on while the collector was
//! stopped; flag reloads carried by agent reports land in the log once,
//! even when a report is replayed; a log replaced behind the collector's
//! back stops operator changes and pages until an admin reseals it.

use liveops_collector::audit::chain::hash_of;
use liveops_protocol::flags::{FlagChange, FlagReload};
use liveops_protocol::{Health, Report};
use serde_json::{Value, json};

use std::time::Duration;

use super::harness::*;
use crate::support::{eventually, get_text, pager_log, sample};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_passes_then_names_an_edited_entry() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let url = c.url();
    for args in [
        &[
            "mitigate",
            "freeze-diplomacy",
            "--world",
            "w1",
            "--reason",
            "treaty exploit",
        ][..],
        &[
            "flag",
            "set",
            "auth.logins",
            "false",
            "--player",
            "p-9",
            "--reason",
            "account takeover",
        ],
        &["mitigate", "revert", "m-1", "--reason", "fixed"],
    ] {
        let out = liveops(&url, args, dir.path()).await;
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let out = liveops(&url, &["audit", "verify"], dir.path()).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("3 entries"), "{}", stdout(&out));
    let out = liveops(&url, &["audit", "list"], dir.path()).await;
    let text = stdout(&out);
    assert!(
        text.contains("#2")
            && text.contains(
                "alice (responder) override o-3 auth.logins on player p-9: account takeover"
            ),
        "{text}"
    );

    let path = dir.path().join("collector").join("audit.jsonl");
    let original = std::fs::read_to_string(&path).unwrap();
    let edited = original.replacen("account takeover", "routine check", 1);
    std::fs::write(&path, &edited).unwrap();
    let out = liveops(&url, &["audit", "verify"], dir.path()).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("broken at seq 2"), "{}", stderr(&out));

    // Cutting off the tail is caught too: the collector recorded the head.
    let cut: Vec<&str> = original.lines().take(2).collect();
    std::fs::write(&path, format!("{}\n", cut.join("\n"))).unwrap();
    let out = liveops(&url, &["audit", "verify"], dir.path()).await;
    assert!(stderr(&out).contains("broken at seq 3"), "{}", stderr(&out));
    stop(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_chained_on_while_the_collector_is_stopped_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (first, cfg) = start_restartable(dir.path()).await;
    let url = first.url();
    let body = json!({"name": "freeze-trade", "world": "w1", "reason": "dupe ring"});
    ok(
        "POST",
        &format!("{url}/api/v1/mitigations"),
        RESPONDER,
        Some(body),
    )
    .await;
    stop(first).await;

    // A correctly chained entry, as anyone able to write the data dir can
    // compute it: the collector did not write it, so its head does not
    // cover it.
    let path = dir.path().join("collector").join("audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let mut forged = last.clone();
    forged["seq"] = json!(2);
    forged["action"] = json!("revert");
    forged["reason"] = json!("never happened");
    forged["prev"] = last["hash"].clone();
    forged["hash"] = json!(hash_of(&forged));
    std::fs::write(&path, format!("{text}{forged}\n")).unwrap();

    let second = start(&cfg).await;
    let out = liveops(&url, &["audit", "verify"], dir.path()).await;
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("broken at seq 2"), "{}", stderr(&out));
    let audit = ok("GET", &format!("{url}/api/v1/audit"), VIEWER, None).await;
    assert_eq!(audit["head"]["seq"], 1);
    stop(second).await;
}

fn report(seq: u64, reloads: Vec<FlagReload>) -> Report {
    let end_ms = liveops_collector::now_ms();
    Report {
        agent: "agent-w5".into(),
        world: "w5".into(),
        seq,
        start_ms: end_ms - 1_000,
        end_ms,
        urgent: false,
        health: Health::default(),
        counters: vec![],
        gauges: vec![],
        histograms: vec![],
        losses: Default::default(),
        flag_reloads: reloads,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flag_reloads_in_agent_reports_are_audited_once() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let reports = format!("{}/api/v1/reports", c.url());
    let applied = FlagReload {
        at_ms: liveops_collector::now_ms(),
        file: "/etc/liveops/flags.toml".into(),
        sha256: "cd".repeat(32),
        applied: true,
        error: None,
        changes: vec![FlagChange {
            flag: "combat.attacks".into(),
            before: Some("default = true".into()),
            after: Some("default = false".into()),
        }],
    };
    let rejected = FlagReload {
        applied: false,
        error: Some("flags.toml:4:9: unknown flag kind `kil_switch`".into()),
        changes: vec![],
        ..applied.clone()
    };
    let first = report(1, vec![applied, rejected]);
    for _ in 0..2 {
        // The second time is a replay (a lost acknowledgement).
        ok("POST", &reports, AGENT, Some(json!(first))).await;
    }
    ok("POST", &reports, AGENT, Some(json!(report(2, vec![])))).await;
    let audit = ok("GET", &format!("{}/api/v1/audit", c.url()), VIEWER, None).await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["action"], "flag-reload");
    assert_eq!(entries[0]["actor"], "agent:agent-w5");
    assert_eq!(entries[0]["scope"], "world w5");
    assert_eq!(
        entries[0]["after"],
        json!({"combat.attacks": "default = false"})
    );
    assert_eq!(entries[1]["action"], "flag-reload-rejected");
    assert!(
        entries[1]["reason"]
            .as_str()
            .unwrap()
            .contains("kil_switch")
    );
    assert_eq!(audit["head"]["seq"], 2);
    stop(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_log_refuses_changes_and_pages_until_an_admin_reseals_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let url = c.url();
    let mitigate = json!({"name": "freeze-trade", "world": "w1", "reason": "dupe ring"});
    let applied = ok(
        "POST",
        &format!("{url}/api/v1/mitigations"),
        RESPONDER,
        Some(mitigate.clone()),
    )
    .await;
    let id = applied["id"].as_str().unwrap().to_owned();

    // `sed -i` writes a new file and renames it over the log: before the
    // fix, the next entry went to the orphaned inode and the API showed
    // one entry fewer than its head.
    let path = dir.path().join("collector").join("audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let tmp = dir.path().join("collector").join("audit.jsonl.sed");
    std::fs::write(&tmp, text.replace("dupe ring", "routine")).unwrap();
    std::fs::rename(&tmp, &path).unwrap();

    let revert = json!({"reason": "fixed"});
    let (status, body) = call(
        "POST",
        &format!("{url}/api/v1/mitigations/{id}/revert"),
        Some(RESPONDER),
        Some(revert.clone()),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("was replaced by another file"),
        "{body}"
    );
    let page = eventually(Duration::from_secs(5), "AuditChainBroken pages", || {
        let log = pager_log(dir.path());
        async move {
            log.into_iter()
                .find(|n| n.label("alertname") == Some("AuditChainBroken"))
                .ok_or_else(|| "not yet".to_owned())
        }
    })
    .await;
    assert!(
        page.annotations["runbook_url"].ends_with("/runbooks/audit"),
        "{page:?}"
    );
    let metrics = get_text(&format!("{url}/metrics")).await;
    assert_eq!(
        sample(&metrics, "liveops_collector_audit_chain_ok", &[]),
        Some(0.0)
    );
    let out = liveops(&url, &["audit", "verify"], dir.path()).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("reports its audit log broken"),
        "{}",
        stderr(&out)
    );

    // A responder cannot reseal; an admin can, with a reason.
    let out = liveops(
        &url,
        &["audit", "reseal", "--reason", "checked"],
        dir.path(),
    )
    .await;
    assert!(
        !out.status.success() && stderr(&out).contains("403"),
        "{}",
        stderr(&out)
    );
    let reseal = format!("{url}/api/v1/audit/reseal");
    let (status, _) = call("POST", &reseal, Some(ADMIN), Some(json!({}))).await;
    assert_eq!(status, 400, "a reason is required");
    let entry = ok(
        "POST",
        &reseal,
        ADMIN,
        Some(json!({"reason": "a sed -i by hand; content checked"})),
    )
    .await;
    assert_eq!(entry["action"], "reseal");
    assert_eq!(entry["seq"], 2, "continues the recorded chain: {entry}");
    let kept = entry["before"]["kept_as"].as_str().unwrap();
    assert!(std::path::Path::new(kept).exists(), "{entry}");
    let (status, _) = call(
        "POST",
        &reseal,
        Some(ADMIN),
        Some(json!({"reason": "again"})),
    )
    .await;
    assert_eq!(status, 409, "nothing to reseal once intact");

    ok(
        "POST",
        &format!("{url}/api/v1/mitigations/{id}/revert"),
        RESPONDER,
        Some(revert),
    )
    .await;
    let out = liveops(&url, &["audit", "verify"], dir.path()).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 entries, chain intact up to seq 3"),
        "{}",
        stdout(&out)
    );
    let metrics = get_text(&format!("{url}/metrics")).await;
    assert_eq!(
        sample(&metrics, "liveops_collector_audit_chain_ok", &[]),
        Some(1.0)
    );
    stop(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_event_stream_once_the_audit_log_holds_them() {
    use liveops_collector::events::Event;
    let dir = tempfile::tempdir().unwrap();
    let c = start(&config(dir.path())).await;
    let url = c.url();
    let mut events = c.shared().events().subscribe();
    let body = json!({"name": "freeze-trade", "world": "w1", "reason": "dupe ring"});
    ok(
        "POST",
        &format!("{url}/api/v1/mitigations"),
        RESPONDER,
        Some(body),
    )
    .await;
    let told = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    let Event::Action(a) = &told.event else {
        panic!("{told:?}")
    };
    assert_eq!(
        (a.action, a.id.as_str(), a.actor.as_str()),
        ("mitigate", "m-1", "alice")
    );
    // Told after it was recorded: the audit log already holds it.
    let audit = ok("GET", &format!("{url}/api/v1/audit"), VIEWER, None).await;
    assert_eq!(audit["entries"][0]["id"], "m-1");

    // A change the audit log refuses is told to no one.
    let path = dir.path().join("collector").join("audit.jsonl");
    std::fs::write(&path, "").unwrap();
    let body = json!({"name": "freeze-trade", "world": "w2", "reason": "dupe ring"});
    let (status, _) = call(
        "POST",
        &format!("{url}/api/v1/mitigations"),
        Some(RESPONDER),
        Some(body),
    )
    .await;
    assert_eq!(status, 503);
    let metrics = get_text(&format!("{url}/metrics")).await;
    assert_eq!(
        sample(
            &metrics,
            "liveops_collector_events_total",
            &[("kind", "action")]
        ),
        Some(1.0),
        "{metrics}"
    );
    while let Ok(e) = events.try_recv() {
        assert!(!matches!(e.event, Event::Action(_)), "{e:?}");
    }
    stop(c).await;
}
