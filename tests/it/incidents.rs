//! Incidents by hand, end to end: the real `liveops` CLI against a
//! collector: open, assign, note, move through the lifecycle (refusals
//! named, nothing changed by them), rate by hand; every change in the
//! audit log; a viewer may read but not change; all of it still there
//! after a restart.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

async fn refused(dir: &std::path::Path, url: &str, token: &str, args: &[&str]) -> String {
    let out = liveops_cli(dir, url, token, args).await;
    assert!(
        !out.status.success(),
        "liveops {args:?} should fail: {out:?}"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_run_by_hand_is_validated_audited_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = collector_config(d, any_port());
    let collector = start_collector(cfg.clone()).await;
    let url = collector.url();

    let line = liveops_ok(
        d,
        &url,
        &[
            "incident",
            "open",
            "--title",
            "Payments failing in eu-1",
            "--world",
            "eu-1",
            "--sev",
            "sev2",
        ],
    )
    .await;
    assert!(line.starts_with("INC-1 SEV2 triage"), "{line}");
    liveops_ok(
        d,
        &url,
        &[
            "incident",
            "assign",
            "INC-1",
            "--role",
            "commander",
            "--person",
            "ana",
        ],
    )
    .await;
    liveops_ok(
        d,
        &url,
        &[
            "incident",
            "note",
            "1",
            "provider answers 502",
            "--kind",
            "observation",
        ],
    )
    .await;
    liveops_ok(d, &url, &["incident", "status", "INC-1", "investigating"]).await;
    liveops_ok(d, &url, &["incident", "status", "INC-1", "mitigated"]).await;

    // Refusals name what is wrong and change nothing.
    let back = refused(
        d,
        &url,
        ADMIN_TOKEN,
        &["incident", "status", "INC-1", "identified"],
    )
    .await;
    assert!(back.contains("needs a reason"), "{back}");
    let same = refused(
        d,
        &url,
        ADMIN_TOKEN,
        &["incident", "status", "INC-1", "mitigated"],
    )
    .await;
    assert!(same.contains("already mitigated"), "{same}");
    let bad = refused(
        d,
        &url,
        ADMIN_TOKEN,
        &["incident", "status", "INC-1", "fixed"],
    )
    .await;
    assert!(bad.contains("unknown state"), "{bad}");
    let none = refused(d, &url, ADMIN_TOKEN, &["incident", "show", "INC-9"]).await;
    assert!(none.contains("no incident INC-9"), "{none}");
    let sev = refused(
        d,
        &url,
        ADMIN_TOKEN,
        &["incident", "sev", "INC-1", "SEV1", "--reason", " "],
    )
    .await;
    assert!(sev.contains("needs a reason"), "{sev}");
    // A viewer reads, but does not change.
    let viewer = refused(d, &url, VIEWER_TOKEN, &["incident", "note", "INC-1", "hi"]).await;
    assert!(viewer.contains("responder"), "{viewer}");
    let out = liveops_cli(d, &url, VIEWER_TOKEN, &["incident", "list"]).await;
    assert!(out.status.success(), "{out:?}");

    liveops_ok(
        d,
        &url,
        &[
            "incident",
            "status",
            "INC-1",
            "identified",
            "--note",
            "it came back: the deploy",
        ],
    )
    .await;
    liveops_ok(
        d,
        &url,
        &[
            "incident",
            "sev",
            "INC-1",
            "SEV1",
            "--reason",
            "whale-tier payments",
        ],
    )
    .await;

    let show: Value =
        serde_json::from_str(&liveops_ok(d, &url, &["incident", "show", "INC-1", "--json"]).await)
            .unwrap();
    assert_eq!(show["state"], "identified");
    assert_eq!(show["severity"]["current"], "SEV1");
    assert_eq!(show["roles"]["commander"], "ana");
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "opened", "assigned", "note", "state", "state", "state", "severity"
        ]
    );
    let text = liveops_ok(d, &url, &["incident", "show", "INC-1"]).await;
    assert!(
        text.contains("mitigated → identified: it came back: the deploy"),
        "{text}"
    );

    // Seven changes, seven audit entries, none for the refusals.
    let entries = audit_entries(&url, ADMIN_TOKEN).await;
    let subjects: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "incident")
        .map(|e| e["subject"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        subjects,
        [
            "open", "assign", "note", "status", "status", "status", "severity"
        ],
        "{entries:?}"
    );

    let metrics = get_text(&format!("{url}/metrics")).await;
    let open = |state: &str, sev: &str| {
        sample(
            &metrics,
            "liveops_collector_incidents",
            &[("state", state), ("severity", sev)],
        )
    };
    assert_eq!(open("identified", "SEV1"), Some(1.0), "{metrics}");
    assert_eq!(open("triage", "SEV2"), Some(0.0), "{metrics}");

    collector.stop();
    collector.wait().await.unwrap();
    let collector = start_collector(cfg).await;
    let url = collector.url();
    let list = liveops_ok(d, &url, &["incident", "list", "--active"]).await;
    assert!(list.starts_with("INC-1 SEV1 identified"), "{list}");
    let line = liveops_ok(d, &url, &["incident", "open", "--title", "Logins slow"]).await;
    assert!(
        line.starts_with("INC-2 SEV3 triage"),
        "a restart reuses no id: {line}"
    );
    collector.stop();
    collector.wait().await.unwrap();
}

/// The lines of the collector's pager log naming `alertname`, as JSON.
fn pager_lines(dir: &std::path::Path, alertname: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join("pager.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.to_string().contains(alertname))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_items_are_tracked_overdue_ones_ticketed_and_the_postmortem_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let collector = start_collector(collector_config(d, any_port())).await;
    let url = collector.url();
    liveops_ok(
        d,
        &url,
        &["incident", "open", "--title", "Payments failing"],
    )
    .await;
    liveops_ok(
        d,
        &url,
        &["incident", "note", "INC-1", "provider <b>502</b> | retry"],
    )
    .await;
    liveops_ok(d, &url, &["incident", "status", "INC-1", "closed"]).await;

    // Added to a closed incident; one already late (a postmortem held late).
    let late = liveops_ok(
        d,
        &url,
        &[
            "action",
            "add",
            "INC-1",
            "--title",
            "Alert on provider 5xx",
            "--owner",
            "bo",
            "--due",
            "2020-01-31",
        ],
    )
    .await;
    assert!(
        late.starts_with("A-1 OVERDUE due 2020-01-31T23:59:59.999Z"),
        "{late}"
    );
    liveops_ok(
        d,
        &url,
        &[
            "action",
            "add",
            "1",
            "--title",
            "Runbook for 502s",
            "--owner",
            "cy",
            "--due",
            "2999-12-31",
        ],
    )
    .await;
    let err = refused(
        d,
        &url,
        ADMIN_TOKEN,
        &[
            "action",
            "add",
            "INC-1",
            "--title",
            "x",
            "--owner",
            "bo",
            "--due",
            "next week",
        ],
    )
    .await;
    assert!(err.contains("due \"next week\" is not a date"), "{err}");
    let err = refused(
        d,
        &url,
        VIEWER_TOKEN,
        &["action", "done", "A-1", "--note", "x"],
    )
    .await;
    assert!(err.contains("403"), "{err}");

    // The weekly check fails while anything is overdue.
    let out = liveops_cli(d, &url, ADMIN_TOKEN, &["action", "list", "--overdue"]).await;
    assert!(!out.status.success(), "{out:?}");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("A-1 OVERDUE") && !listed.contains("A-2"),
        "{listed}"
    );
    let mine = liveops_ok(d, &url, &["action", "list", "--owner", "cy"]).await;
    assert!(
        mine.starts_with("A-2 open") && !mine.contains("A-1"),
        "{mine}"
    );
    // A ticket through the notifiers, and the gauge.
    let fired = eventually(Duration::from_secs(10), "the overdue ticket", || async {
        let l = pager_lines(d, "ActionItemOverdue");
        (!l.is_empty()).then_some(l).ok_or("none yet".to_owned())
    })
    .await;
    assert!(fired[0].to_string().contains("owner bo"), "{:?}", fired[0]);
    let metrics = get_text(&format!("{url}/metrics")).await;
    let gauge = |m: &str, s: &str| sample(m, "liveops_collector_action_items", &[("state", s)]);
    assert_eq!(gauge(&metrics, "overdue"), Some(1.0), "{metrics}");
    assert_eq!(gauge(&metrics, "open"), Some(2.0), "{metrics}");

    liveops_ok(
        d,
        &url,
        &[
            "action",
            "done",
            "A-1",
            "--note",
            "alert added in build 813",
        ],
    )
    .await;
    let err = refused(
        d,
        &url,
        ADMIN_TOKEN,
        &["action", "done", "A-1", "--note", "again"],
    )
    .await;
    assert!(err.contains("A-1 is already done"), "{err}");
    let err = refused(
        d,
        &url,
        ADMIN_TOKEN,
        &["action", "done", "A-9", "--note", "x"],
    )
    .await;
    assert!(err.contains("no action item A-9"), "{err}");
    let out = liveops_cli(d, &url, ADMIN_TOKEN, &["action", "list", "--overdue"]).await;
    assert!(out.status.success(), "{out:?}");
    eventually(Duration::from_secs(10), "the ticket taken back", || async {
        let l = pager_lines(d, "ActionItemOverdue");
        l.iter()
            .any(|v| v.to_string().contains("resolved"))
            .then_some(())
            .ok_or(format!("{l:?}"))
    })
    .await;

    // The postmortem, pre-filled, escaped, with both items.
    // Written where it is run, named after the incident.
    let mut cmd = Command::new(liveops_bin());
    cmd.args([
        "postmortem",
        "export",
        "INC-1",
        "--collector",
        &url,
        "--token",
        ADMIN_TOKEN,
    ])
    .current_dir(d);
    let out = run(cmd, Duration::from_secs(30), d).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "INC-1-postmortem.md"
    );
    let md = std::fs::read_to_string(d.join("INC-1-postmortem.md")).unwrap();
    for want in [
        "# Postmortem: INC-1 — Payments failing",
        "**Blameless.**",
        "## Player impact",
        "| Time to detect (first bad signal → alert) |",
        "provider &lt;b&gt;502&lt;/b&gt; \\| retry",
        "## Contributing factors",
        "| A-1 | Alert on provider 5xx | bo | 2020-01-31T23:59:59Z | done: alert added in build 813 |",
        "| A-2 | Runbook for 502s | cy |",
    ] {
        assert!(md.contains(want), "{want:?} not in:\n{md}");
    }
    let json_path = d.join("pm.json");
    liveops_ok(
        d,
        &url,
        &[
            "postmortem",
            "export",
            "INC-1",
            "--format",
            "json",
            "--output",
            json_path.to_str().unwrap(),
        ],
    )
    .await;
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(doc["incident"], "INC-1");
    assert_eq!(doc["action_items"].as_array().map(Vec::len), Some(2));
    let err = refused(d, &url, ADMIN_TOKEN, &["postmortem", "export", "INC-7"]).await;
    assert!(err.contains("no incident INC-7"), "{err}");
    collector.stop();
    collector.wait().await.unwrap();
}
