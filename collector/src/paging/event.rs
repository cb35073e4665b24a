//! Every paging decision, as the event stream carries it: the audit log
//! records each one, `/metrics` counts them, and an incident's timeline is
//! built from them.

use std::collections::BTreeMap;

use liveops_protocol::{Notification, Severity};
use serde::{Deserialize, Serialize};

use super::book::Page;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageEventKind {
    /// An alert was given an owning team and a severity.
    Routed,
    /// A new page was opened, or a firing alert joined an open one.
    Opened,
    Grouped,
    /// A more urgent alert joined: the page's severity rose and the new
    /// severity's policy took over.
    Raised,
    /// A delivery was handed to a channel (a person, or the channel's own
    /// destination).
    Paged,
    Delivered,
    DeliveryFailed,
    /// A failed delivery went out again through the step's next channel.
    FallbackUsed,
    /// An unacknowledged page moved on to its next step.
    Escalated,
    /// ... or, after its last step, began again from the first.
    Repeated,
    /// Every step and repeat is spent and nobody acknowledged.
    Exhausted,
    Acked,
    Resolved,
    /// An alert of a recently resolved page fired again within the flap window.
    Reopened,
    /// An alert matched a silence or a maintenance window: recorded, not paged.
    Silenced,
    /// An alert was held back by a firing alert that inhibits it.
    Inhibited,
    /// Outside the owning team's working hours: paged when they start.
    HeldForWorkingHours,
    SilenceAdded,
    SilenceExpired,
    /// A person was told of a handoff or of shifts a new schedule moved.
    Notified,
    /// ... or could not be: no channel of the policy shows a message.
    NoticeUndelivered,
}

impl PageEventKind {
    /// The bounded `event` label of `liveops_collector_pages_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Routed => "routed",
            Self::Opened => "opened",
            Self::Grouped => "grouped",
            Self::Raised => "raised",
            Self::Paged => "paged",
            Self::Delivered => "delivered",
            Self::DeliveryFailed => "delivery-failed",
            Self::FallbackUsed => "fallback-used",
            Self::Escalated => "escalated",
            Self::Repeated => "repeated",
            Self::Exhausted => "exhausted",
            Self::Acked => "acked",
            Self::Resolved => "resolved",
            Self::Reopened => "reopened",
            Self::Silenced => "silenced",
            Self::Inhibited => "inhibited",
            Self::HeldForWorkingHours => "held-for-working-hours",
            Self::SilenceAdded => "silence-added",
            Self::SilenceExpired => "silence-expired",
            Self::Notified => "notified",
            Self::NoticeUndelivered => "notice-undelivered",
        }
    }

    pub const ALL: [PageEventKind; 21] = [
        Self::Routed,
        Self::Opened,
        Self::Grouped,
        Self::Raised,
        Self::Paged,
        Self::Delivered,
        Self::DeliveryFailed,
        Self::FallbackUsed,
        Self::Escalated,
        Self::Repeated,
        Self::Exhausted,
        Self::Acked,
        Self::Resolved,
        Self::Reopened,
        Self::Silenced,
        Self::Inhibited,
        Self::HeldForWorkingHours,
        Self::SilenceAdded,
        Self::SilenceExpired,
        Self::Notified,
        Self::NoticeUndelivered,
    ];
}

/// One decision, with everything a reader of the timeline needs to tell
/// what happened to whom without looking anything else up. No addresses:
/// a routing key or a webhook URL is a secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageEvent {
    pub kind: PageEventKind,
    pub at_ms: u64,
    /// `p-N`, a silence's `s-N`, or a notice's `n-…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The alert's labels, or a silence's matchers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Who decided: an operator's token name, or `pager`.
    pub actor: String,
    pub role: String,
    /// The operator's reason, or why the pager did it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl PageEvent {
    pub fn new(kind: PageEventKind, at_ms: u64) -> PageEvent {
        PageEvent {
            kind,
            at_ms,
            id: None,
            severity: None,
            team: None,
            alertname: None,
            world: None,
            channel: None,
            person: None,
            attempt: None,
            labels: BTreeMap::new(),
            actor: "pager".into(),
            role: "collector".into(),
            reason: String::new(),
        }
    }

    /// About `page` (and its leading alert).
    pub fn page(mut self, page: &Page) -> Self {
        self.id = Some(page.id());
        self.severity = Some(page.severity);
        self.team = Some(page.team.clone());
        self.world = Some(page.world.clone());
        if self.alertname.is_none() {
            self.alertname = page.lead_alertname().map(str::to_owned);
        }
        self
    }

    /// About one alert.
    pub fn alert(mut self, n: &Notification) -> Self {
        self.alertname = n.label("alertname").map(str::to_owned);
        self.world = n.label("world").map(str::to_owned);
        self.labels = n.labels.clone();
        self
    }

    pub fn team_severity(mut self, team: &str, severity: Severity) -> Self {
        self.team = Some(team.to_owned());
        self.severity = Some(severity);
        self
    }

    /// About a notice (`n-…`) for `team`.
    pub fn notice(mut self, id: &str, team: &str) -> Self {
        self.id = Some(id.to_owned());
        if !team.is_empty() {
            self.team = Some(team.to_owned());
        }
        self
    }

    pub fn by(mut self, actor: &str, role: &str) -> Self {
        actor.clone_into(&mut self.actor);
        role.clone_into(&mut self.role);
        self
    }

    pub fn why(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    pub fn via(mut self, channel: &str, person: Option<&str>, attempt: u32) -> Self {
        self.channel = Some(channel.to_owned());
        self.person = person.map(str::to_owned);
        self.attempt = Some(attempt);
        self
    }
}
