//! A real Alertmanager in front of liveops, as a studio with Prometheus
//! runs it: Alertmanager's webhook receiver points at the collector's
//! `POST /api/v1/alertmanager` with an agent token (`http_config.
//! authorization.credentials_file`, as the README shows). An alert posted
//! to Alertmanager's `/api/v2/alerts` is routed by the paging policy to a
//! team, paged to that team's primary by the on-call schedule through a
//! local receiver, and resolved there when Alertmanager says resolved.

use std::time::Duration;

use serde_json::{Value, json};

use super::harness::{Paging, triggers};
use crate::alertmanager::Alertmanager;
use crate::support::*;

/// The alert as Prometheus would post it: `endsAt` in the past resolves it.
fn world_down(ends_at: Option<&str>) -> Value {
    let mut alert = json!({
        "labels": {"alertname": "WorldDown", "world": "eu-5", "job": "game", "severity": "critical"},
        "annotations": {
            "summary": "eu-5 is down (from Prometheus)",
            "runbook_url": "https://runbooks.example/world-down",
        },
        "generatorURL": "http://prometheus.test/graph?g0.expr=up%3D%3D0",
    });
    if let Some(t) = ends_at {
        alert["endsAt"] = json!(t);
    }
    alert
}

/// One posted by a script: no link, no annotations.
fn stalled() -> Value {
    json!({"labels": {"alertname": "TickStalled", "world": "eu-6"}})
}

/// The trigger the primary channel got for `world`'s page.
async fn trigger_for(p: &Paging, world: &str) -> Value {
    eventually(
        Duration::from_secs(20),
        &format!("the page for {world} at the primary channel"),
        || async {
            triggers(&p.primary)
                .into_iter()
                .find(|b| b["labels"]["world"] == world)
                .ok_or(format!("{:?}", p.primary.bodies()))
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_through_a_real_alertmanager_pages_the_on_call_person_and_resolves() {
    let p = Paging::start(false).await;
    let hook = format!("{}/api/v1/alertmanager", p.url());
    let am = Alertmanager::start(p.dir.path(), &hook, Some(AGENT_TOKEN)).await;

    am.post(&json!([world_down(None), stalled()])).await;
    let trigger = trigger_for(&p, "eu-5").await;
    // Routed by the policy (WorldDown → ops, SEV1), paged to the person
    // the shipped schedule has on call for ops now.
    let oncall = p.api("/api/v1/oncall").await;
    let primary = oncall["on_call"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["team"] == "ops" && o["role"] == "primary")
        .map(|o| o["person"].clone())
        .expect("an ops primary");
    let id = trigger["pageId"].as_str().unwrap().to_owned();
    assert_eq!(
        (&trigger["team"], &trigger["severity"]),
        (&json!("ops"), &json!("SEV1"))
    );
    assert_eq!(trigger["to"]["person"], primary, "{trigger:#}");
    // The alert as Prometheus wrote it: its labels, annotations and link.
    assert_eq!(trigger["labels"]["job"], "game");
    assert_eq!(
        trigger["annotations"]["summary"],
        "eu-5 is down (from Prometheus)"
    );
    assert_eq!(
        trigger["generatorURL"],
        "http://prometheus.test/graph?g0.expr=up%3D%3D0"
    );
    // Alertmanager's own times (nanoseconds) in the collector's form.
    let starts = trigger["startsAt"].as_str().unwrap();
    assert!(
        starts.len() == 24
            && starts.ends_with('Z')
            && liveops_protocol::time::parse_rfc3339(starts).is_some(),
        "{starts}"
    );
    let page = p.api(&format!("/api/v1/pages/{id}")).await;
    assert_eq!(page["state"], "open", "{page:#}");
    // An alert without a link of its own links to the Alertmanager.
    let script = trigger_for(&p, "eu-6").await;
    assert_eq!(script["generatorURL"], am.url, "{script:#}");
    assert_eq!(script["annotations"]["summary"], Value::Null);

    // Prometheus says it is over; Alertmanager tells liveops, which
    // resolves the page at the channel it paged.
    let now = liveops_protocol::time::rfc3339(liveops_protocol::time::now_ms());
    am.post(&json!([world_down(Some(&now))])).await;
    let resolve = eventually(
        Duration::from_secs(20),
        "the resolve at the primary channel",
        || async {
            p.primary
                .bodies()
                .into_iter()
                .find(|b| b["action"] == "resolve" && b["labels"]["world"] == "eu-5")
                .ok_or(format!("{:?}", p.primary.bodies()))
        },
    )
    .await;
    assert_eq!(
        (&resolve["pageId"], &resolve["status"]),
        (&json!(id), &json!("resolved"))
    );
    let page = p.api(&format!("/api/v1/pages/{id}")).await;
    assert_eq!(page["state"], "resolved", "{page:#}");
    assert_eq!(page["resolved_by"]["reason"], "every alert resolved");
    // One trigger per page: Alertmanager's repeated group notifications
    // are the same alerts, and the other world's page is still open.
    assert_eq!(triggers(&p.primary).len(), 2, "{:#?}", p.primary.bodies());
    let open = p.api("/api/v1/pages?open=true").await;
    let open: Vec<&Value> = open["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["world"])
        .collect();
    assert_eq!(open, [&json!("eu-6")]);

    drop(am);
    p.stop().await;
}
