//! The timeline fed from the event stream: a page opens an incident (or
//! joins its team's open one), and what follows (acks, escalations,
//! alerts firing and resolving, mitigations, flag reloads, snapshots and
//! rollbacks) lands on the incidents it concerns, stamped with the time
//! the collector saw it.
//!
//! [`apply`] is pure; [`run`] subscribes and stores. These entries are not
//! audited again: each comes from an event the audit log already holds
//! (pages, actions) or from the alert rules, and an incident must open
//! even while the audit log refuses operators' changes.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::book::Book;
use super::join::PageOpened;
use super::model::parse_id;
use super::notify::{OVERDUE_ALERT, SEVERITY_ALERT};
use crate::CollectorError;
use crate::events::{Event, Stamped};
use crate::paging::{PageEvent, PageEventKind};
use crate::state::Shared;

fn page_number(id: Option<&str>) -> Option<u64> {
    id?.strip_prefix("p-")?.parse().ok()
}

/// What one event does to the book.
pub fn apply(book: &mut Book, e: &Stamped, window_ms: u64) {
    match &e.event {
        Event::Page(p) => page(book, p, window_ms),
        Event::Alert(n) => {
            let status = match n.status {
                liveops_protocol::AlertStatus::Firing => "firing",
                liveops_protocol::AlertStatus::Resolved => "resolved",
            };
            let name = n.label("alertname").unwrap_or("alert");
            let text = n
                .annotations
                .get("summary")
                .map_or_else(|| name.to_owned(), |s| format!("{name}: {s}"));
            // An alert without a world (a fleet SLO) concerns every
            // active incident; the audit log's own alert concerns none, an
            // incident's severity alert is on its timeline already, and an
            // overdue action item is a ticket, not news of a fault.
            if ["AuditChainBroken", SEVERITY_ALERT, OVERDUE_ALERT].contains(&name) {
                return;
            }
            book.signal(None, n.label("world"), "alert", status, &text, e.at_ms);
        }
        Event::Action(a) if a.action != "incident" => {
            // `world W` (overrides) or `world:W` (relayed commands).
            let world = a
                .scope
                .strip_prefix("world:")
                .or_else(|| a.scope.strip_prefix("world "));
            let fleet = a.scope == "fleet";
            if world.is_none() && !fleet {
                // Scoped to a player or a village: named in the text, on
                // no incident by world.
                return;
            }
            let text = format!("{} {} by {}: {}", a.subject, a.id, a.actor, a.reason);
            book.signal(
                None,
                world,
                "action",
                a.action,
                text.trim_end_matches(": "),
                e.at_ms,
            );
        }
        Event::FlagReloads { world, reloads, .. } => {
            let refused = reloads.iter().filter(|r| r.error.is_some()).count();
            let text = match refused {
                0 => format!("{} flag-file reload(s) served", reloads.len()),
                n => format!("{n} of {} flag-file reload(s) refused", reloads.len()),
            };
            book.signal(None, Some(world), "flags", "reload", &text, e.at_ms);
        }
        Event::Action(_) => {}
    }
}

fn page(book: &mut Book, p: &PageEvent, window_ms: u64) {
    let Some(n) = page_number(p.id.as_deref()) else {
        return;
    };
    let alert = p.alertname.as_deref().unwrap_or("alert");
    // A ticket for an overdue action item opens no incident.
    if alert == OVERDUE_ALERT {
        return;
    }
    match p.kind {
        PageEventKind::Opened => {
            let incident = p.labels.get("incident").and_then(|i| parse_id(i));
            let world = p.world.as_deref().or(incident.map(|_| "fleet"));
            let (Some(team), Some(world)) = (&p.team, world) else {
                return;
            };
            let opened = PageOpened {
                page: n,
                team: team.clone(),
                world: world.to_owned(),
                summary: format!("{alert} on {world}"),
                incident,
            };
            book.page(&opened, window_ms, p.at_ms);
        }
        PageEventKind::Grouped
        | PageEventKind::Raised
        | PageEventKind::Paged
        | PageEventKind::DeliveryFailed
        | PageEventKind::Escalated
        | PageEventKind::Repeated
        | PageEventKind::Exhausted
        | PageEventKind::Acked
        | PageEventKind::Resolved
        | PageEventKind::Reopened => {
            let who = p.person.as_deref().or(p.channel.as_deref());
            let mut text = format!("p-{n} {} ({alert})", p.kind.as_str());
            if let Some(who) = who {
                text.push_str(&format!(" {who}"));
            }
            if p.actor != "pager" {
                text.push_str(&format!(" by {}", p.actor));
            }
            if !p.reason.is_empty() {
                text.push_str(&format!(": {}", p.reason));
            }
            book.signal(
                Some(n),
                p.world.as_deref(),
                "page",
                p.kind.as_str(),
                &text,
                p.at_ms,
            );
            // The fault is back (its alert fired again within the flap
            // window): an incident resolved meanwhile is not over.
            if p.kind == PageEventKind::Reopened {
                book.reopen_for_page(n, &text, p.at_ms);
            }
        }
        _ => {}
    }
}

/// Feeds the book from the event stream until `stop`.
pub async fn run(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CollectorError> {
    let mut rx = shared.events.subscribe();
    // `[incidents] join_window`: a page within this long of an incident's
    // newest page joins it.
    let window_ms = u64::try_from(shared.cfg.incidents.join_window.as_millis()).unwrap_or(u64::MAX);
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Ok(e) => {
                    // What else is already queued goes in the same pass:
                    // one lock and one write for a burst of page events.
                    let mut batch = vec![e];
                    while batch.len() < 256 {
                        match rx.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(_) => break,
                        }
                    }
                    let s = shared.clone();
                    // Storing writes sled: off the async threads.
                    let opened = tokio::task::spawn_blocking(move || {
                        let mut opened = false;
                        s.incidents.derive(|b| {
                            let before = b.next;
                            for e in &batch {
                                apply(b, e, window_ms);
                            }
                            opened = b.next > before;
                        });
                        opened
                    })
                    .await
                    .unwrap_or(false);
                    // A new incident is rated at once, not at the next tick.
                    if opened {
                        shared.evaluate_now.notify_one();
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the incident timeline fell behind the event stream");
                }
                Err(RecvError::Closed) => break,
            },
            _ = stop.changed() => break,
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod tests;
