//! Action items: what a postmortem says must change, each with an owner
//! and a due date, kept on its incident (also once it is closed: the work
//! follows the incident) and numbered across all of them (`A-7`).
//!
//! An item past its due date and not done is *overdue*: `/metrics` counts
//! it, `liveops action list --overdue` fails on it, and its owner's team
//! hears of it through the paging policy as a ticket (`ActionItemOverdue`).

use serde::{Deserialize, Serialize};

use super::book::{Book, IncidentError, TEXT_MAX, TITLE_MAX, text};
use super::model::{Entry, Incident, What};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionItem {
    pub id: u64,
    pub title: String,
    pub owner: String,
    /// Due by this instant (the end of the due day, UTC).
    pub due_ms: u64,
    pub added_ms: u64,
    pub added_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Done>,
    /// Its overdue notice is out (firing) and not yet taken back.
    #[serde(default)]
    pub notified: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub at_ms: u64,
    pub by: String,
    pub note: String,
}

impl ActionItem {
    /// `A-7`.
    pub fn name(&self) -> String {
        format!("A-{}", self.id)
    }

    pub fn is_overdue(&self, now: u64) -> bool {
        self.done.is_none() && now > self.due_ms
    }
}

/// `A-7` or `7`.
pub fn parse_action_id(s: &str) -> Option<u64> {
    s.strip_prefix("A-")
        .or_else(|| s.strip_prefix("a-"))
        .unwrap_or(s)
        .parse()
        .ok()
}

/// An overdue notice to send, or to take back.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionNotice {
    pub incident: String,
    pub team: Option<String>,
    pub action: ActionItem,
    pub firing: bool,
}

impl Book {
    /// Every action item with its incident, by item number.
    pub fn actions(&self) -> Vec<(&Incident, &ActionItem)> {
        let mut all: Vec<_> = self
            .incidents
            .values()
            .flat_map(|i| i.actions.iter().map(move |a| (i, a)))
            .collect();
        all.sort_by_key(|(_, a)| a.id);
        all
    }

    /// The incident holding action item `id`.
    pub fn action_incident(&self, id: u64) -> Option<u64> {
        self.incidents
            .values()
            .find(|i| i.actions.iter().any(|a| a.id == id))
            .map(|i| i.id)
    }

    /// Adds an item to incident `id`, whatever its state.
    pub fn add_action(
        &mut self,
        id: u64,
        title: &str,
        owner: &str,
        due_ms: u64,
        by: &str,
        now: u64,
    ) -> Result<&ActionItem, IncidentError> {
        let title = text(title, "a title", TITLE_MAX)?;
        liveops_protocol::name::check(owner, "owner").map_err(IncidentError::Name)?;
        let next = self.next_action() + 1;
        let inc = self
            .incidents
            .get_mut(&id)
            .ok_or(IncidentError::Unknown(id))?;
        let at = now.max(inc.last_ms());
        let item = ActionItem {
            id: next,
            title: title.clone(),
            owner: owner.to_owned(),
            due_ms,
            added_ms: at,
            added_by: by.to_owned(),
            done: None,
            notified: false,
        };
        inc.timeline.push(Entry {
            at_ms: at,
            by: by.into(),
            what: What::Action {
                action: next,
                done: false,
            },
            text: format!("{title} (owner {owner})"),
        });
        inc.actions.push(item);
        self.dirty.insert(id);
        Ok(inc.actions.last().expect("just pushed"))
    }

    /// Marks item `action` done, with what was done.
    pub fn done_action(
        &mut self,
        action: u64,
        note: &str,
        by: &str,
        now: u64,
    ) -> Result<u64, IncidentError> {
        let note = text(note, "a note", TEXT_MAX)?;
        let id = self
            .action_incident(action)
            .ok_or(IncidentError::UnknownAction(action))?;
        let inc = self
            .incidents
            .get_mut(&id)
            .ok_or(IncidentError::Unknown(id))?;
        let at = now.max(inc.last_ms());
        let item = inc
            .actions
            .iter_mut()
            .find(|a| a.id == action)
            .ok_or(IncidentError::UnknownAction(action))?;
        if item.done.is_some() {
            return Err(IncidentError::ActionDone(action));
        }
        item.done = Some(Done {
            at_ms: at,
            by: by.to_owned(),
            note: note.clone(),
        });
        inc.timeline.push(Entry {
            at_ms: at,
            by: by.into(),
            what: What::Action { action, done: true },
            text: note,
        });
        self.dirty.insert(id);
        Ok(id)
    }

    /// The highest item number given.
    fn next_action(&self) -> u64 {
        self.incidents
            .values()
            .flat_map(|i| i.actions.iter().map(|a| a.id))
            .max()
            .unwrap_or(0)
    }

    /// Items not done, and of those, overdue at `now`.
    pub fn action_counts(&self, now: u64) -> (usize, usize) {
        let open: Vec<_> = self
            .incidents
            .values()
            .flat_map(|i| &i.actions)
            .filter(|a| a.done.is_none())
            .collect();
        let overdue = open.iter().filter(|a| a.is_overdue(now)).count();
        (open.len(), overdue)
    }

    /// Overdue notices to send (an item fell overdue) or take back (it
    /// was done); marks them.
    pub fn action_notices(&mut self, now: u64) -> Vec<ActionNotice> {
        let mut out = Vec::new();
        for inc in self.incidents.values_mut() {
            let name = inc.name();
            for a in &mut inc.actions {
                let want = a.is_overdue(now);
                if want == a.notified {
                    continue;
                }
                a.notified = want;
                self.dirty.insert(inc.id);
                out.push(ActionNotice {
                    incident: name.clone(),
                    team: inc.team.clone(),
                    action: a.clone(),
                    firing: want,
                });
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
