//! Rollback records (`r-N`), kept in the snapshot store: who rolled what
//! back from which snapshot, the safety snapshot that undoes it, and
//! exactly which entities the game took, refused or gave back wrong.

use serde::{Deserialize, Serialize};

use super::game::Applied;
use super::plan::Plan;
use super::{Key, Targets};
use crate::snapshot::{SnapshotError, Store};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub restore: u64,
    pub recreate: u64,
    pub delete: u64,
    /// Lines the game applied.
    pub applied: u64,
    /// Lines the game refused (or never answered for).
    pub failed: u64,
    /// Applied, but reading the entity back does not give what was written.
    pub mismatched: u64,
    pub collateral: u64,
}

/// One entity that did not end as planned, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: String,
    pub id: String,
    pub error: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub at_ms: u64,
    pub actor: String,
    pub reason: String,
    /// The snapshot rolled back to.
    pub from: String,
    pub targets: Targets,
    /// Undoes this rollback: the written entities as they were before.
    pub safety: String,
    /// `applying` until the game has answered, then `applied` or `partial`.
    pub state: String,
    pub counts: Counts,
    pub failed: Vec<Problem>,
    pub mismatched: Vec<Problem>,
    #[serde(default)]
    pub took_ms: u64,
    /// The rollback this one undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    /// The rollback that undid this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<String>,
}

/// What is stored: the record and the entities written, which an undo
/// names (kept out of the record, which goes to the audit log whole).
#[derive(Serialize, Deserialize)]
struct Stored {
    record: Record,
    written: Vec<Key>,
}

impl Record {
    pub fn new(
        id: &str,
        at_ms: u64,
        actor: &str,
        reason: &str,
        plan: &Plan,
        targets: &Targets,
        safety: &str,
    ) -> Record {
        let s = &plan.summary;
        Record {
            id: id.to_owned(),
            at_ms,
            actor: actor.to_owned(),
            reason: reason.to_owned(),
            from: plan.from.clone(),
            // The entity list of an undo is in `written`; say how many.
            targets: Targets {
                entities: Vec::new(),
                ..targets.clone()
            },
            safety: safety.to_owned(),
            state: "applying".into(),
            counts: Counts {
                restore: s.restore,
                recreate: s.recreate,
                delete: s.delete,
                collateral: s.collateral,
                ..Counts::default()
            },
            failed: Vec::new(),
            mismatched: Vec::new(),
            took_ms: 0,
            undoes: None,
            undone_by: None,
        }
    }

    /// Fills in what the game did.
    pub fn finish(&mut self, results: &Applied, mismatched: Vec<Problem>, took_ms: u64) {
        self.counts.applied = results.applied;
        self.failed = results.failed.clone();
        self.counts.failed = self.failed.len() as u64;
        self.counts.mismatched = mismatched.len() as u64;
        self.mismatched = mismatched;
        self.took_ms = took_ms;
        self.state = if self.failed.is_empty() && self.mismatched.is_empty() {
            "applied".into()
        } else {
            "partial".into()
        };
    }
}

fn number(id: &str) -> Result<u64, SnapshotError> {
    id.strip_prefix("r-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| SnapshotError::Unknown(id.to_owned()))
}

pub fn save(store: &Store, n: u64, record: &Record, written: &[Key]) -> Result<(), SnapshotError> {
    let json = serde_json::to_vec(&Stored {
        record: record.clone(),
        written: written.to_vec(),
    })
    .map_err(|e| SnapshotError::Damaged(record.id.clone(), e.to_string()))?;
    Ok(store.put_rollback(n, &json)?)
}

fn decode(id: &str, bytes: &[u8]) -> Result<Stored, SnapshotError> {
    serde_json::from_slice(bytes).map_err(|e| SnapshotError::Damaged(id.to_owned(), e.to_string()))
}

pub fn load(store: &Store, id: &str) -> Result<(Record, Vec<Key>), SnapshotError> {
    let bytes = store
        .rollback(number(id)?)?
        .ok_or_else(|| SnapshotError::Unknown(id.to_owned()))?;
    let s = decode(id, &bytes)?;
    Ok((s.record, s.written))
}

pub fn list(store: &Store) -> Result<Vec<Record>, SnapshotError> {
    store
        .rollbacks()?
        .iter()
        .map(|b| decode("rollback", b).map(|s| s.record))
        .collect()
}

pub fn mark_undone(store: &Store, id: &str, by: &str) -> Result<(), SnapshotError> {
    let (mut record, written) = load(store, id)?;
    record.undone_by = Some(by.to_owned());
    save(store, number(id)?, &record, &written)
}
