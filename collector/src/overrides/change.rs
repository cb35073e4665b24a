//! What a change to the [`Book`](super::Book) did, and the event that
//! tells it.

use std::collections::BTreeMap;

use liveops_flags::{FlagValue, Override, Scope};
use serde_json::{Map, Value};

use super::Actor;
use crate::events::Action as Told;

/// What a change did, for the audit log: the overrides added or removed,
/// and per flag the value in force at the change's scope before and after
/// (`None`: no override there, the flag file decides).
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub action: Action,
    /// `m-N` or `o-N`.
    pub id: String,
    /// The mitigation's name, or the flag of a lone override.
    pub subject: String,
    pub scope: Scope,
    pub reason: String,
    pub overrides: Vec<Override>,
    pub before: BTreeMap<String, Option<FlagValue>>,
    pub after: BTreeMap<String, Option<FlagValue>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Mitigate,
    Override,
    Revert,
    Expire,
}

impl Change {
    /// This change, made by `who`, as the event stream tells it (and the
    /// audit log records it).
    pub fn action(&self, who: &Actor<'_>) -> Told {
        let side = |m: &BTreeMap<String, Option<FlagValue>>| {
            let obj: Map<String, Value> = m
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
                .collect();
            Value::Object(obj)
        };
        Told {
            actor: who.name.to_owned(),
            role: who.role.to_owned(),
            action: match self.action {
                Action::Mitigate => "mitigate",
                Action::Override => "override",
                Action::Revert => "revert",
                Action::Expire => "expire",
            },
            id: self.id.clone(),
            subject: self.subject.clone(),
            scope: self.scope.to_string(),
            reason: self.reason.clone(),
            before: side(&self.before),
            after: side(&self.after),
        }
    }
}
