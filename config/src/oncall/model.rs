//! The validated on-call schedule: every name resolved, every zone a real
//! IANA zone, every interval non-empty. `liveops-oncall` resolves it.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::model::Secret;

/// The role a person holds in a team's on-call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnCallRole {
    Primary,
    Secondary,
}

impl OnCallRole {
    pub const ALL: [OnCallRole; 2] = [OnCallRole::Primary, OnCallRole::Secondary];

    pub fn parse(s: &str) -> Option<OnCallRole> {
        match s {
            "primary" => Some(OnCallRole::Primary),
            "secondary" => Some(OnCallRole::Secondary),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OnCallRole::Primary => "primary",
            OnCallRole::Secondary => "secondary",
        }
    }
}

impl fmt::Display for OnCallRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole schedule file, in file order within each kind.
#[derive(Clone, Debug, Default)]
pub struct OncallConfig {
    pub teams: Vec<Team>,
    pub people: Vec<Person>,
    pub rotations: Vec<Rotation>,
    /// Later entries win where overrides of one team and role overlap.
    pub overrides: Vec<Override>,
    pub coverage: Vec<Coverage>,
}

#[derive(Clone, Debug)]
pub struct Team {
    pub name: String,
    pub description: Option<String>,
}

/// Someone who can be on call. Contacts are what the pager uses.
#[derive(Clone, Debug)]
pub struct Person {
    pub name: String,
    pub zone: TimeZone,
    pub contacts: Contacts,
}

/// How to reach a person; at least one is needed to be paged
/// (`liveops oncall check` reports a person with none).
#[derive(Clone, Debug, Default)]
pub struct Contacts {
    /// A PagerDuty routing key or user id: a routing key lets anyone page,
    /// so it is kept as a secret and never printed.
    pub pagerduty: Option<Secret>,
    pub email: Option<String>,
    /// A Slack user id (`U…`).
    pub slack: Option<String>,
    /// A Discord user id (a snowflake).
    pub discord: Option<String>,
}

/// The contact kinds a person may have, in the order a pager tries them.
pub const CONTACT_KINDS: [&str; 4] = ["pagerduty", "email", "slack", "discord"];

impl Person {
    /// The contact of `kind` (`pagerduty`, `email`, `slack`, `discord`).
    pub fn contact(&self, kind: &str) -> Option<&str> {
        let c = &self.contacts;
        match kind {
            "pagerduty" => c.pagerduty.as_ref().map(Secret::expose),
            "email" => c.email.as_deref(),
            "slack" => c.slack.as_deref(),
            "discord" => c.discord.as_deref(),
            _ => None,
        }
    }

    /// The kinds of contact this person has (never their values).
    pub fn contact_kinds(&self) -> Vec<&'static str> {
        CONTACT_KINDS
            .into_iter()
            .filter(|k| self.contact(k).is_some())
            .collect()
    }

    pub fn zone_name(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }
}

/// Members taking turns: member `k mod n` holds shift `k`, which starts at
/// `first` + k × `shift` on the wall clock of `zone`.
#[derive(Clone, Debug)]
pub struct Layer {
    pub members: Vec<String>,
    /// Wall-clock minutes: `1d` is "same time tomorrow", also across a
    /// DST switch, not 24 hours.
    pub shift_minutes: i64,
    pub zone: TimeZone,
    /// When the first member's first shift starts: a rotation's `start`
    /// date at its `handoff` time.
    pub first: DateTime,
}

/// The rotation of one team and role (at most one each).
#[derive(Clone, Debug)]
pub struct Rotation {
    pub name: String,
    pub team: String,
    pub role: OnCallRole,
    pub layer: Layer,
}

/// `person` holds `team`'s `role` over `[from, until)` instead of the rotation.
#[derive(Clone, Debug)]
pub struct Override {
    pub team: String,
    pub role: OnCallRole,
    pub person: String,
    pub from: Timestamp,
    pub until: Timestamp,
    pub reason: Option<String>,
}

/// Extra people on call beside the rotation over `[from, until)`: a
/// launch weekend with two primaries.
#[derive(Clone, Debug)]
pub struct Coverage {
    pub name: String,
    pub team: String,
    pub role: OnCallRole,
    pub from: Timestamp,
    pub until: Timestamp,
    pub description: Option<String>,
    pub who: CoverageWho,
}

#[derive(Clone, Debug)]
pub enum CoverageWho {
    /// Each of them for the whole window.
    People(Vec<String>),
    /// An extra layer taking turns, cut to the window.
    Layer(Layer),
}
