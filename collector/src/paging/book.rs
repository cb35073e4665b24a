//! The page book: every page, the alerts the pager knows to be firing, and
//! the silences; pure data changed only by [`Book::apply`], a function of
//! its input and `now`, that says what to deliver and what it decided.
//!
//! - `alerts.rs`: an alert fires or resolves: route, suppress, group,
//!   reopen within the flap window, open.
//! - `escalate.rs`: a page's life: steps, deadlines, repeats, working
//!   hours, fallback after a failed delivery, acknowledge, resolve.
//! - `notice.rs`: handoffs and moved shifts told to the people on call.

use std::collections::{BTreeMap, BTreeSet};

use liveops_config::paging::Paging;
use liveops_protocol::{Delivery, DeliveryReport, Notification, Severity};
use serde::{Deserialize, Serialize};

use super::dispatch::Dispatch;
use super::event::PageEvent;
pub use super::page::{Outcome, Page, PageAlert, PageState, Sent, Stamp};
use super::roster::Roster;
use super::route::Suppressed;
use super::silence::{Silence, SilenceDraft};

/// Resolved pages and ended silences are kept this long, then forgotten.
pub const RETAIN_MS: u64 = 7 * 24 * 3_600_000;

/// An alert the pager knows to be firing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tracked {
    pub notification: Notification,
    pub team: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Book {
    pub(super) pages: BTreeMap<u64, Page>,
    pub(super) silences: BTreeMap<u64, Silence>,
    /// By fingerprint.
    pub(super) alerts: BTreeMap<String, Tracked>,
    pub(super) next_page: u64,
    pub(super) next_silence: u64,
    /// Handoffs up to this instant have been announced; `None` until the
    /// first tick (see `notice.rs`).
    pub(super) handoffs_until: Option<u64>,
    /// Notices handed to a channel whose report has not come back.
    #[serde(default)]
    pub(super) notices: BTreeMap<String, super::inflight::InFlight>,
    /// What changed since the owner last saved.
    #[serde(skip)]
    pub(super) dirty: Dirty,
}

#[derive(Clone, Debug, Default)]
pub struct Dirty {
    pub pages: BTreeSet<u64>,
    pub silences: BTreeSet<u64>,
    /// Fingerprints of tracked alerts added, changed or forgotten.
    pub alerts: BTreeSet<String>,
}

/// Who asks, as the token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: String,
}

pub enum Input {
    /// Firing or resolved, from the collector's rules or an Alertmanager.
    Alert(Notification),
    /// Time passed: deadlines, holds, silences ending.
    Tick,
    Ack {
        id: String,
        actor: Actor,
        reason: String,
    },
    Resolve {
        id: String,
        actor: Actor,
        reason: String,
    },
    Report(DeliveryReport),
    Silence {
        draft: SilenceDraft,
        actor: Actor,
    },
    Expire {
        id: String,
        actor: Actor,
        reason: String,
    },
    /// A new schedule moved these people's future shifts.
    ShiftsMoved(Vec<super::notice::ShiftChange>),
}

/// What the book needs from outside: the policy, who is on call, which
/// channels exist, and the base of links.
pub struct Ctx<'a> {
    pub policy: &'a Paging,
    pub roster: &'a dyn Roster,
    pub channels: &'a dyn Dispatch,
    pub public_url: &'a str,
}

/// What one input led to: deliveries to hand to channels, decisions to
/// publish, and the silence it made (for the API's answer).
#[derive(Debug, Default)]
pub struct Effects {
    pub deliveries: Vec<(String, Delivery)>,
    pub events: Vec<PageEvent>,
    pub silence: Option<Silence>,
}

impl Effects {
    /// Adds what another input led to, after this one's.
    pub fn absorb(&mut self, other: Effects) {
        self.deliveries.extend(other.deliveries);
        self.events.extend(other.events);
        self.silence = self.silence.take().or(other.silence);
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the page's state (already resolved, …).
    #[error("{0}")]
    Conflict(String),
}

impl Book {
    pub fn apply(&mut self, cx: &Ctx<'_>, input: Input, now: u64) -> Result<Effects, PageError> {
        let mut fx = Effects::default();
        match input {
            Input::Alert(n) => self.alert(cx, n, now, &mut fx),
            Input::Tick => self.tick(cx, now, &mut fx),
            Input::Report(r) if r.page_id.starts_with("n-") => {
                self.notice_report(cx, &r, now, &mut fx);
            }
            Input::Report(r) => {
                if let Some(num) = number(&r.page_id).filter(|n| self.pages.contains_key(n)) {
                    let page = self.page_mut(num);
                    super::escalate::report(cx, page, &r, now, &mut fx);
                }
            }
            Input::Ack { id, actor, reason } => {
                let page = self.find(&id)?;
                super::escalate::ack(cx, page, &actor, &reason, now, &mut fx)?;
            }
            Input::Resolve { id, actor, reason } => {
                let page = self.find(&id)?;
                let stamp = Stamp {
                    actor: actor.name,
                    role: actor.role,
                    reason,
                    at_ms: now,
                };
                super::escalate::resolve(cx, page, stamp, now, &mut fx)?;
            }
            Input::Silence { draft, actor } => self.silence(cx, draft, &actor, now, &mut fx),
            Input::Expire { id, actor, reason } => {
                self.expire(cx, &id, &actor, &reason, now, &mut fx)?;
            }
            Input::ShiftsMoved(changes) => self.shifts_moved(cx, changes, now, &mut fx),
        }
        Ok(fx)
    }

    fn tick(&mut self, cx: &Ctx<'_>, now: u64, fx: &mut Effects) {
        let due: Vec<u64> = self
            .pages
            .iter()
            .filter(|(_, p)| p.due_ms.is_some_and(|d| d <= now))
            .map(|(n, _)| *n)
            .collect();
        for num in due {
            super::escalate::due(cx, self.page_mut(num), now, fx);
        }
        self.reconsider(cx, now, fx);
        self.handoffs(cx, now, fx);
        self.prune(now);
        self.prune_notices(now);
    }

    /// Forgets resolved pages and ended silences older than [`RETAIN_MS`].
    fn prune(&mut self, now: u64) {
        let old = |t: u64| t.saturating_add(RETAIN_MS) < now;
        let gone: Vec<u64> = self
            .pages
            .iter()
            .filter(|(_, p)| p.resolved_ms.is_some_and(old) && p.state == PageState::Resolved)
            .map(|(n, _)| *n)
            .collect();
        for n in gone {
            self.pages.remove(&n);
            self.dirty.pages.insert(n);
        }
        let ended: Vec<u64> = self
            .silences
            .iter()
            .filter(|(_, s)| old(s.until_ms))
            .map(|(n, _)| *n)
            .collect();
        for n in ended {
            self.silences.remove(&n);
            self.dirty.silences.insert(n);
        }
    }

    /// When the book next has something to do by itself (the next
    /// handoff to announce included).
    pub fn next_due(&self, policy: &Paging, roster: &dyn Roster, now: u64) -> Option<u64> {
        let pages = self.pages.values().filter_map(|p| p.due_ms);
        let silences = self
            .silences
            .values()
            .filter(|s| s.until_ms > now)
            .flat_map(|s| [s.from_ms, s.until_ms]);
        let windows = policy
            .maintenance
            .iter()
            .flat_map(|m| [m.from_ms, m.until_ms]);
        // Due at once when one came while the task was busy.
        let handoff = self.handoffs_until.and_then(|t| roster.next_handoff(t));
        let later = silences.chain(windows).filter(|t| *t > now);
        pages.chain(handoff).chain(later).min()
    }

    pub(super) fn page_mut(&mut self, num: u64) -> &mut Page {
        self.dirty.pages.insert(num);
        self.pages
            .get_mut(&num)
            .expect("caller checked the page exists")
    }

    /// A tracked alert, to change it (and store it at the next save).
    pub(super) fn alert_mut(&mut self, fp: &str) -> Option<&mut Tracked> {
        let t = self.alerts.get_mut(fp)?;
        self.dirty.alerts.insert(fp.to_owned());
        Some(t)
    }

    pub(super) fn track(&mut self, fp: String, t: Tracked) {
        self.dirty.alerts.insert(fp.clone());
        self.alerts.insert(fp, t);
    }

    pub(super) fn untrack(&mut self, fp: &str) -> Option<Tracked> {
        self.dirty.alerts.insert(fp.to_owned());
        self.alerts.remove(fp)
    }

    fn find(&mut self, id: &str) -> Result<&mut Page, PageError> {
        match number(id).filter(|n| self.pages.contains_key(n)) {
            Some(num) => Ok(self.page_mut(num)),
            None => Err(PageError::NotFound(format!("no page `{id}`"))),
        }
    }

    pub fn page(&self, id: &str) -> Option<&Page> {
        number(id).and_then(|n| self.pages.get(&n))
    }

    /// Newest first.
    pub fn pages(&self) -> impl Iterator<Item = &Page> {
        self.pages.values().rev()
    }

    pub fn open_pages(&self) -> usize {
        self.pages.values().filter(|p| p.is_open()).count()
    }

    /// Newest first.
    pub fn silences(&self) -> impl Iterator<Item = &Silence> {
        self.silences.values().rev()
    }

    /// Why an alert with these labels is not paged, if it is not.
    pub fn suppression(&self, labels: &BTreeMap<String, String>) -> Option<&Suppressed> {
        self.alerts
            .get(&super::route::fingerprint(labels))
            .and_then(|t| t.suppressed.as_ref())
    }

    /// Starts announcing handoffs from `now`, unless a stored mark says
    /// where announcing stopped.
    pub fn announce_handoffs_from(&mut self, now: u64) {
        self.handoffs_until.get_or_insert(now);
    }

    pub fn take_dirty(&mut self) -> Dirty {
        std::mem::take(&mut self.dirty)
    }
}

/// `p-12` → 12.
pub(super) fn number(id: &str) -> Option<u64> {
    id.strip_prefix("p-")?.parse().ok()
}
