//! The incident book: every incident, changed only through its methods,
//! each a function of its input and `now` that validates before it
//! changes anything and records what it did on the incident's timeline.
//!
//! Pure: the service around it stores the book and publishes each change.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{Entry, Incident, NoteKind, Override, Role, Sev, Severity, State, What};

/// Longest title; longest note, reason or other text.
pub const TITLE_MAX: usize = 200;
pub const TEXT_MAX: usize = 4000;
/// Who the collector itself signs timeline entries as.
pub const LIVEOPS: &str = "liveops";

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum IncidentError {
    #[error("no incident INC-{0}")]
    Unknown(u64),
    #[error("INC-{id} is {}: nothing changes it any more (open a new incident)", state.as_str())]
    Final { id: u64, state: State },
    #[error("INC-{id} is already {}", state.as_str())]
    NoChange { id: u64, state: State },
    #[error("INC-{id}: going back from {} to {} needs a reason (--note)", from.as_str(), to.as_str())]
    BackNeedsReason { id: u64, from: State, to: State },
    #[error("INC-{0}: cancelling needs a reason (--note)")]
    CancelNeedsReason(u64),
    #[error("a severity set by hand needs a reason")]
    SeverityNeedsReason,
    #[error("{what} must be 1–{max} printable characters")]
    Text { what: &'static str, max: usize },
    #[error("{0}")]
    Name(String),
    #[error("no action item A-{0}")]
    UnknownAction(u64),
    #[error("A-{0} is already done")]
    ActionDone(u64),
}

/// An incident opened by hand.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub title: String,
    #[serde(default)]
    pub worlds: Vec<String>,
    #[serde(default)]
    pub sev: Option<Sev>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Book {
    pub(super) incidents: BTreeMap<u64, Incident>,
    pub(super) next: u64,
    /// Incidents changed since the owner last saved.
    #[serde(skip)]
    pub(super) dirty: BTreeSet<u64>,
}

pub(super) fn text(s: &str, what: &'static str, max: usize) -> Result<String, IncidentError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max || s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(IncidentError::Text { what, max });
    }
    Ok(s.to_owned())
}

fn name(s: &str, what: &str) -> Result<String, IncidentError> {
    liveops_protocol::name::check(s, what).map_err(IncidentError::Name)?;
    Ok(s.to_owned())
}

impl Book {
    pub fn get(&self, id: u64) -> Option<&Incident> {
        self.incidents.get(&id)
    }

    /// Newest first.
    pub fn list(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values().rev()
    }

    /// How many incidents stand in each state that is not final, by
    /// severity in force: every pair, zero included.
    pub fn counts(&self) -> Vec<(&'static str, &'static str, usize)> {
        let mut n: BTreeMap<(State, Sev), usize> = BTreeMap::new();
        for i in self.incidents.values().filter(|i| !i.state.is_final()) {
            *n.entry((i.state, i.severity.current())).or_default() += 1;
        }
        let states = State::ALL.into_iter().filter(|s| !s.is_final());
        states
            .flat_map(|st| Sev::ALL.map(|sev| (st, sev)))
            .map(|(st, sev)| {
                (
                    st.as_str(),
                    sev.as_str(),
                    n.get(&(st, sev)).copied().unwrap_or(0),
                )
            })
            .collect()
    }

    /// Ids changed since the last call, for the owner to save.
    pub fn take_dirty(&mut self) -> BTreeSet<u64> {
        std::mem::take(&mut self.dirty)
    }

    pub fn open(&mut self, draft: &Draft, by: &str, now: u64) -> Result<&Incident, IncidentError> {
        let title = text(&draft.title, "a title", TITLE_MAX)?;
        let worlds = draft
            .worlds
            .iter()
            .map(|w| name(w, "world"))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let severity = Severity {
            computed: None,
            human: draft.sev.map(|sev| Override {
                sev,
                reason: "set when opened".into(),
                by: by.into(),
                at_ms: now,
            }),
        };
        Ok(self.insert(title, worlds, None, severity, by, now))
    }

    pub(super) fn insert(
        &mut self,
        title: String,
        worlds: BTreeSet<String>,
        team: Option<String>,
        severity: Severity,
        by: &str,
        now: u64,
    ) -> &Incident {
        self.next += 1;
        let id = self.next;
        let incident = Incident {
            id,
            title,
            state: State::Triage,
            severity,
            worlds,
            team,
            opened_ms: now,
            entered: BTreeMap::from([(State::Triage, now)]),
            roles: BTreeMap::new(),
            pages: BTreeSet::new(),
            timeline: vec![Entry {
                at_ms: now,
                by: by.into(),
                what: What::Opened,
                text: String::new(),
            }],
            impact: None,
            marks: Default::default(),
            actions: Vec::new(),
            updates: Vec::new(),
        };
        self.dirty.insert(id);
        self.incidents.entry(id).or_insert(incident)
    }

    /// The incident `id`, unless it is final; with the time to stamp on
    /// its next entry (never before its newest one, whatever the clock did).
    pub(super) fn active(
        &mut self,
        id: u64,
        now: u64,
    ) -> Result<(&mut Incident, u64), IncidentError> {
        let inc = self
            .incidents
            .get_mut(&id)
            .ok_or(IncidentError::Unknown(id))?;
        if inc.state.is_final() {
            return Err(IncidentError::Final {
                id,
                state: inc.state,
            });
        }
        let at = now.max(inc.last_ms());
        self.dirty.insert(id);
        Ok((inc, at))
    }

    /// Moves `id` to `to`. Forward moves may skip states (a fault found and
    /// fixed at once goes from triage to mitigated); going back, and
    /// cancelling, need a reason.
    pub fn status(
        &mut self,
        id: u64,
        to: State,
        note: &str,
        by: &str,
        now: u64,
    ) -> Result<&Incident, IncidentError> {
        let note = note.trim();
        let note = if note.is_empty() {
            String::new()
        } else {
            text(note, "a note", TEXT_MAX)?
        };
        let inc = self.incidents.get(&id).ok_or(IncidentError::Unknown(id))?;
        let from = inc.state;
        if from.is_final() {
            return Err(IncidentError::Final { id, state: from });
        }
        if to == from {
            return Err(IncidentError::NoChange { id, state: from });
        }
        if to == State::Cancelled && note.is_empty() {
            return Err(IncidentError::CancelNeedsReason(id));
        }
        if to < from && note.is_empty() {
            return Err(IncidentError::BackNeedsReason { id, from, to });
        }
        let (inc, at) = self.active(id, now)?;
        inc.state = to;
        inc.entered.entry(to).or_insert(at);
        inc.timeline.push(Entry {
            at_ms: at,
            by: by.into(),
            what: What::State { from, to },
            text: note,
        });
        Ok(inc)
    }

    pub fn assign(
        &mut self,
        id: u64,
        role: Role,
        person: &str,
        by: &str,
        now: u64,
    ) -> Result<&Incident, IncidentError> {
        let person = name(person, "person")?;
        let (inc, at) = self.active(id, now)?;
        inc.roles.insert(role, person.clone());
        inc.timeline.push(Entry {
            at_ms: at,
            by: by.into(),
            what: What::Assigned { role, person },
            text: String::new(),
        });
        Ok(inc)
    }

    pub fn note(
        &mut self,
        id: u64,
        kind: NoteKind,
        note: &str,
        by: &str,
        now: u64,
    ) -> Result<&Incident, IncidentError> {
        let note = text(note, "a note", TEXT_MAX)?;
        let (inc, at) = self.active(id, now)?;
        inc.timeline.push(Entry {
            at_ms: at,
            by: by.into(),
            what: What::Note { note: kind },
            text: note,
        });
        Ok(inc)
    }

    /// A human's severity, with the reason; the computed one is kept.
    pub fn set_severity(
        &mut self,
        id: u64,
        sev: Sev,
        reason: &str,
        by: &str,
        now: u64,
    ) -> Result<&Incident, IncidentError> {
        let reason =
            text(reason, "a reason", TEXT_MAX).map_err(|_| IncidentError::SeverityNeedsReason)?;
        let (inc, at) = self.active(id, now)?;
        let from = inc.severity.current();
        inc.severity.human = Some(Override {
            sev,
            reason: reason.clone(),
            by: by.into(),
            at_ms: at,
        });
        inc.timeline.push(Entry {
            at_ms: at,
            by: by.into(),
            what: What::Severity { from, to: sev },
            text: reason,
        });
        Ok(inc)
    }

    /// The severity computed from player impact; a timeline entry only when
    /// what is in force changes. Returns whether it did.
    pub fn compute_severity(
        &mut self,
        id: u64,
        sev: Sev,
        why: &str,
        now: u64,
    ) -> Result<bool, IncidentError> {
        let (inc, at) = self.active(id, now)?;
        let from = inc.severity.current();
        inc.severity.computed = Some(sev);
        let to = inc.severity.current();
        if from != to {
            inc.timeline.push(Entry {
                at_ms: at,
                by: LIVEOPS.into(),
                what: What::Severity { from, to },
                text: why.into(),
            });
        }
        Ok(from != to)
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
