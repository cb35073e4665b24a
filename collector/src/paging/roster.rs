//! Who is on call: the pager's view of the schedule, as a trait so the
//! core is tested with a fixed roster and the collector plugs in the
//! on-call schedule.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use liveops_oncall::jiff::Timestamp;
use liveops_oncall::{Moved, OnCall, Schedule};
use liveops_protocol::ShiftSpan;

use super::notice::{HandoffDue, ShiftChange};

/// How far ahead the task looks for the next handoff; it looks again at
/// least every 30 s anyway.
const HANDOFF_HORIZON_MS: u64 = 86_400_000;

pub trait Roster: Send + Sync {
    /// The people holding `role` (`primary`, `secondary`) in `team` at
    /// `at_ms`; empty when nobody does (the page then goes to each
    /// channel's own destination).
    fn on_call(&self, team: &str, role: &str, at_ms: u64) -> Vec<String>;
    /// How `kind` of channel (`pagerduty`, `email`, `slack`, `discord`)
    /// reaches `person`.
    fn address(&self, person: &str, kind: &str) -> Option<String>;
    /// Every change of hands in `[from_ms, until_ms)`, by time.
    fn handoffs(&self, _from_ms: u64, _until_ms: u64) -> Vec<HandoffDue> {
        Vec::new()
    }
    /// The first handoff after `after_ms` (within a day).
    fn next_handoff(&self, after_ms: u64) -> Option<u64> {
        let from = after_ms.saturating_add(1);
        let first = self.handoffs(from, from.saturating_add(HANDOFF_HORIZON_MS));
        first.first().map(|h| h.at_ms)
    }
}

/// A roster that does not change with time: for tests, and for a
/// collector without an on-call schedule (an empty one).
#[derive(Clone, Debug, Default)]
pub struct FixedRoster {
    /// (team, role) → people, in order.
    pub shifts: BTreeMap<(String, String), Vec<String>>,
    /// (person, kind) → address.
    pub contacts: BTreeMap<(String, String), String>,
}

impl FixedRoster {
    pub fn on(mut self, team: &str, role: &str, person: &str) -> Self {
        self.shifts
            .entry((team.into(), role.into()))
            .or_default()
            .push(person.into());
        self
    }

    pub fn contact(mut self, person: &str, kind: &str, address: &str) -> Self {
        self.contacts
            .insert((person.into(), kind.into()), address.into());
        self
    }
}

impl Roster for FixedRoster {
    fn on_call(&self, team: &str, role: &str, _at_ms: u64) -> Vec<String> {
        self.shifts
            .get(&(team.to_owned(), role.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    fn address(&self, person: &str, kind: &str) -> Option<String> {
        self.contacts
            .get(&(person.to_owned(), kind.to_owned()))
            .cloned()
    }
}

/// The on-call schedule (`config/oncall.toml`) as the pager reads it: the
/// collector's cell, so a reloaded schedule is paged from at once.
pub struct ScheduleRoster(pub Arc<ArcSwap<Schedule>>);

impl Roster for ScheduleRoster {
    fn on_call(&self, team: &str, role: &str, at_ms: u64) -> Vec<String> {
        let Some(at) = instant(at_ms) else {
            return Vec::new();
        };
        self.0
            .load()
            .who(at, Some(team))
            .into_iter()
            .filter(|o| o.role.as_str() == role)
            .map(|o| o.person)
            .collect()
    }

    fn address(&self, person: &str, kind: &str) -> Option<String> {
        self.0
            .load()
            .person(person)?
            .contact(kind)
            .map(str::to_owned)
    }

    fn handoffs(&self, from_ms: u64, until_ms: u64) -> Vec<HandoffDue> {
        let (Some(from), Some(until)) = (instant(from_ms), instant(until_ms)) else {
            return Vec::new();
        };
        self.0
            .load()
            .handoffs(from, until)
            .into_iter()
            .map(|h| HandoffDue {
                at_ms: ms(h.at),
                team: h.team,
                role: h.role.as_str().to_owned(),
                from_person: h.from_person,
                to_person: h.to_person,
            })
            .collect()
    }
}

/// What `moved` found, as the pager tells it.
pub fn shift_changes(moved: Vec<Moved>) -> Vec<ShiftChange> {
    let span = |o: OnCall| ShiftSpan {
        team: o.team,
        role: o.role.as_str().to_owned(),
        from: o.from.to_string(),
        until: o.until.to_string(),
    };
    moved
        .into_iter()
        .map(|m| ShiftChange {
            person: m.person,
            gained: m.gained.into_iter().map(span).collect(),
            lost: m.lost.into_iter().map(span).collect(),
        })
        .collect()
}

fn instant(ms: u64) -> Option<Timestamp> {
    Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX)).ok()
}

fn ms(t: Timestamp) -> u64 {
    u64::try_from(t.as_millisecond()).unwrap_or(0)
}
