//! Who is on call: the schedule of `oncall.toml` resolved at any instant.
//!
//! A pure core: a validated schedule ([`liveops_config::OncallConfig`]) and
//! a time in, people out; no clock, no I/O. The CLI (`liveops oncall`),
//! the collector's `/oncall` page and the pager all ask it.
//!
//! The final schedule of one team and role is its rotation, with every
//! override laid over it (a later override wins over an earlier one), cut
//! into consecutive pieces of one person each. Coverage windows add people
//! beside it (two primaries on a launch weekend); overrides do not touch
//! them.
//!
//! # Layout
//!
//! - `layer.rs`: the shifts of one layer, on its zone's wall clock.
//! - `resolve.rs`: a team and role's final pieces, and coverage pieces.
//! - [`changes`]: whose shifts a new version of the schedule moves.
//! - [`check`]: gaps, people without contacts, double roles, stray overrides.
//! - [`ical`]: the final schedule as RFC 5545 iCalendar.

pub mod changes;
pub mod check;
pub mod ical;
mod layer;
mod resolve;

pub use jiff;
use jiff::Timestamp;
pub use liveops_config::oncall::{OnCallRole as Role, OncallConfig, Person};
use serde::{Serialize, Serializer};

pub use changes::{Moved, moved};
pub use check::{Problem, check};

/// One person holding one team's role over `[from, until)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OnCall {
    pub team: String,
    pub role: Role,
    pub person: String,
    #[serde(serialize_with = "rfc3339")]
    pub from: Timestamp,
    #[serde(serialize_with = "rfc3339")]
    pub until: Timestamp,
    pub source: Source,
}

/// Why someone is on call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    /// Their turn in the rotation `name`.
    Rotation { name: String },
    /// An override in place of the rotation.
    Override {
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The coverage window `name`, beside the rotation.
    Coverage { name: String },
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Rotation { .. } => "rotation",
            Source::Override { .. } => "override",
            Source::Coverage { .. } => "coverage",
        }
    }
}

/// Someone takes over a team's role at `at`; the pager tells `to_person`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Handoff {
    #[serde(serialize_with = "rfc3339")]
    pub at: Timestamp,
    pub team: String,
    pub role: Role,
    /// Who held it until `at`; `None` after a gap, or for a coverage
    /// window's first shift.
    pub from_person: Option<String>,
    pub to_person: String,
    pub source: Source,
}

/// The schedule, ready to be asked.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    cfg: OncallConfig,
}

impl Schedule {
    pub fn new(cfg: OncallConfig) -> Schedule {
        Schedule { cfg }
    }

    pub fn config(&self) -> &OncallConfig {
        &self.cfg
    }

    /// Team names in file order.
    pub fn teams(&self) -> Vec<&str> {
        self.cfg.teams.iter().map(|t| t.name.as_str()).collect()
    }

    /// The names a paging policy may use: teams and people, in file order.
    pub fn names(&self) -> (Vec<String>, Vec<String>) {
        (
            self.cfg.teams.iter().map(|t| t.name.clone()).collect(),
            self.cfg.people.iter().map(|p| p.name.clone()).collect(),
        )
    }

    pub fn person(&self, name: &str) -> Option<&Person> {
        self.cfg.people.iter().find(|p| p.name == name)
    }

    /// Everyone on call at `at` (for one team, or all), by team in file
    /// order, primary first, the rotation's person before coverage.
    pub fn who(&self, at: Timestamp, team: Option<&str>) -> Vec<OnCall> {
        let mut out: Vec<OnCall> = self
            .pieces(at, after(at, 1), team)
            .into_iter()
            .filter(|p| p.from <= at && at < p.until)
            .collect();
        out.sort_by_key(|p| (self.team_index(&p.team), p.role, is_coverage(p)));
        out
    }

    /// The final schedule over `[from, until)`: every piece overlapping it,
    /// whole (a piece that began earlier keeps its start), by start time.
    pub fn shifts(&self, from: Timestamp, until: Timestamp, team: Option<&str>) -> Vec<OnCall> {
        let mut out = self.pieces(from, until, team);
        out.sort_by_key(|p| (p.from, self.team_index(&p.team), p.role, is_coverage(p)));
        out
    }

    /// Every change of hands in `[from, until)`, by time.
    pub fn handoffs(&self, from: Timestamp, until: Timestamp) -> Vec<Handoff> {
        let before = after(from, -1);
        let mut out = Vec::new();
        for team in &self.cfg.teams {
            for role in Role::ALL {
                let base = resolve::track(&self.cfg, &team.name, role, before, until);
                resolve::handoffs(&base, from, until, &mut out);
                for c in &self.cfg.coverage {
                    let pieces = resolve::coverage_of(c, &team.name, role, before, until);
                    resolve::handoffs(&pieces, from, until, &mut out);
                }
            }
        }
        out.sort_by_key(|h| (h.at, self.team_index(&h.team), h.role));
        out
    }

    fn pieces(&self, from: Timestamp, until: Timestamp, team: Option<&str>) -> Vec<OnCall> {
        let mut out = Vec::new();
        for t in self
            .cfg
            .teams
            .iter()
            .filter(|t| team.is_none_or(|n| n == t.name))
        {
            for role in Role::ALL {
                out.extend(resolve::track(&self.cfg, &t.name, role, from, until));
                for c in &self.cfg.coverage {
                    out.extend(resolve::coverage_of(c, &t.name, role, from, until));
                }
            }
        }
        out
    }

    fn team_index(&self, team: &str) -> usize {
        self.cfg
            .teams
            .iter()
            .position(|t| t.name == team)
            .unwrap_or(usize::MAX)
    }
}

fn is_coverage(p: &OnCall) -> bool {
    matches!(p.source, Source::Coverage { .. })
}

/// `t + seconds`, saturating at jiff's range.
pub fn after(t: Timestamp, seconds: i64) -> Timestamp {
    let s = t.as_second().saturating_add(seconds);
    Timestamp::from_second(s).unwrap_or(if seconds < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn rfc3339<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

#[cfg(test)]
mod tests;
