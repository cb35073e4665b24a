//! The page an alert change becomes when no pager decides: every channel
//! hears of every alert, as the notifiers always did.

use liveops_protocol::{AlertStatus, Delivery, Notification, PageAction, Severity};
use sha2::{Digest, Sha256};

/// `page` alerts wake someone (SEV2); `ticket` ones wait (SEV3). The page
/// id hashes the alert's labels, so its trigger and resolve share it.
pub fn direct(n: &Notification, public_url: &str) -> Delivery {
    let page_id = page_id(n);
    Delivery {
        page_url: format!("{public_url}/api/v1/pages/{page_id}"),
        page_id,
        action: match n.status {
            AlertStatus::Firing => PageAction::Trigger,
            AlertStatus::Resolved => PageAction::Resolve,
        },
        severity: match n.label("severity") {
            Some("page") => Severity::Sev2,
            _ => Severity::Sev3,
        },
        team: n.annotations.get("owner").cloned().unwrap_or_default(),
        to: None,
        attempt: 1,
        alert: n.clone(),
        at_ms: crate::now_ms(),
        notice: None,
    }
}

/// First 32 hex digits of the SHA-256 of the labels (sorted, each
/// `key\0value\0`, so no two label sets hash the same text).
fn page_id(n: &Notification) -> String {
    let mut h = Sha256::new();
    for (k, v) in &n.labels {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    let mut id = hex::encode(h.finalize());
    id.truncate(32);
    id
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn notification() -> Notification {
        let labels = [
            ("alertname", "TickStalled"),
            ("severity", "page"),
            ("slo", "uptime"),
            ("world", "w2"),
        ];
        let annotations = [
            ("summary", "w2 is not ticking: last tick 1.1 s ago"),
            ("description", "The game still answers its probe."),
            ("owner", "platform-oncall"),
            ("runbook_url", "http://127.0.0.1:9470/runbooks/uptime"),
        ];
        Notification {
            status: AlertStatus::Firing,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            starts_at: "2026-11-26T16:58:13.204Z".into(),
            ends_at: None,
            generator_url: "http://127.0.0.1:9470".into(),
        }
    }

    /// A trigger of the usual tick-stall page.
    pub(crate) fn delivery() -> Delivery {
        direct(&notification(), "http://127.0.0.1:9470")
    }

    #[test]
    fn an_alert_change_becomes_a_page_of_its_severity_and_owner() {
        let d = delivery();
        assert_eq!(d.action, PageAction::Trigger);
        assert_eq!(d.severity, Severity::Sev2);
        assert_eq!(d.team, "platform-oncall");
        assert_eq!(d.page_id.len(), 32);
        assert!(d.page_id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            d.page_url,
            format!("http://127.0.0.1:9470/api/v1/pages/{}", d.page_id)
        );

        let mut resolved = notification();
        resolved.status = AlertStatus::Resolved;
        resolved.ends_at = Some("2026-11-26T17:00:00.000Z".into());
        let r = direct(&resolved, "http://127.0.0.1:9470");
        assert_eq!(r.action, PageAction::Resolve);
        assert_eq!(
            r.page_id, d.page_id,
            "trigger and resolve share the page id"
        );

        let mut ticket = notification();
        ticket.labels.insert("severity".into(), "ticket".into());
        let t = direct(&ticket, "http://x");
        assert_eq!(t.severity, Severity::Sev3);
        assert_ne!(t.page_id, d.page_id);
    }
}
