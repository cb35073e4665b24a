//! Incidents by hand, end to end: the real `liveops` CLI against a
//! collector: open, assign, note, move through the lifecycle (refusals
//! named, nothing changed by them), rate by hand; every change in the
//! audit log; a viewer may read but not change; all of it still there
//! after a restart.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

async fn liveops(dir: &std::path::Path, url: &str, token: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(liveops_bin());
    cmd.args(args).args(["--collector", url, "--token", token]);
    run(cmd, Duration::from_secs(30), dir).await
}

async fn ok(dir: &std::path::Path, url: &str, args: &[&str]) -> String {
    let out = liveops(dir, url, ADMIN_TOKEN, args).await;
    assert!(out.status.success(), "liveops {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn refused(dir: &std::path::Path, url: &str, token: &str, args: &[&str]) -> String {
    let out = liveops(dir, url, token, args).await;
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

    let line = ok(
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
    ok(
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
    ok(
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
    ok(d, &url, &["incident", "status", "INC-1", "investigating"]).await;
    ok(d, &url, &["incident", "status", "INC-1", "mitigated"]).await;

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
    let out = liveops(d, &url, VIEWER_TOKEN, &["incident", "list"]).await;
    assert!(out.status.success(), "{out:?}");

    ok(
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
    ok(
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
        serde_json::from_str(&ok(d, &url, &["incident", "show", "INC-1", "--json"]).await).unwrap();
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
    let text = ok(d, &url, &["incident", "show", "INC-1"]).await;
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
    let list = ok(d, &url, &["incident", "list", "--active"]).await;
    assert!(list.starts_with("INC-1 SEV1 identified"), "{list}");
    let line = ok(d, &url, &["incident", "open", "--title", "Logins slow"]).await;
    assert!(
        line.starts_with("INC-2 SEV3 triage"),
        "a restart reuses no id: {line}"
    );
    collector.stop();
    collector.wait().await.unwrap();
}
