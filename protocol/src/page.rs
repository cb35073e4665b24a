//! A page: what the paging policy asks one delivery channel to do.
//!
//! The alert book says *what* is firing ([`Notification`]); the pager
//! (routing, on-call, escalation) decides *who* hears of it, how urgently
//! and through which channel. Channels (PagerDuty, Alertmanager, Slack,
//! Discord, email, webhook, the JSON-lines file) only carry a [`Delivery`]
//! and answer with a [`DeliveryReport`]; they never decide whom to page.

use serde::{Deserialize, Serialize};

use crate::Notification;

/// How urgent a page is. `SEV1` wakes people; `SEV4` can wait for a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    #[serde(rename = "SEV1")]
    Sev1,
    #[serde(rename = "SEV2")]
    Sev2,
    #[serde(rename = "SEV3")]
    Sev3,
    #[serde(rename = "SEV4")]
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Self::Sev1, Self::Sev2, Self::Sev3, Self::Sev4];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sev1 => "SEV1",
            Self::Sev2 => "SEV2",
            Self::Sev3 => "SEV3",
            Self::Sev4 => "SEV4",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a delivery does to the page at the receiving end. The first three
/// are PagerDuty's `event_action` verbs; `Notify` tells a person something
/// (a [`Notice`]) and opens nothing: channels that only know incidents
/// (PagerDuty, Alertmanager) are never handed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageAction {
    Trigger,
    Acknowledge,
    Resolve,
    Notify,
}

/// The person a delivery is for, and the address this channel knows them
/// by (a PagerDuty routing key, an email address, a Slack or Discord user
/// id). `None` as a whole means the channel's own configured destination
/// (a team's Slack channel, an Alertmanager).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// One delivery of one page through one channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Stable for the page's whole life (trigger, repeats, escalations,
    /// acknowledge, resolve): PagerDuty's `dedup_key`, an email thread, the
    /// key a receiver de-duplicates by.
    pub page_id: String,
    pub action: PageAction,
    pub severity: Severity,
    /// The owning team (`engineering`, `ops`, `community`, …).
    pub team: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Recipient>,
    /// 1 for the first notification, then 2, 3… for escalations and repeats.
    pub attempt: u32,
    /// The alert itself: labels (`alertname`, `world`, `slo`, …) and
    /// annotations (`summary`, `description`, `runbook_url`, `owner`).
    pub alert: Notification,
    /// The page in the collector (`{public_url}/api/v1/pages/{page_id}`).
    pub page_url: String,
    /// When the pager decided this delivery (milliseconds since the epoch).
    pub at_ms: u64,
    /// With [`PageAction::Notify`]: what the person is told, as data (the
    /// alert's `summary` and `description` say it in words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
}

/// Something a person on call is told that is not a page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Notice {
    /// `to` takes over `team`'s `role` at `at`, with what is firing for
    /// the team at that moment.
    Handoff {
        role: String,
        /// RFC 3339.
        at: String,
        /// Who held it until then; `None` after a gap.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_person: Option<String>,
        firing: Vec<FiringPage>,
    },
    /// A change to the schedule gave `to` these shifts and took those.
    ShiftsMoved {
        gained: Vec<ShiftSpan>,
        lost: Vec<ShiftSpan>,
    },
}

/// One open page, as a handoff notice lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiringPage {
    pub page_id: String,
    pub alertname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    pub severity: Severity,
    pub summary: String,
    /// `acked`, `open` or `held`.
    pub state: String,
    /// The page in the collector.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
}

/// One shift of one person: `team`'s `role` over `[from, until)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftSpan {
    pub team: String,
    pub role: String,
    /// RFC 3339.
    pub from: String,
    pub until: String,
}

impl Delivery {
    /// The alert's one-line summary, falling back to its name.
    pub fn summary(&self) -> &str {
        self.alert
            .annotations
            .get("summary")
            .or_else(|| self.alert.labels.get("alertname"))
            .map_or("alert", String::as_str)
    }
}

/// A channel's answer about one delivery, after its own retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryReport {
    pub page_id: String,
    pub channel: String,
    pub action: PageAction,
    pub attempt: u32,
    /// `None` when delivered; otherwise why not (no secrets in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub at_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_read_back_and_order_by_urgency() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
        }
        assert_eq!(Severity::parse("sev2"), Some(Severity::Sev2));
        assert_eq!(Severity::parse("SEV5"), None);
        assert!(Severity::Sev1 < Severity::Sev4);
    }
}
