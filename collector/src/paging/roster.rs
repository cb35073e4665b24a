//! Who is on call: the pager's view of the schedule, as a trait so the
//! core is tested with a fixed roster and the collector plugs in the
//! on-call schedule.

use std::collections::BTreeMap;

pub trait Roster: Send + Sync {
    /// The people holding `role` (`primary`, `secondary`) in `team` at
    /// `at_ms`; empty when nobody does (the page then goes to each
    /// channel's own destination).
    fn on_call(&self, team: &str, role: &str, at_ms: u64) -> Vec<String>;
    /// How `kind` of channel (`pagerduty`, `email`, `slack`, `discord`)
    /// reaches `person`.
    fn address(&self, person: &str, kind: &str) -> Option<String>;
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

/// The on-call schedule (`config/oncall.toml`) as the pager reads it.
pub struct ScheduleRoster(pub liveops_oncall::Schedule);

impl Roster for ScheduleRoster {
    fn on_call(&self, team: &str, role: &str, at_ms: u64) -> Vec<String> {
        let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
        let Ok(at) = liveops_oncall::jiff::Timestamp::from_millisecond(at_ms) else {
            return Vec::new();
        };
        self.0
            .who(at, Some(team))
            .into_iter()
            .filter(|o| o.role.as_str() == role)
            .map(|o| o.person)
            .collect()
    }

    fn address(&self, person: &str, kind: &str) -> Option<String> {
        self.0.person(person)?.contact(kind).map(str::to_owned)
    }
}
