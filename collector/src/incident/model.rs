//! What an incident is: its state, severity, people and timeline, as plain
//! data the book changes and the store keeps.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The lifecycle, in order; `Cancelled` stands beside it (opened by
/// mistake, or a false alarm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Triage,
    Investigating,
    Identified,
    Mitigated,
    Resolved,
    Closed,
    Cancelled,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Triage,
        State::Investigating,
        State::Identified,
        State::Mitigated,
        State::Resolved,
        State::Closed,
        State::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Triage => "triage",
            State::Investigating => "investigating",
            State::Identified => "identified",
            State::Mitigated => "mitigated",
            State::Resolved => "resolved",
            State::Closed => "closed",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Still being worked on: new pages may join it.
    pub fn is_active(self) -> bool {
        self < State::Resolved
    }

    /// Nothing moves it any more.
    pub fn is_final(self) -> bool {
        matches!(self, State::Closed | State::Cancelled)
    }
}

/// SEV1 is the worst: the paging scale, so an incident's severity and
/// its pages' speak the same words.
pub use liveops_protocol::Severity as Sev;

/// The people running it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Commander,
    Comms,
    Scribe,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "commander" => Some(Role::Commander),
            "comms" => Some(Role::Comms),
            "scribe" => Some(Role::Scribe),
            _ => None,
        }
    }
}

/// A severity someone set by hand, kept beside the computed one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub sev: Sev,
    pub reason: String,
    pub by: String,
    pub at_ms: u64,
}

/// Both severities: the one computed from player impact (when known) and
/// a human's override; the override wins while it stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed: Option<Sev>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human: Option<Override>,
}

impl Severity {
    /// What is in force; an incident nobody rated yet is SEV3.
    pub fn current(&self) -> Sev {
        self.human
            .as_ref()
            .map(|o| o.sev)
            .or(self.computed)
            .unwrap_or(Sev::Sev3)
    }
}

/// What a timeline entry records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum What {
    Opened,
    State {
        from: State,
        to: State,
    },
    Severity {
        from: Sev,
        to: Sev,
    },
    Assigned {
        role: Role,
        person: String,
    },
    Page {
        page: u64,
        world: String,
    },
    Note {
        note: NoteKind,
    },
    /// A message sent to players on `channel`.
    Comms {
        channel: String,
        state: String,
    },
    /// An action item added, or done.
    Action {
        action: u64,
        done: bool,
    },
    /// Something the collector saw happen that concerns the incident: a
    /// page acknowledged or escalated, an alert firing or resolving, a
    /// mitigation applied, a flag file reloaded, a snapshot taken.
    Signal {
        /// `page`, `alert`, `action` or `flags`.
        source: String,
        /// What happened, in the source's words (`acked`, `firing`,
        /// `mitigate`, …).
        event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        world: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    Observation,
    Decision,
    Link,
}

impl NoteKind {
    pub fn parse(s: &str) -> Option<NoteKind> {
        match s {
            "observation" => Some(NoteKind::Observation),
            "decision" => Some(NoteKind::Decision),
            "link" => Some(NoteKind::Link),
            _ => None,
        }
    }
}

/// One line of the timeline: when (the collector's clock, never going
/// back within an incident), who (a person, or `liveops`), what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at_ms: u64,
    pub by: String,
    #[serde(flatten)]
    pub what: What,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: u64,
    pub title: String,
    pub state: State,
    pub severity: Severity,
    pub worlds: BTreeSet<String>,
    /// The team its pages went to, when a page opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub opened_ms: u64,
    /// When each state was first entered (the response times start here).
    pub entered: BTreeMap<State, u64>,
    pub roles: BTreeMap<Role, String>,
    /// Pages that joined it, by page id.
    pub pages: BTreeSet<u64>,
    pub timeline: Vec<Entry>,
    /// Player impact as last measured, and its peaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<ImpactRecord>,
    /// The marks the response times are measured from.
    #[serde(default)]
    pub marks: Marks,
    /// What its postmortem says must change (`actions.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<super::actions::ActionItem>,
    /// What the public status page shows of it, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<super::updates::PublicUpdate>,
}

/// The latest impact and what the postmortem needs of its history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImpactRecord {
    pub now: super::impact::Impact,
    pub peak_players: f64,
    pub peak_players_share: f64,
    pub peak_worlds: usize,
    /// Payments failed in affected worlds while it ran (failing rate
    /// integrated over the assessments).
    pub payments_failed: f64,
    /// Since when a lower severity than the one in force has been earned
    /// (it falls once that has held for `settle`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower_since_ms: Option<u64>,
}

/// Times the collector saw that are not entries of their own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Marks {
    /// The first bad signal: when the bad run of an affected SLO began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad_ms: Option<u64>,
    /// When every SLO of its worlds was first back within objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigated_ms: Option<u64>,
    /// The severity last notified through the paging policy (its
    /// `IncidentSeverity` alert firing), resolved once it changes or the
    /// incident ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<Sev>,
    /// Response phases already counted on `/metrics`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub observed: BTreeSet<String>,
}

impl Incident {
    /// `INC-7`: how people and links name it.
    pub fn name(&self) -> String {
        format!("INC-{}", self.id)
    }

    /// The time of the newest entry: nothing is stamped before it.
    pub fn last_ms(&self) -> u64 {
        self.timeline.last().map_or(self.opened_ms, |e| e.at_ms)
    }
}

/// `INC-7` or `7`.
pub fn parse_id(s: &str) -> Option<u64> {
    s.strip_prefix("INC-")
        .or_else(|| s.strip_prefix("inc-"))
        .unwrap_or(s)
        .parse()
        .ok()
}
