//! The override book: every operator override in force, and the mitigation
//! applications that grouped some of them. Pure: time comes in as `now`,
//! and each change comes back as a [`Change`] for the audit log.
//!
//! Overrides are only ever added and removed, never edited: evaluation
//! layers them (most specific scope, then newest), so removing one restores
//! exactly what was served before it was added.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use liveops_config::Mitigation;
use liveops_flags::time::{from_ms, to_ms};
use liveops_flags::{FlagValue, Override, OverrideSet, Scope};
use serde::{Deserialize, Serialize};

use super::change::{Action, Change};

/// One `liveops mitigate`: a bundle applied to a scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// `m-N`.
    pub id: String,
    /// The bundle's name, e.g. `freeze-attacks`.
    pub mitigation: String,
    pub scope: Scope,
    pub reason: String,
    pub actor: String,
    pub created_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
    /// Ids of the overrides it set that are still in force.
    pub overrides: Vec<String>,
}

/// Who asks for a change, and why.
pub struct Request<'a> {
    pub actor: &'a str,
    pub reason: &'a str,
    pub ttl: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Book {
    version: u64,
    next_mitigation: u64,
    next_override: u64,
    /// In creation order: among equally specific overrides with the same
    /// millisecond, evaluation picks the later one in this list.
    overrides: Vec<Override>,
    applications: Vec<Application>,
}

impl Book {
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    pub fn applications(&self) -> &[Application] {
        &self.applications
    }

    /// What an agent serving `world` needs: every override reaching it.
    pub fn set_for(&self, world: &str) -> OverrideSet {
        OverrideSet {
            version: self.version,
            overrides: self
                .overrides
                .iter()
                .filter(|o| o.scope.reaches_world(world))
                .cloned()
                .collect(),
        }
    }

    /// Applies a bundle: one override per flag, grouped under `m-N`.
    pub fn mitigate(
        &mut self,
        bundle: &Mitigation,
        scope: Scope,
        req: &Request<'_>,
        now: SystemTime,
    ) -> (Application, Change) {
        self.next_mitigation += 1;
        let id = format!("m-{}", self.next_mitigation);
        let created = self.created(now);
        let expires = req.ttl.and_then(|t| created.checked_add(t));
        let before = self.in_force(bundle.flags.keys(), &scope);
        let added: Vec<Override> = bundle
            .flags
            .iter()
            .map(|(flag, value)| {
                self.new_override(flag, value.clone(), &scope, req, created, Some(&id))
            })
            .collect();
        self.overrides.extend(added.iter().cloned());
        let app = Application {
            id: id.clone(),
            mitigation: bundle.name.clone(),
            scope: scope.clone(),
            reason: req.reason.to_owned(),
            actor: req.actor.to_owned(),
            created_ms: to_ms(created),
            expires_ms: expires.map(to_ms),
            overrides: added.iter().map(|o| o.id.clone()).collect(),
        };
        self.applications.push(app.clone());
        self.version += 1;
        let after = self.in_force(bundle.flags.keys(), &scope);
        let change = Change {
            action: Action::Mitigate,
            id,
            subject: bundle.name.clone(),
            scope,
            reason: req.reason.to_owned(),
            overrides: added,
            before,
            after,
        };
        (app, change)
    }

    /// Sets one flag for one scope: `o-N`.
    pub fn set(
        &mut self,
        flag: &str,
        value: FlagValue,
        scope: Scope,
        req: &Request<'_>,
        now: SystemTime,
    ) -> (Override, Change) {
        let created = self.created(now);
        let o = self.new_override(flag, value, &scope, req, created, None);
        let before = self.in_force([&o.flag], &scope);
        self.overrides.push(o.clone());
        self.version += 1;
        let after = self.in_force([&o.flag], &scope);
        let change = Change {
            action: Action::Override,
            id: o.id.clone(),
            subject: o.flag.clone(),
            scope,
            reason: req.reason.to_owned(),
            overrides: vec![o.clone()],
            before,
            after,
        };
        (o, change)
    }

    /// Removes `m-N` (all its overrides still in force) or one `o-N`;
    /// `None` when nothing has that id.
    pub fn revert(&mut self, id: &str, reason: &str) -> Option<Change> {
        let ids: Vec<String> = match self.applications.iter().find(|a| a.id == id) {
            Some(app) => app.overrides.clone(),
            None if self.overrides.iter().any(|o| o.id == id) => vec![id.to_owned()],
            None => return None,
        };
        Some(self.remove(Action::Revert, id, &ids, reason.to_owned()))
    }

    /// Removes every override past its expiry: one change per application
    /// (`m-N`) or lone override (`o-N`).
    pub fn expire(&mut self, now: SystemTime) -> Vec<Change> {
        let mut groups: Vec<(String, Vec<String>, String)> = Vec::new();
        for o in self.overrides.iter().filter(|o| !o.active(now)) {
            let group = o.mitigation.clone().unwrap_or_else(|| o.id.clone());
            match groups.iter_mut().find(|(g, _, _)| *g == group) {
                Some((_, ids, _)) => ids.push(o.id.clone()),
                None => {
                    let why = format!("ttl elapsed; set by {} for: {}", o.actor, o.reason);
                    groups.push((group, vec![o.id.clone()], why));
                }
            }
        }
        groups
            .into_iter()
            .map(|(group, ids, why)| self.remove(Action::Expire, &group, &ids, why))
            .collect()
    }

    /// The earliest instant an override expires, for the sweeper's timer.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.overrides.iter().filter_map(|o| o.expires).min()
    }

    fn remove(&mut self, action: Action, id: &str, ids: &[String], reason: String) -> Change {
        let app = self.applications.iter().find(|a| a.id == id);
        let app_name = app.map(|a| a.mitigation.clone());
        let (removed, kept): (Vec<Override>, Vec<Override>) = std::mem::take(&mut self.overrides)
            .into_iter()
            .partition(|o| ids.contains(&o.id));
        self.overrides = kept;
        for app in &mut self.applications {
            app.overrides.retain(|o| !ids.contains(o));
        }
        self.applications.retain(|a| !a.overrides.is_empty());
        self.version += 1;
        // An application reverted whole has one scope; an `o-N` too.
        let scope = removed.first().map_or(Scope::Fleet, |o| o.scope.clone());
        let before = removed
            .iter()
            .map(|o| (o.flag.clone(), Some(o.value.clone())))
            .collect();
        let after = self.in_force(removed.iter().map(|o| &o.flag), &scope);
        let subject = app_name
            .or_else(|| removed.first().map(|o| o.flag.clone()))
            .unwrap_or_default();
        Change {
            action,
            id: id.to_owned(),
            subject,
            scope,
            reason,
            overrides: removed,
            before,
            after,
        }
    }

    /// The next `o-N`, part of mitigation `m-N` or not, expiring `req.ttl`
    /// after `created`.
    fn new_override(
        &mut self,
        flag: &str,
        value: FlagValue,
        scope: &Scope,
        req: &Request<'_>,
        created: SystemTime,
        mitigation: Option<&String>,
    ) -> Override {
        self.next_override += 1;
        Override {
            id: format!("o-{}", self.next_override),
            flag: flag.to_owned(),
            scope: scope.clone(),
            value,
            reason: req.reason.to_owned(),
            actor: req.actor.to_owned(),
            mitigation: mitigation.cloned(),
            created,
            expires: req.ttl.and_then(|t| created.checked_add(t)),
        }
    }

    /// Per flag, the newest override at exactly `scope`, if any.
    fn in_force<'a>(
        &self,
        flags: impl IntoIterator<Item = &'a String>,
        scope: &Scope,
    ) -> BTreeMap<String, Option<FlagValue>> {
        flags
            .into_iter()
            .map(|f| {
                let v = self
                    .overrides
                    .iter()
                    .rev()
                    .find(|o| &o.flag == f && &o.scope == scope)
                    .map(|o| o.value.clone());
                (f.clone(), v)
            })
            .collect()
    }

    /// Never older than an override already in the book, so "newest wins"
    /// follows the order changes were made even if the clock steps back.
    fn created(&self, now: SystemTime) -> SystemTime {
        let newest = self.overrides.iter().map(|o| o.created).max();
        // Whole milliseconds: what the wire carries, so an agent compares
        // the same instants as the book.
        let now = from_ms(to_ms(now));
        newest.map_or(now, |n| n.max(now))
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
