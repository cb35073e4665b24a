//! Alertmanager: `POST {url}/api/v2/alerts` with an array of postable
//! alerts, on each configured instance independently (one down never holds
//! up another; an Alertmanager cluster de-duplicates what they pass on).
//!
//! Alertmanager resolves an alert it has not heard of for `resolve_timeout`,
//! so the firing set is sent again every `resend` while it fires, and an
//! alert is sent once more with `endsAt` when it resolves. A delivery
//! counts as delivered when at least one instance took it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveops_config::RetryConfig;
use liveops_protocol::{Delivery, PageAction};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Ctx;
use super::retry::{Schedule, deliver, post_json};
use super::text::{person, redact_url};

pub struct Alertmanagers {
    http: reqwest::Client,
    urls: Vec<String>,
    resend: Duration,
    retry: RetryConfig,
}

impl Alertmanagers {
    pub fn new(
        http: reqwest::Client,
        urls: &[String],
        resend: Duration,
        retry: RetryConfig,
    ) -> Self {
        Alertmanagers {
            http,
            urls: urls.to_vec(),
            resend,
            retry,
        }
    }
}

/// The postable alert of one delivery: the alert's own labels (the
/// identity Alertmanager groups and de-duplicates by, the same at trigger
/// and resolve) and annotations with the page's fields added.
pub(crate) fn postable(d: &Delivery) -> Value {
    let mut annotations = d.alert.annotations.clone();
    annotations.insert("page_id".into(), d.page_id.clone());
    annotations.insert("page_url".into(), d.page_url.clone());
    annotations.insert("page_severity".into(), d.severity.as_str().into());
    annotations.insert("team".into(), d.team.clone());
    if let Some(p) = person(d) {
        annotations.insert("paged".into(), p.to_owned());
    }
    let mut alert = json!({
        "labels": d.alert.labels,
        "annotations": annotations,
        "startsAt": d.alert.starts_at,
        "generatorURL": d.alert.generator_url,
    });
    if d.action == PageAction::Resolve {
        let ends = d
            .alert
            .ends_at
            .clone()
            .unwrap_or_else(|| liveops_protocol::time::rfc3339(d.at_ms));
        alert["endsAt"] = Value::String(ends);
    }
    alert
}

/// What is firing, by page id: sent again every `resend`.
#[derive(Default)]
pub(crate) struct Firing(BTreeMap<String, Value>);

impl Firing {
    /// Applies one delivery and returns what to post for it now.
    pub(crate) fn apply(&mut self, d: &Delivery) -> Value {
        let alert = postable(d);
        match d.action {
            PageAction::Resolve => {
                self.0.remove(&d.page_id);
            }
            PageAction::Trigger | PageAction::Acknowledge => {
                self.0.insert(d.page_id.clone(), alert.clone());
            }
            // Not an alert: never part of the firing set.
            PageAction::Notify => {}
        }
        alert
    }

    pub(crate) fn all(&self) -> Vec<Value> {
        self.0.values().cloned().collect()
    }
}

/// One instance's share of a delivery; the last to finish reports it.
struct Tally {
    delivery: Delivery,
    left: usize,
    delivered: bool,
    errors: Vec<String>,
}

/// One instance's queue: a delivery, or the firing set's resend.
enum Job {
    Post(Value, Arc<Mutex<Tally>>),
    Resend(Vec<Value>),
}

pub async fn run(am: Alertmanagers, ctx: Ctx, mut rx: mpsc::Receiver<Delivery>) {
    let am = Arc::new(am);
    let mut queues = Vec::new();
    let mut instances = tokio::task::JoinSet::new();
    for url in &am.urls {
        let (tx, jobs) = mpsc::channel(1_024);
        queues.push(tx);
        instances.spawn(instance(am.clone(), url.clone(), ctx.clone(), jobs));
    }
    let mut firing = Firing::default();
    let mut resend = tokio::time::interval(am.resend);
    resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    resend.tick().await;
    loop {
        tokio::select! {
            got = rx.recv() => {
                let Some(d) = got else { break };
                if d.action == PageAction::Notify {
                    // The pager never sends one here; refused visibly if it did.
                    ctx.done(&d, Err("Alertmanager takes alerts, not notices (handoffs, moved shifts)".into()));
                    continue;
                }
                let alert = firing.apply(&d);
                let tally = Arc::new(Mutex::new(Tally { delivery: d, left: queues.len(), delivered: false, errors: Vec::new() }));
                for q in &queues {
                    if q.try_send(Job::Post(json!([alert]), tally.clone())).is_err() {
                        finish(&ctx, &tally, Err("the Alertmanager's queue is full".into()));
                    }
                }
            }
            _ = resend.tick() => {
                let all = firing.all();
                if all.is_empty() { continue }
                for q in &queues {
                    // A resend still waiting behind a slow instance makes a
                    // second one pointless: drop it.
                    let _ = q.try_send(Job::Resend(all.clone()));
                }
            }
        }
    }
    drop(queues);
    while instances.join_next().await.is_some() {}
}

async fn instance(am: Arc<Alertmanagers>, base: String, ctx: Ctx, mut jobs: mpsc::Receiver<Job>) {
    let url = format!("{base}/api/v2/alerts");
    let ctx = Ctx {
        shown: redact_url(&base),
        ..ctx
    };
    while let Some(job) = jobs.recv().await {
        let (body, tally, retry) = match job {
            Job::Post(body, tally) => (body, Some(tally), am.retry),
            // A resend need not outlive the next one.
            Job::Resend(all) => (
                Value::Array(all),
                None,
                RetryConfig {
                    deadline: am.resend.min(am.retry.deadline),
                    ..am.retry
                },
            ),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let result = deliver(&ctx, Schedule::new(retry, None), || {
            post_json(&am.http, &url, &bytes, retry.timeout)
        })
        .await;
        match tally {
            Some(t) => finish(&ctx, &t, result.map_err(|e| format!("{}: {e}", ctx.shown))),
            None => {
                if let Err(e) = &result {
                    ctx.metrics.notification_failed(&ctx.name);
                    tracing::error!(notifier = %ctx.name, to = %ctx.shown, error = %e, "resending the firing alerts failed");
                }
            }
        }
    }
}

/// Counts one instance's answer; the last one reports the delivery.
fn finish(ctx: &Ctx, tally: &Mutex<Tally>, result: Result<(), String>) {
    let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
    match result {
        Ok(()) => t.delivered = true,
        Err(e) => {
            tracing::warn!(notifier = %ctx.name, error = %e, "an Alertmanager did not take the alert");
            t.errors.push(e);
        }
    }
    t.left = t.left.saturating_sub(1);
    if t.left == 0 {
        let outcome = if t.delivered {
            Ok(())
        } else {
            Err(t.errors.join("; "))
        };
        let d = t.delivery.clone();
        drop(t);
        ctx.done(&d, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::direct::tests::{delivery, notification};
    use liveops_protocol::AlertStatus;

    #[test]
    fn a_postable_alert_keeps_the_labels_and_adds_the_page() {
        let d = delivery();
        let a = postable(&d);
        assert_eq!(a["labels"], serde_json::to_value(&d.alert.labels).unwrap());
        assert_eq!(a["annotations"]["page_id"], d.page_id);
        assert_eq!(a["annotations"]["page_severity"], "SEV2");
        assert_eq!(
            a["annotations"]["runbook_url"],
            "http://127.0.0.1:9470/runbooks/uptime"
        );
        assert_eq!(a["startsAt"], "2026-11-26T16:58:13.204Z");
        assert_eq!(a["generatorURL"], "http://127.0.0.1:9470");
        assert!(a.get("endsAt").is_none());
    }

    #[test]
    fn the_firing_set_holds_what_fires_and_a_resolve_carries_ends_at() {
        let mut f = Firing::default();
        let d = delivery();
        f.apply(&d);
        assert_eq!(f.all().len(), 1);
        let mut n = notification();
        n.status = AlertStatus::Resolved;
        n.ends_at = Some("2026-11-26T17:00:00.000Z".into());
        let r = super::super::direct(&n, "http://127.0.0.1:9470");
        let posted = f.apply(&r);
        assert_eq!(posted["endsAt"], "2026-11-26T17:00:00.000Z");
        assert_eq!(
            posted["labels"],
            serde_json::to_value(&d.alert.labels).unwrap()
        );
        assert!(f.all().is_empty());
    }
}
