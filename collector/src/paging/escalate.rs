//! A page's life once opened: held until working hours, paged step by
//! step, escalated at each unacknowledged deadline (exactly at it: a
//! deadline of 5 minutes is 300,000 ms, not a tick later), repeated, moved
//! to the next channel of its step when a delivery fails, acknowledged,
//! resolved at every channel that was told.

use liveops_config::paging::{OutsideHours, Target};
use liveops_protocol::{Delivery, DeliveryReport, PageAction, Recipient};

use super::book::{Actor, Ctx, Effects, Outcome, Page, PageError, PageState, Sent, Stamp};
use super::dispatch::takes_ack;
use super::event::{PageEvent, PageEventKind as K};

/// The pager's own stamp, for what it does by itself.
pub(super) fn by_pager(reason: &str, now: u64) -> Stamp {
    Stamp {
        actor: "pager".into(),
        role: "collector".into(),
        reason: reason.into(),
        at_ms: now,
    }
}

/// From the first step, or held when the policy keeps this severity to
/// the team's working hours and they are not now.
pub(super) fn start(cx: &Ctx<'_>, page: &mut Page, now: u64, fx: &mut Effects) {
    page.step = 0;
    page.cycle = 0;
    let policy = cx.policy.policy(page.severity);
    let hours = cx.policy.working_hours.get(&page.team);
    match hours.filter(|h| policy.working_hours && !h.contains(now)) {
        None => notify_step(cx, page, now, fx),
        Some(h) => match &policy.outside_hours {
            OutsideHours::Hold => {
                page.state = PageState::Held;
                page.due_ms = h.next_start(now);
                let why = match page.due_ms {
                    Some(t) => format!("until {}", crate::rfc3339(t)),
                    None => "the team has no working days".into(),
                };
                fx.events.push(
                    PageEvent::new(K::HeldForWorkingHours, now)
                        .page(page)
                        .why(why),
                );
            }
            OutsideHours::Channel(c) => {
                // A ticket, not a person: nothing to escalate.
                page.due_ms = None;
                send_trigger(cx, page, None, c.clone(), Vec::new(), now, fx);
            }
        },
    }
}

/// Delivers the current step to everyone it names, through the step's
/// first channel; the deadline starts now.
pub(super) fn notify_step(cx: &Ctx<'_>, page: &mut Page, now: u64, fx: &mut Effects) {
    let policy = cx.policy.policy(page.severity);
    let step = &policy.steps[page.step.min(policy.steps.len() - 1)];
    let mut people: Vec<Option<String>> = Vec::new();
    for target in &step.notify {
        let found = match target {
            Target::Person(p) => vec![p.clone()],
            Target::OnCall { team, role } => {
                let team = team.as_deref().unwrap_or(&page.team);
                cx.roster.on_call(team, role.as_str(), now)
            }
        };
        for p in found {
            if !people.contains(&Some(p.clone())) {
                people.push(Some(p));
            }
        }
    }
    // Nobody on call (no schedule yet): each channel's own destination.
    if people.is_empty() {
        people.push(None);
    }
    for person in people {
        let (first, rest) = step.channels.split_first().expect("validated: never empty");
        send_trigger(cx, page, person, first.clone(), rest.to_vec(), now, fx);
    }
    page.state = PageState::Open;
    page.due_ms =
        Some(now.saturating_add(u64::try_from(step.ack_deadline.as_millis()).unwrap_or(u64::MAX)));
}

fn send_trigger(
    cx: &Ctx<'_>,
    page: &mut Page,
    person: Option<String>,
    channel: String,
    fallback: Vec<String>,
    now: u64,
    fx: &mut Effects,
) {
    page.attempts += 1;
    let attempt = page.attempts;
    let e = PageEvent::new(K::Paged, now)
        .page(page)
        .via(&channel, person.as_deref(), attempt);
    fx.events.push(e);
    send(
        cx,
        page,
        PageAction::Trigger,
        person,
        attempt,
        channel,
        fallback,
        now,
        fx,
    );
}

#[allow(clippy::too_many_arguments)]
fn send(
    cx: &Ctx<'_>,
    page: &mut Page,
    action: PageAction,
    person: Option<String>,
    attempt: u32,
    channel: String,
    fallback: Vec<String>,
    now: u64,
    fx: &mut Effects,
) {
    let kind = cx.channels.kind(&channel);
    let to = person.as_ref().map(|p| Recipient {
        person: p.clone(),
        address: kind.as_deref().and_then(|k| cx.roster.address(p, k)),
    });
    let Some(alert) = page.lead_alert().cloned() else {
        return;
    };
    let d = Delivery {
        page_id: page.id.clone(),
        action,
        severity: page.severity,
        team: page.team.clone(),
        to,
        attempt,
        alert,
        page_url: format!("{}/api/v1/pages/{}", cx.public_url, page.id),
        at_ms: now,
        notice: None,
    };
    page.sent.push(Sent {
        at_ms: now,
        attempt,
        action,
        channel: channel.clone(),
        person,
        step: page.step,
        cycle: page.cycle,
        outcome: Outcome::Pending,
        fallback,
    });
    fx.deliveries.push((channel, d));
}

/// The page's deadline (or hold) has come.
pub(super) fn due(cx: &Ctx<'_>, page: &mut Page, now: u64, fx: &mut Effects) {
    page.due_ms = None;
    let policy = cx.policy.policy(page.severity);
    match page.state {
        PageState::Held => {
            fx.events.push(
                PageEvent::new(K::Escalated, now)
                    .page(page)
                    .why("working hours began"),
            );
            notify_step(cx, page, now, fx);
        }
        PageState::Open if page.step + 1 < policy.steps.len() => {
            page.step += 1;
            let why = format!(
                "not acknowledged: step {} of {}",
                page.step + 1,
                policy.steps.len()
            );
            fx.events
                .push(PageEvent::new(K::Escalated, now).page(page).why(why));
            notify_step(cx, page, now, fx);
        }
        PageState::Open if page.cycle < policy.repeat => {
            page.cycle += 1;
            page.step = 0;
            let why = format!(
                "not acknowledged: repeat {} of {}",
                page.cycle, policy.repeat
            );
            fx.events
                .push(PageEvent::new(K::Repeated, now).page(page).why(why));
            notify_step(cx, page, now, fx);
        }
        PageState::Open => {
            let why = "not acknowledged after every step and repeat";
            fx.events
                .push(PageEvent::new(K::Exhausted, now).page(page).why(why));
        }
        PageState::Acked | PageState::Resolved => {}
    }
}

/// A channel's answer. A failed trigger goes out again through the next
/// channel of its step not yet tried, while the page still wants someone.
pub(super) fn report(
    cx: &Ctx<'_>,
    page: &mut Page,
    r: &DeliveryReport,
    now: u64,
    fx: &mut Effects,
) {
    let Some(i) = page.sent.iter().rposition(|s| {
        s.attempt == r.attempt
            && s.channel == r.channel
            && s.action == r.action
            && s.outcome == Outcome::Pending
    }) else {
        return;
    };
    let person = page.sent[i].person.clone();
    let via = |e: PageEvent| e.via(&r.channel, person.as_deref(), r.attempt);
    let Some(error) = &r.error else {
        page.sent[i].outcome = Outcome::Delivered { done_ms: now };
        fx.events
            .push(via(PageEvent::new(K::Delivered, now).page(page)));
        return;
    };
    page.sent[i].outcome = Outcome::Failed {
        done_ms: now,
        error: error.clone(),
    };
    let mut rest = std::mem::take(&mut page.sent[i].fallback);
    let wanted = r.action == PageAction::Trigger && page.state == PageState::Open;
    let why = if !wanted {
        error.clone()
    } else if rest.is_empty() {
        format!("{error}; no channel left in this step")
    } else {
        format!("{error}; falling back to {}", rest[0])
    };
    fx.events.push(via(PageEvent::new(K::DeliveryFailed, now)
        .page(page)
        .why(why)));
    if wanted && !rest.is_empty() {
        let next = rest.remove(0);
        let e = PageEvent::new(K::FallbackUsed, now)
            .page(page)
            .via(&next, person.as_deref(), r.attempt)
            .why(format!("{} failed", r.channel));
        fx.events.push(e);
        let (step, cycle) = (page.sent[i].step, page.sent[i].cycle);
        send(
            cx,
            page,
            PageAction::Trigger,
            person,
            r.attempt,
            next,
            rest,
            now,
            fx,
        );
        // The fallback belongs to the step that failed, not the current one.
        if let Some(last) = page.sent.last_mut() {
            (last.step, last.cycle) = (step, cycle);
        }
    }
}

pub(super) fn ack(
    cx: &Ctx<'_>,
    page: &mut Page,
    actor: &Actor,
    reason: &str,
    now: u64,
    fx: &mut Effects,
) -> Result<(), PageError> {
    match (&page.state, &page.acked) {
        (PageState::Resolved, _) => {
            return Err(PageError::Conflict(format!(
                "{} is already resolved",
                page.id
            )));
        }
        (PageState::Acked, Some(a)) => {
            return Err(PageError::Conflict(format!(
                "{} was already acknowledged by {}",
                page.id, a.actor
            )));
        }
        _ => {}
    }
    page.state = PageState::Acked;
    page.due_ms = None;
    page.acked = Some(Stamp {
        actor: actor.name.clone(),
        role: actor.role.clone(),
        reason: reason.to_owned(),
        at_ms: now,
    });
    fx.events.push(
        PageEvent::new(K::Acked, now)
            .page(page)
            .by(&actor.name, &actor.role)
            .why(reason),
    );
    for (channel, person, attempt) in told(page) {
        if cx.channels.kind(&channel).is_some_and(|k| takes_ack(&k)) {
            send(
                cx,
                page,
                PageAction::Acknowledge,
                person,
                attempt,
                channel,
                Vec::new(),
                now,
                fx,
            );
        }
    }
    Ok(())
}

pub(super) fn resolve(
    cx: &Ctx<'_>,
    page: &mut Page,
    stamp: Stamp,
    now: u64,
    fx: &mut Effects,
) -> Result<(), PageError> {
    if page.state == PageState::Resolved {
        return Err(PageError::Conflict(format!(
            "{} is already resolved",
            page.id
        )));
    }
    page.state = PageState::Resolved;
    page.due_ms = None;
    page.resolved_ms = Some(now);
    let e = PageEvent::new(K::Resolved, now)
        .page(page)
        .by(&stamp.actor, &stamp.role)
        .why(stamp.reason.clone());
    fx.events.push(e);
    page.resolved_by = Some(stamp);
    for (channel, person, attempt) in told(page) {
        send(
            cx,
            page,
            PageAction::Resolve,
            person,
            attempt,
            channel,
            Vec::new(),
            now,
            fx,
        );
    }
    Ok(())
}

/// Every (channel, person) a trigger reached or may still reach, with the
/// latest attempt through it: what an acknowledge or resolve must follow.
fn told(page: &Page) -> Vec<(String, Option<String>, u32)> {
    let mut out: Vec<(String, Option<String>, u32)> = Vec::new();
    for s in &page.sent {
        if s.action != PageAction::Trigger || matches!(s.outcome, Outcome::Failed { .. }) {
            continue;
        }
        match out
            .iter_mut()
            .find(|(c, p, _)| *c == s.channel && *p == s.person)
        {
            Some(seen) => seen.2 = seen.2.max(s.attempt),
            None => out.push((s.channel.clone(), s.person.clone(), s.attempt)),
        }
    }
    out
}
