//! A page as the book keeps it: its state, the alerts grouped into it,
//! where its escalation is, and every delivery handed to a channel.

use std::collections::BTreeMap;

use liveops_protocol::{Notification, PageAction, Severity};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageState {
    /// Outside the owning team's working hours: paged when they start.
    Held,
    Open,
    Acked,
    Resolved,
}

/// Who did something to a page, when and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    pub actor: String,
    pub role: String,
    pub reason: String,
    pub at_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageAlert {
    /// The latest word on it (firing, or resolved with `endsAt`).
    pub notification: Notification,
    pub firing: bool,
    pub joined_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Pending,
    Delivered { done_ms: u64 },
    Failed { done_ms: u64, error: String },
}

/// One delivery handed to a channel: who was notified, when, through what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub at_ms: u64,
    pub attempt: u32,
    pub action: PageAction,
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    pub step: usize,
    pub cycle: u32,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The step's channels not yet tried for this delivery, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub id: String,
    pub team: String,
    pub world: String,
    pub severity: Severity,
    pub state: PageState,
    pub opened_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<Stamp>,
    /// By fingerprint; the alerts grouped into this page.
    pub alerts: BTreeMap<String, PageAlert>,
    /// The alert deliveries carry: the one that opened (or reopened) it,
    /// or last raised its severity.
    pub lead: String,
    /// Where escalation is: step index within cycle (0 = first pass).
    pub step: usize,
    pub cycle: u32,
    /// When the page next moves on its own (escalation, end of a hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_ms: Option<u64>,
    /// Trigger deliveries numbered so far (`Delivery::attempt`).
    pub attempts: u32,
    pub sent: Vec<Sent>,
    #[serde(default)]
    pub reopened: u32,
}

impl Page {
    pub fn lead_alert(&self) -> Option<&Notification> {
        self.alerts
            .get(&self.lead)
            .or_else(|| self.alerts.values().next())
            .map(|a| &a.notification)
    }

    pub fn lead_alertname(&self) -> Option<&str> {
        self.lead_alert().and_then(|n| n.label("alertname"))
    }

    pub fn id(&self) -> String {
        self.id.clone()
    }

    pub fn is_open(&self) -> bool {
        self.state != PageState::Resolved
    }
}
