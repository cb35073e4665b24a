//! PagerDuty Events API v2: one event per delivery, `dedup_key` = page id,
//! so PagerDuty opens one incident per page and acknowledges or resolves
//! that one. 202 is success; 400 is final (PagerDuty's `errors` are in the
//! log line); 429 and 5xx are retried.

use liveops_config::{RetryConfig, Secret};
use liveops_protocol::{Delivery, PageAction, Severity};
use serde_json::{Value, json};

use super::retry::{Outcome, Schedule, deliver, post_json};
use super::text::{person, runbook, truncate, what};
use super::{Carrier, Ctx};

/// PagerDuty's limits: the summary, and the whole event.
const SUMMARY_MAX: usize = 1_024;
const PAYLOAD_MAX: usize = 512 * 1024;

pub struct PagerDuty {
    http: reqwest::Client,
    url: String,
    routing_key: Option<Secret>,
    retry: RetryConfig,
}

impl PagerDuty {
    pub fn new(
        http: reqwest::Client,
        url: &str,
        routing_key: Option<Secret>,
        retry: RetryConfig,
    ) -> Self {
        PagerDuty {
            http,
            url: url.to_owned(),
            routing_key,
            retry,
        }
    }
}

impl Carrier for PagerDuty {
    async fn carry(&self, ctx: &Ctx, d: &Delivery) -> Result<(), String> {
        if d.action == PageAction::Notify {
            // PagerDuty tells people of their own handoffs; the pager
            // sends notices elsewhere (`dispatch::takes_notice`).
            return Err("PagerDuty takes pages, not notices (handoffs, moved shifts)".into());
        }
        // The recipient's own routing key (their service) wins.
        let key =
            d.to.as_ref()
                .and_then(|r| r.address.as_deref())
                .or(self.routing_key.as_ref().map(Secret::expose))
                .ok_or(
                    "no routing key: the recipient has none and the notifier sets no `routing_key`",
                )?;
        let body = serde_json::to_vec(&event(d, key)).map_err(|e| e.to_string())?;
        deliver(ctx, Schedule::new(self.retry, None), || async {
            match post_json(&self.http, &self.url, &body, self.retry.timeout).await {
                // The answer to a bad event names the bad fields; the key is
                // never among them (PagerDuty does not echo it).
                Outcome::Refused(why) => {
                    Outcome::Refused(format!("PagerDuty refused the event: {why}"))
                }
                other => other,
            }
        })
        .await
    }
}

/// The event for one delivery. Acknowledge and resolve carry only what
/// PagerDuty reads from them.
pub(crate) fn event(d: &Delivery, routing_key: &str) -> Value {
    let action = match d.action {
        PageAction::Trigger => "trigger",
        PageAction::Acknowledge => "acknowledge",
        PageAction::Resolve => "resolve",
        // Never handed one (see `Carrier::carry` above); a trigger of it
        // would open an incident for a handoff.
        PageAction::Notify => "notify",
    };
    if d.action != PageAction::Trigger {
        return json!({"routing_key": routing_key, "event_action": action, "dedup_key": d.page_id});
    }
    let summary = format!("[{}] {}: {}", d.severity, what(d), d.summary());
    let mut links = Vec::new();
    if let Some(r) = runbook(d) {
        links.push(json!({"href": r, "text": "Runbook"}));
    }
    links.push(json!({"href": d.page_url, "text": "Page in liveops"}));
    let mut ev = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": d.page_id,
        "client": "liveops",
        "client_url": d.alert.generator_url,
        "payload": {
            "summary": truncate(&summary, SUMMARY_MAX),
            "source": d.alert.label("world").unwrap_or("liveops-collector"),
            "severity": severity(d.severity),
            "timestamp": d.alert.starts_at,
            "component": d.alert.label("slo").unwrap_or("liveops"),
            "group": d.team,
            "class": d.alert.label("alertname").unwrap_or("alert"),
            "custom_details": {
                "labels": d.alert.labels,
                "annotations": d.alert.annotations,
                "team": d.team,
                "person": person(d),
                "attempt": d.attempt,
                "page": d.page_url,
            },
        },
        "links": links,
    });
    fit(&mut ev);
    ev
}

pub(crate) fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Sev1 => "critical",
        Severity::Sev2 => "error",
        Severity::Sev3 => "warning",
        Severity::Sev4 => "info",
    }
}

/// Keeps the event under PagerDuty's 512 KB by shortening the texts of
/// `custom_details` (halving their room each round), and at last dropping
/// them: the summary and links still say what and where.
fn fit(ev: &mut Value) {
    let mut room = 8_192;
    while serde_json::to_vec(ev).map_or(0, |b| b.len()) > PAYLOAD_MAX {
        let details = &mut ev["payload"]["custom_details"];
        if room < 64 {
            *details =
                json!({"truncated": "the details were too large for PagerDuty; see the page link"});
            return;
        }
        shorten(details, room);
        room /= 2;
    }
}

fn shorten(v: &mut Value, room: usize) {
    match v {
        Value::String(s) if s.chars().count() > room => *s = truncate(s, room).into_owned(),
        Value::Object(m) => m.values_mut().for_each(|v| shorten(v, room)),
        Value::Array(a) => a.iter_mut().for_each(|v| shorten(v, room)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::direct::tests::delivery;

    #[test]
    fn a_trigger_carries_every_documented_field() {
        let d = delivery();
        let ev = event(&d, "R0UT1NG");
        assert_eq!(ev["routing_key"], "R0UT1NG");
        assert_eq!(ev["event_action"], "trigger");
        assert_eq!(ev["dedup_key"], d.page_id);
        let p = &ev["payload"];
        assert_eq!(
            p["summary"],
            "[SEV2] TickStalled w2: w2 is not ticking: last tick 1.1 s ago"
        );
        assert_eq!(p["source"], "w2");
        assert_eq!(p["severity"], "error");
        assert_eq!(p["timestamp"], "2026-11-26T16:58:13.204Z");
        assert_eq!(p["component"], "uptime");
        assert_eq!(p["group"], "platform-oncall");
        assert_eq!(p["class"], "TickStalled");
        assert_eq!(p["custom_details"]["labels"]["world"], "w2");
        assert_eq!(p["custom_details"]["attempt"], 1);
        assert_eq!(
            ev["links"][0]["href"],
            "http://127.0.0.1:9470/runbooks/uptime"
        );
        assert_eq!(ev["links"][1]["href"], d.page_url);
    }

    #[test]
    fn acknowledge_and_resolve_carry_only_key_action_and_dedup_key() {
        let mut d = delivery();
        for (action, word) in [
            (PageAction::Acknowledge, "acknowledge"),
            (PageAction::Resolve, "resolve"),
        ] {
            d.action = action;
            let ev = event(&d, "K");
            assert_eq!(
                ev,
                json!({"routing_key": "K", "event_action": word, "dedup_key": d.page_id})
            );
        }
    }

    #[test]
    fn severities_map_to_pagerdutys_four() {
        let got: Vec<_> = Severity::ALL.into_iter().map(severity).collect();
        assert_eq!(got, ["critical", "error", "warning", "info"]);
    }

    #[test]
    fn a_long_summary_and_huge_details_stay_within_limits() {
        let mut d = delivery();
        d.alert
            .annotations
            .insert("summary".into(), "é".repeat(5_000));
        d.alert
            .annotations
            .insert("description".into(), "x".repeat(600_000));
        for i in 0..2_000 {
            d.alert.labels.insert(format!("label_{i}"), "v".repeat(300));
        }
        let ev = event(&d, "K");
        let summary = ev["payload"]["summary"].as_str().unwrap();
        assert_eq!(summary.chars().count(), SUMMARY_MAX);
        assert!(summary.ends_with('…'));
        let size = serde_json::to_vec(&ev).unwrap().len();
        assert!(size <= PAYLOAD_MAX, "{size} bytes");
        assert_eq!(ev["payload"]["custom_details"]["labels"]["world"], "w2");
        assert_eq!(ev["dedup_key"], d.page_id);
    }
}
