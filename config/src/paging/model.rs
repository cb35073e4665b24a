//! The validated paging policy: who is paged for an alert, how urgently,
//! through which channels, and when not at all.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use liveops_protocol::Severity;

/// `config/paging.toml`, checked against the collector's channels (and its
/// teams, once a schedule names them).
#[derive(Clone, Debug)]
pub struct Paging {
    /// An alert that fires again this soon after its page resolved reopens
    /// that page rather than opening a new one.
    pub flap_window: Duration,
    /// The owning team of an alert no route gives one and that carries no
    /// `owner` annotation.
    pub default_team: String,
    /// In file order: the first that matches decides.
    pub routes: Vec<Route>,
    /// Used when no route matches; its `team` falls back to the alert's
    /// `owner`, then `default_team`.
    pub default_route: RouteTo,
    /// One per severity (all four are required).
    pub policies: BTreeMap<Severity, SevPolicy>,
    /// Per team: when SEV3/SEV4 may reach people.
    pub working_hours: BTreeMap<String, WorkingHours>,
    pub inhibit: Vec<Inhibit>,
    pub maintenance: Vec<Maintenance>,
}

impl Paging {
    pub fn policy(&self, s: Severity) -> &SevPolicy {
        // Validation guarantees one per severity; the most urgent one
        // stands in rather than panicking if that ever changed.
        self.policies
            .get(&s)
            .or_else(|| self.policies.values().next())
            .expect("validated: a policy per severity")
    }
}

#[derive(Clone, Debug)]
pub struct Route {
    pub matchers: Matchers,
    pub to: RouteTo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTo {
    /// `None`: the alert's `owner` annotation, else the default team.
    pub team: Option<String>,
    pub severity: Severity,
}

/// Label matchers that must all hold.
#[derive(Clone, Debug, Default)]
pub struct Matchers(pub Vec<Matcher>);

#[derive(Clone, Debug)]
pub struct Matcher {
    pub label: String,
    pub value: MatchValue,
}

#[derive(Clone, Debug)]
pub enum MatchValue {
    Equal(String),
    /// Anchored at both ends, as Alertmanager's `=~`.
    Regex(regex_lite::Regex),
}

impl Matchers {
    /// Whether every matcher holds; a missing label is the empty string
    /// (so `world = ""` matches alerts without a world, as in Alertmanager).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|m| {
            let v = labels.get(&m.label).map_or("", String::as_str);
            match &m.value {
                MatchValue::Equal(want) => v == want,
                MatchValue::Regex(re) => re.is_match(v),
            }
        })
    }
}

/// What one severity does: steps in order, then `repeat` more cycles.
#[derive(Clone, Debug)]
pub struct SevPolicy {
    /// Never empty.
    pub steps: Vec<Step>,
    /// Cycles through all steps again after the last one, this many times.
    pub repeat: u32,
    /// People are paged only inside the owning team's working hours.
    pub working_hours: bool,
    pub outside_hours: OutsideHours,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutsideHours {
    /// Held, then paged when the working hours start.
    Hold,
    /// Sent at once to this channel (a ticket queue), with no escalation.
    Channel(String),
}

#[derive(Clone, Debug)]
pub struct Step {
    /// Never empty.
    pub notify: Vec<Target>,
    /// In order of preference: a failed delivery falls back to the next.
    /// Never empty.
    pub channels: Vec<String>,
    /// Unacknowledged this long after the step began, the page moves on.
    pub ack_deadline: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Whoever holds `role` in `team` (the page's owning team when `None`).
    OnCall { team: Option<String>, role: Role },
    /// A named person (a team lead).
    Person(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Primary,
    Secondary,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

/// Days and hours in a time zone, e.g. Mon–Fri 09:00–18:00 Europe/Berlin.
#[derive(Clone, Debug)]
pub struct WorkingHours {
    pub zone: TimeZone,
    /// Indexed by days from Monday.
    pub days: [bool; 7],
    pub from: Time,
    /// After `from`, on the same day.
    pub until: Time,
}

/// While an alert matching `source` fires, alerts matching `target` with
/// the same values of `equal` are recorded but not paged.
#[derive(Clone, Debug)]
pub struct Inhibit {
    pub source: Matchers,
    pub target: Matchers,
    pub equal: Vec<String>,
}

/// A scheduled window in which matching alerts are not paged.
#[derive(Clone, Debug)]
pub struct Maintenance {
    pub matchers: Matchers,
    pub from_ms: u64,
    pub until_ms: u64,
    pub reason: String,
}

impl Maintenance {
    pub fn active(&self, now_ms: u64) -> bool {
        self.from_ms <= now_ms && now_ms < self.until_ms
    }
}
