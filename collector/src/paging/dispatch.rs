//! Where the pager hands its deliveries: named channels. The pager's own
//! trait, so the core is tested with a recording fake and the collector
//! can plug in whichever notifiers it has.
//!
//! [`NotifierDispatch`] adapts today's notifiers (JSON-lines file, stdout,
//! webhook), which carry a [`Notification`]: the page's facts ride in its
//! annotations, and each notifier's outcome comes back as a
//! [`DeliveryReport`]. Channels that take a [`Delivery`] whole replace it.

use std::sync::Arc;

use liveops_protocol::{Delivery, DeliveryReport, Notification, PageAction};
use tokio::sync::mpsc;

use crate::notify::Notifiers;

pub trait Dispatch: Send + Sync {
    /// Queues `d` on `channel`; false when it cannot be queued (unknown
    /// channel, full queue): that counts as a failed delivery.
    fn deliver(&self, channel: &str, d: Delivery) -> bool;
    /// The channel's kind (`pagerduty`, `slack`, `webhook`, …), `None`
    /// for an unknown channel.
    fn kind(&self, channel: &str) -> Option<String>;
}

/// Channel kinds that understand an acknowledgement; the others
/// (Alertmanager, email) hear only of triggers and resolves.
pub fn takes_ack(kind: &str) -> bool {
    matches!(
        kind,
        "pagerduty" | "slack" | "discord" | "webhook" | "file" | "stdout"
    )
}

/// Today's notifiers as channels.
pub struct NotifierDispatch {
    pub notifiers: Arc<Notifiers>,
    pub reports: mpsc::UnboundedSender<DeliveryReport>,
}

impl Dispatch for NotifierDispatch {
    fn deliver(&self, channel: &str, d: Delivery) -> bool {
        let report = DeliveryReport {
            page_id: d.page_id.clone(),
            channel: channel.to_owned(),
            action: d.action,
            attempt: d.attempt,
            error: None,
            at_ms: d.at_ms,
        };
        let tx = self.reports.clone();
        let done = Box::new(move |outcome: Result<(), String>| {
            let _ = tx.send(DeliveryReport {
                error: outcome.err(),
                at_ms: crate::now_ms(),
                ..report
            });
        });
        self.notifiers.send_to(channel, &as_notification(&d), done)
    }

    fn kind(&self, channel: &str) -> Option<String> {
        self.notifiers.kind(channel).map(str::to_owned)
    }
}

/// The alert as a notifier shows it, with the page's facts added: its id
/// (the key a receiver de-duplicates by), action, severity, owning team,
/// the person paged and the page's link.
fn as_notification(d: &Delivery) -> Notification {
    let mut n = d.alert.clone();
    let a = &mut n.annotations;
    a.insert("page_id".into(), d.page_id.clone());
    a.insert("page_url".into(), d.page_url.clone());
    a.insert("page_severity".into(), d.severity.to_string());
    a.insert("page_team".into(), d.team.clone());
    a.insert("page_attempt".into(), d.attempt.to_string());
    let action = match d.action {
        PageAction::Trigger => "trigger",
        PageAction::Acknowledge => "acknowledge",
        PageAction::Resolve => "resolve",
    };
    a.insert("page_action".into(), action.into());
    if let Some(to) = &d.to {
        a.insert("paged".into(), to.person.clone());
    }
    n
}
