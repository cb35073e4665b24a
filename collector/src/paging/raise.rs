//! A page's severity rises when a more urgent alert joins it: a SEV2
//! `HighFailureRatio` page of w2 becomes SEV1 when payments of w2 start
//! failing too. The new severity's policy applies from its first step (its
//! acknowledgement deadline, its extra teams such as `community` for SEV1),
//! and everyone that step names is triggered again with the same page id,
//! so PagerDuty updates the incident it already has (same `dedup_key`, new
//! severity) rather than opening a second one.
//!
//! A severity never falls back while the page is open: the people already
//! woken stay on it until it resolves.

use liveops_protocol::{Notification, Severity};

use super::book::{Ctx, Effects, Page, PageState};
use super::escalate;
use super::event::{PageEvent, PageEventKind as K};

/// Raises `page` to `to` because `by` (with fingerprint `fp`) joined it.
/// Nothing happens unless `to` is more urgent than the page's severity.
pub(super) fn raise(
    cx: &Ctx<'_>,
    page: &mut Page,
    to: Severity,
    (fp, by): (&str, &Notification),
    now: u64,
    fx: &mut Effects,
) {
    // SEV1 < SEV2: more urgent sorts first.
    if to >= page.severity || !page.is_open() {
        return;
    }
    let from = page.severity;
    page.severity = to;
    // Deliveries now carry the alert that made it more urgent.
    page.lead = fp.to_owned();
    let why = format!(
        "{from} → {to}: {} joined",
        by.label("alertname").unwrap_or("an alert")
    );
    fx.events
        .push(PageEvent::new(K::Raised, now).page(page).alert(by).why(why));
    match page.state {
        // Someone is on it: they, and whoever the new severity adds, hear
        // of the new severity, but nothing escalates past their ack.
        PageState::Acked => {
            (page.step, page.cycle) = (0, 0);
            escalate::notify_step(cx, page, now, fx);
            page.state = PageState::Acked;
            page.due_ms = None;
        }
        // Escalation starts over under the new policy: its first step, its
        // deadline (and its working hours: a held SEV3 raised to SEV1 pages
        // at once).
        PageState::Open | PageState::Held => escalate::start(cx, page, now, fx),
        PageState::Resolved => {}
    }
}
