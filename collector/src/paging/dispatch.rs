//! Where the pager hands its deliveries: named channels. The pager's own
//! trait, so the core is tested with a recording fake and the collector
//! can plug in whichever notifiers it has.
//!
//! [`NotifierDispatch`] is the collector's notifiers (`crate::notify`):
//! PagerDuty, Alertmanager, Slack, Discord, email, webhook, file.

use std::sync::Arc;

use liveops_protocol::Delivery;

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

/// Channel kinds that carry a notice (a handoff, moved shifts) to a
/// person: those that show a message. PagerDuty and Alertmanager know
/// only incidents and alerts.
pub fn takes_notice(kind: &str) -> bool {
    matches!(
        kind,
        "slack" | "discord" | "email" | "webhook" | "file" | "stdout"
    )
}

/// The collector's notifiers as channels: each delivery queued on the
/// named one, whose [`DeliveryReport`](liveops_protocol::DeliveryReport) comes back through the receiver
/// [`Notifiers::start`] returned.
pub struct NotifierDispatch {
    pub notifiers: Arc<Notifiers>,
}

impl Dispatch for NotifierDispatch {
    fn deliver(&self, channel: &str, d: Delivery) -> bool {
        self.notifiers.deliver(channel, d).is_ok()
    }

    fn kind(&self, channel: &str) -> Option<String> {
        self.notifiers
            .channels()
            .find(|(name, _)| *name == channel)
            .map(|(_, kind)| kind.as_str().to_owned())
    }
}
