//! Notices in flight: a handoff or moved-shifts notice that a channel
//! failed to deliver goes out through the next channel that shows the
//! person a message, like a page's trigger falls back within its step;
//! when none is left the person is recorded as not told
//! (`notice-undelivered`), never silently dropped.

use liveops_protocol::{Delivery, DeliveryReport, Recipient, Severity};
use serde::{Deserialize, Serialize};

use super::book::{Book, Ctx, Effects};
use super::dispatch::takes_notice;
use super::event::{PageEvent, PageEventKind as K};

/// A notice whose delivery report has not come back, and the channels
/// left to try.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    pub delivery: Delivery,
    pub channel: String,
    pub person: String,
    pub what: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<String>,
}

/// A notice's report that never comes (the collector restarted with the
/// delivery queued) is given up after this long.
pub const GIVE_UP_MS: u64 = 24 * 3_600_000;

impl Book {
    /// Addresses `d` to `person` through the channel that suits them
    /// best, keeps the others for a failure, and records the decision.
    pub(super) fn send_notice(
        &mut self,
        cx: &Ctx<'_>,
        person: &str,
        d: Delivery,
        what: &str,
        now: u64,
        fx: &mut Effects,
    ) {
        let mut channels = channels_for(cx, person);
        if channels.is_empty() {
            let e = PageEvent::new(K::NoticeUndelivered, now)
                .notice(&d.page_id, &d.team)
                .via("", Some(person), 1)
                .why(format!(
                    "{what}: no channel of the paging policy shows a message (slack, discord, email, webhook, file)"
                ));
            fx.events.push(e);
            return;
        }
        let channel = channels.remove(0);
        let flight = InFlight {
            delivery: d,
            channel,
            person: person.to_owned(),
            what: what.to_owned(),
            fallback: channels,
        };
        self.dispatch_notice(cx, flight, now, fx);
    }

    fn dispatch_notice(&mut self, cx: &Ctx<'_>, mut f: InFlight, now: u64, fx: &mut Effects) {
        let kind = cx.channels.kind(&f.channel).unwrap_or_default();
        f.delivery.to = Some(Recipient {
            person: f.person.clone(),
            address: cx.roster.address(&f.person, &kind),
        });
        f.delivery.at_ms = now;
        let e = PageEvent::new(K::Notified, now)
            .notice(&f.delivery.page_id, &f.delivery.team)
            .via(&f.channel, Some(&f.person), f.delivery.attempt)
            .why(format!("{}: {}", f.what, f.delivery.summary()));
        fx.events.push(e);
        fx.deliveries.push((f.channel.clone(), f.delivery.clone()));
        self.notices.insert(f.delivery.page_id.clone(), f);
    }

    /// A channel's answer about a notice.
    pub(super) fn notice_report(
        &mut self,
        cx: &Ctx<'_>,
        r: &DeliveryReport,
        now: u64,
        fx: &mut Effects,
    ) {
        let ours = self
            .notices
            .get(&r.page_id)
            .is_some_and(|f| f.channel == r.channel && f.delivery.attempt == r.attempt);
        if !ours {
            return;
        }
        let Some(mut f) = self.notices.remove(&r.page_id) else {
            return;
        };
        let Some(error) = &r.error else {
            return;
        };
        let (id, team) = (f.delivery.page_id.clone(), f.delivery.team.clone());
        let via = |e: PageEvent| {
            e.notice(&id, &team)
                .via(&r.channel, Some(&f.person), r.attempt)
        };
        if f.fallback.is_empty() {
            fx.events.push(via(PageEvent::new(K::NoticeUndelivered, now)
                .why(format!("{}: {error}; no channel left", f.what))));
            return;
        }
        let next = f.fallback.remove(0);
        fx.events
            .push(via(PageEvent::new(K::DeliveryFailed, now)
                .why(format!("{error}; falling back to {next}"))));
        f.channel = next;
        f.delivery.attempt = f.delivery.attempt.saturating_add(1);
        self.dispatch_notice(cx, f, now, fx);
    }

    /// Forgets notices whose report never came.
    pub(super) fn prune_notices(&mut self, now: u64) {
        self.notices
            .retain(|_, f| f.delivery.at_ms.saturating_add(GIVE_UP_MS) >= now);
    }
}

/// The channels that may carry a notice to `person`, best first: those
/// of the policy (in the order its steps name them) that show a message
/// and know the person's address, then those that show a message at all
/// (a webhook, a team's Slack).
fn channels_for(cx: &Ctx<'_>, person: &str) -> Vec<String> {
    let mut named: Vec<&str> = Vec::new();
    for sev in Severity::ALL {
        for step in &cx.policy.policy(sev).steps {
            for c in &step.channels {
                if !named.contains(&c.as_str()) {
                    named.push(c);
                }
            }
        }
    }
    let showing: Vec<(&str, String)> = named
        .into_iter()
        .filter_map(|c| Some((c, cx.channels.kind(c).filter(|k| takes_notice(k))?)))
        .collect();
    let (addressed, rest): (Vec<_>, Vec<_>) = showing
        .into_iter()
        .partition(|(_, k)| cx.roster.address(person, k).is_some());
    addressed
        .into_iter()
        .chain(rest)
        .map(|(c, _)| c.to_owned())
        .collect()
}
