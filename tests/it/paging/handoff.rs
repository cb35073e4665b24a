//! A handoff under the pager's hand-moved clock: a world is down and paged
//! to the outgoing primary; the clock is moved across the handoff and the
//! incoming primary gets exactly one notice, at the collector's file
//! channel, naming the firing alert and its page. Nothing sleeps for the
//! clock: the pager is woken after each move.

use std::sync::Arc;
use std::time::Duration;

use liveops_collector::Collector;
use liveops_collector::paging::clock::ManualClock;
use serde_json::Value;

use super::harness::report_down;
use crate::support::*;

/// Daily ops handoffs at 09:00 UTC (the file says who holds which day).
const SCHEDULE: &str = include_str!("../../../oncall/testdata/daily-ops.toml");

/// Every alert is ops' SEV1; every severity pages the primary through `channel`, and
/// once more after 5 minutes unacknowledged.
pub fn policy(channel: &str) -> String {
    let mut p = String::from(
        "[paging]\ndefault_team = \"ops\"\n\n[[route]]\nmatch_re = { alertname = \".+\" }\nteam = \"ops\"\nseverity = \"SEV1\"\n\n[default_route]\nseverity = \"SEV1\"\n",
    );
    for sev in ["SEV1", "SEV2", "SEV3", "SEV4"] {
        p.push_str(&format!(
            "\n[policy.{sev}]\nrepeat = 1\n[[policy.{sev}.step]]\nnotify = [{{ role = \"primary\" }}]\nchannels = [\"{channel}\"]\nack_deadline = \"5m\"\n"
        ));
    }
    p
}

fn at(rfc3339: &str) -> u64 {
    liveops_protocol::time::parse_rfc3339(rfc3339).unwrap()
}

fn lines(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("pager.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn of(lines: &[Value], action: &str) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| l["action"] == action)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incoming_primary_hears_once_what_is_firing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("oncall.toml"), SCHEDULE).unwrap();
    let mut cfg = collector_config(dir.path(), any_port());
    // The file channel's name is `file:PATH`.
    let channel = cfg.notifiers[0].name();
    std::fs::write(dir.path().join("paging.toml"), policy(&channel)).unwrap();
    cfg.oncall_file = Some(dir.path().join("oncall.toml"));
    cfg.paging_file = Some(dir.path().join("paging.toml"));
    let clock = Arc::new(ManualClock::at(at("2026-12-07T08:59:00Z")));
    let collector =
        Collector::start_with_clock(cfg, tokens(), clock.clone(), std::future::pending())
            .await
            .unwrap();
    let pager = collector.shared().pager().cloned().unwrap();

    report_down(&collector.url(), "a1", "w1").await;
    let page = eventually(Duration::from_secs(10), "the page to ben", || async {
        let t = of(&lines(dir.path()), "trigger");
        match t.first() {
            Some(l) if l["to"]["person"] == "ben" => Ok(l.clone()),
            _ => Err(format!("{t:?}")),
        }
    })
    .await;
    assert_eq!(page["labels"]["alertname"], "WorldDown");

    clock.set(at("2026-12-07T09:00:30Z"));
    pager.wake();
    let notice = eventually(Duration::from_secs(10), "the handoff notice", || async {
        match of(&lines(dir.path()), "notify").as_slice() {
            [one] => Ok(one.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(notice["to"]["person"], "ana");
    assert_eq!(
        notice["to"]["address"],
        Value::Null,
        "the file has no addresses"
    );
    assert_eq!(notice["labels"]["alertname"], "OnCallHandoff");
    assert_eq!(notice["notice"]["kind"], "handoff");
    assert_eq!(notice["notice"]["from_person"], "ben");
    let firing = notice["notice"]["firing"].as_array().unwrap();
    assert_eq!(firing.len(), 1, "{notice}");
    assert_eq!(firing[0]["alertname"], "WorldDown");
    assert_eq!(firing[0]["world"], "w1");
    assert_eq!(firing[0]["severity"], "SEV1");
    assert_eq!(firing[0]["page_id"], page["pageId"]);
    assert!(
        firing[0]["url"].as_str().unwrap().ends_with(&format!(
            "/api/v1/pages/{}",
            page["pageId"].as_str().unwrap()
        )),
        "{notice}"
    );
    let text = notice["annotations"]["description"].as_str().unwrap();
    assert!(text.contains("SEV1 WorldDown w1"), "{text}");

    // Past the page's deadline: the escalation reaches ana (now primary),
    // and the handoff is not told twice.
    clock.set(at("2026-12-07T09:04:30Z"));
    pager.wake();
    eventually(Duration::from_secs(10), "the repeat to ana", || async {
        let t = of(&lines(dir.path()), "trigger");
        match t.iter().any(|l| l["to"]["person"] == "ana") {
            true => Ok(()),
            false => Err(format!("{t:?}")),
        }
    })
    .await;
    assert_eq!(of(&lines(dir.path()), "notify").len(), 1);
    let metrics = get_text(&format!("{}/metrics", collector.url())).await;
    assert_eq!(
        sample(
            &metrics,
            "liveops_collector_pages_total",
            &[("severity", "none"), ("event", "notified")]
        ),
        Some(1.0),
        "{metrics}"
    );
    collector.stop();
    collector.wait().await.unwrap();
}
