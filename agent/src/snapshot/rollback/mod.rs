//! Targeted rollback: chosen players, accounts and entities put back as a
//! snapshot holds them, never the whole world.
//!
//! - [`select`]: which entities the targets cover, read from a snapshot's
//!   two indexes (a player covers what it owns, and what that owns).
//! - [`plan`]: what a rollback would write, entity by entity, and the
//!   collateral (pure).
//! - [`game`]: writing through the game's restore endpoint and reading back.
//! - [`record`]: the rollback records undo works from.
//!
//! A plan reads the game's state into a transient snapshot, so both sides
//! are indexes: what the targets cover is found in one descent per owner,
//! and the collateral (other owners' entities that changed since the
//! snapshot and name a target) in a diff that costs what changed.
//!
//! Applying takes the safety snapshot first (exactly the entities the plan
//! writes, as they are now, from that same read), records the rollback
//! durably, writes, reads every written entity back and reports each one
//! that the game refused or that does not read back as planned. Undo is a
//! rollback from the safety snapshot of exactly those entities, so it has
//! a plan, a safety snapshot and a record of its own.

pub mod game;
pub mod live;
pub mod plan;
pub mod record;
pub mod select;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use liveops_protocol::time::now_ms;
use serde::{Deserialize, Serialize};

use super::{LIVE, Meta, SAFETY, SnapshotError, Snapshots, TakeError, index};
pub use plan::{Action, Plan};
pub use record::Record;

/// One entity, by kind and id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub kind: String,
    pub id: String,
}

/// What to roll back. Players and accounts cover what they own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub players: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub villages: Vec<String>,
    /// With `ids`: entities of any kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// Exact entities (an undo names what its rollback wrote).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Key>,
    /// Only these JSON paths (`data.resources.gold`); whole entities when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Delete targeted entities the snapshot does not hold (created since);
    /// otherwise they are listed and left alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_new: bool,
    /// Read the game's whole state for the collateral, rather than compare
    /// with the newest snapshot (see [`Plan::collateral_from`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
}

/// Ids a request may name: more than any rollback needs, and each one
/// usable in the game's state query unencoded.
const MAX_IDS: usize = 200_000;

impl Targets {
    /// Refuses targets that name nothing, too much, or ids the game's state
    /// query cannot carry.
    pub fn check(&self) -> Result<(), String> {
        let named = self.players.len()
            + self.accounts.len()
            + self.villages.len()
            + self.ids.len()
            + self.entities.len();
        if named == 0 {
            return Err(
                "name what to roll back: --player, --account, --village or --kind K --id".into(),
            );
        }
        if named > MAX_IDS {
            return Err(format!(
                "{named} targets; at most {MAX_IDS} in one rollback"
            ));
        }
        if !self.ids.is_empty() && self.kind.is_none() {
            return Err("--id needs --kind".into());
        }
        let ids = self
            .players
            .iter()
            .chain(&self.accounts)
            .chain(&self.villages);
        let ids = ids.chain(&self.ids).chain(self.kind.iter());
        let ids = ids.chain(self.entities.iter().flat_map(|k| [&k.kind, &k.id]));
        for id in ids {
            if id.is_empty()
                || id.len() > 256
                || id
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || "&=%+".contains(c))
            {
                return Err(format!(
                    "{id:?}: an id is 1–256 characters without spaces, controls or & = % +"
                ));
            }
        }
        for f in &self.fields {
            if f.is_empty() || f.split('.').any(str::is_empty) {
                return Err(format!(
                    "{f:?}: a field is a dotted path such as data.resources.gold"
                ));
            }
        }
        Ok(())
    }

    /// The entities named one by one.
    fn explicit(&self) -> BTreeSet<Key> {
        let key = |kind: &str, id: &String| Key {
            kind: kind.to_owned(),
            id: id.clone(),
        };
        let mut out: BTreeSet<Key> = self.entities.iter().cloned().collect();
        out.extend(self.players.iter().map(|id| key("player", id)));
        out.extend(self.accounts.iter().map(|id| key("account", id)));
        out.extend(self.villages.iter().map(|id| key("village", id)));
        if let Some(kind) = &self.kind {
            out.extend(self.ids.iter().map(|id| key(kind, id)));
        }
        out
    }

    /// The owners whose entities are covered.
    fn owners(&self) -> BTreeSet<String> {
        self.players.iter().chain(&self.accounts).cloned().collect()
    }
}

/// A plan together with the two snapshots it was made from.
struct Planned {
    plan: Plan,
    writes: Vec<plan::Write>,
    live: Meta,
}

impl Snapshots {
    /// What rolling `targets` back to snapshot `from` would write (a dry run).
    pub async fn rollback_plan(
        &self,
        from: &str,
        targets: &Targets,
    ) -> Result<Plan, SnapshotError> {
        let _one = self.lock.lock().await;
        let planned = self.plan_locked(from, targets).await?;
        self.store.remove(std::slice::from_ref(&planned.live.id))?;
        Ok(planned.plan)
    }

    /// Reads the game (the targeted entities only, or with `fresh`, or when
    /// no snapshot is newer than `from`, the whole world for the collateral)
    /// and plans. The returned `live` is a transient snapshot to remove.
    async fn plan_locked(&self, from: &str, targets: &Targets) -> Result<Planned, SnapshotError> {
        let snap = self.resolve(from)?;
        let newer = self
            .list()?
            .into_iter()
            .rev()
            .find(|m| m.trigger != SAFETY && m.at_ms > snap.at_ms);
        let read = Instant::now();
        let (live, window, found) = match newer {
            Some(window) if !targets.fresh => {
                let (live, found) = self.read_targets(&snap, targets).await?;
                (live, Some(window), Some(found))
            }
            _ => (self.take_locked(None, LIVE).await?, None, None),
        };
        let read_ms = read.elapsed().as_millis() as u64;
        let store = Arc::clone(&self.store);
        let (s2, l2, w2, t2) = (snap.clone(), live.clone(), window.clone(), targets.clone());
        let made = tokio::task::spawn_blocking(move || {
            plan::make(&store, &s2, &l2, w2.as_ref().unwrap_or(&l2), &t2, found)
        })
        .await
        .map_err(|e| SnapshotError::Damaged(snap.id.clone(), e.to_string()));
        let (mut plan, writes) = match made {
            Ok(Ok(p)) => p,
            Ok(Err(e)) | Err(e) => {
                let _ = self.store.remove(std::slice::from_ref(&live.id));
                return Err(e);
            }
        };
        plan.read_ms = read_ms;
        if let Some(w) = window {
            plan.collateral_from = w.id;
            plan.collateral_at_ms = w.at_ms;
        }
        Ok(Planned { plan, writes, live })
    }

    /// The game's current lines of what `targets` cover, as a transient
    /// snapshot of just those entities.
    async fn read_targets(
        &self,
        snap: &Meta,
        targets: &Targets,
    ) -> Result<(Meta, plan::Found), SnapshotError> {
        let game = self.game.clone().ok_or(TakeError::NoGame)?;
        let owners = targets.owners();
        let store = Arc::clone(&self.store);
        let (s2, o2) = (snap.clone(), owners.clone());
        let found = tokio::task::spawn_blocking(move || {
            plan::Found::in_snapshot(&select::Memo::new(&store), &s2, &o2)
        })
        .await
        .map_err(|e| SnapshotError::Damaged(snap.id.clone(), e.to_string()))??;
        let mut keys: BTreeSet<Key> = found.in_snap.keys().cloned().collect();
        keys.extend(targets.explicit());
        let lines = live::read(&self.client, &game, &owners, &keys, self.timeout).await?;
        let mut items = Vec::with_capacity(lines.len());
        let mut blobs = Vec::with_capacity(lines.len());
        for (key, line) in &lines {
            let digest = index::digest(line);
            let owner = super::entity::head(line)
                .ok()
                .and_then(|h| h.owner.map(|o| o.into_owned()));
            items.push((key.clone(), owner, digest));
            blobs.push((digest, line.as_slice()));
        }
        self.store.put_blobs(&blobs)?;
        let live = self.index_snapshot(Meta::new(now_ms(), None, LIVE), &items)?;
        Ok((live, found))
    }
    /// Applies the plan for `targets` after a safety snapshot; the record
    /// says exactly what was written, refused and read back wrong.
    pub async fn rollback_apply(
        &self,
        from: &str,
        targets: &Targets,
        actor: &str,
        reason: &str,
        undoes: Option<String>,
    ) -> Result<Record, SnapshotError> {
        let _one = self.lock.lock().await;
        let game = self.game.clone().ok_or(TakeError::NoGame)?;
        if let Some(u) = &undoes {
            // Checked again under the lock: two undos must not both run.
            if let Some(by) = record::load(&self.store, u)?.0.undone_by {
                return Err(SnapshotError::Conflict(format!(
                    "{u} was undone already, by {by}"
                )));
            }
        }
        let planned = self.plan_locked(from, targets).await?;
        let n = self.store.next_rollback()?;
        let id = format!("r-{n}");
        let safety = self.safety_snapshot(&planned, &id);
        let _ = self.store.remove(std::slice::from_ref(&planned.live.id));
        let safety = safety?;
        let mut rec = Record::new(
            &id,
            now_ms(),
            actor,
            reason,
            &planned.plan,
            targets,
            &safety.id,
        );
        rec.undoes = undoes;
        let written: Vec<Key> = planned.writes.iter().map(|w| w.key.clone()).collect();
        record::save(&self.store, n, &rec, &written)?;
        let started = Instant::now();
        let results = game::apply(&self.client, &game, &planned.writes, self.timeout).await;
        let mismatched =
            game::read_back(&self.client, &game, &planned.writes, &results, self.timeout).await;
        rec.finish(&results, mismatched, started.elapsed().as_millis() as u64);
        record::save(&self.store, n, &rec, &written)?;
        if let Some(undone) = &rec.undoes {
            record::mark_undone(&self.store, undone, &rec.id)?;
        }
        tracing::info!(id = %rec.id, from = %rec.from, applied = rec.counts.applied,
            failed = rec.counts.failed, mismatched = rec.counts.mismatched, actor, "rollback applied");
        Ok(rec)
    }

    /// The plan (dry run) or the apply of undoing rollback `id`: its
    /// safety snapshot, for exactly the entities it wrote.
    pub fn rollback_undo_targets(&self, id: &str) -> Result<(Record, Targets), SnapshotError> {
        let (rec, written) = record::load(&self.store, id)?;
        if let Some(by) = &rec.undone_by {
            return Err(SnapshotError::Conflict(format!(
                "{id} was undone already, by {by}"
            )));
        }
        let targets = Targets {
            entities: written,
            fields: rec.targets.fields.clone(),
            // What the rollback created was not there before it.
            delete_new: true,
            ..Targets::default()
        };
        Ok((rec, targets))
    }

    /// Every rollback, oldest first.
    pub fn rollbacks(&self) -> Result<Vec<Record>, SnapshotError> {
        record::list(&self.store)
    }

    /// The entities the plan writes, as the game holds them now: a snapshot
    /// of their own, which undo rolls back to.
    fn safety_snapshot(&self, planned: &Planned, rollback: &str) -> Result<Meta, SnapshotError> {
        let items: Vec<(Key, Option<String>, index::Digest)> = planned
            .writes
            .iter()
            .filter_map(|w| {
                let (digest, owner) = w.current.clone()?;
                Some((w.key.clone(), owner, digest))
            })
            .collect();
        let meta = Meta::new(now_ms(), Some(format!("before {rollback}")), SAFETY);
        self.index_snapshot(meta, &items)
    }

    /// A snapshot of some entities whose lines are stored already.
    fn index_snapshot(
        &self,
        meta: Meta,
        items: &[(Key, Option<String>, index::Digest)],
    ) -> Result<Meta, SnapshotError> {
        let mut meta = self.store.begin(meta)?;
        let (mut entries, mut owned) = (Vec::new(), Vec::new());
        for (key, owner, digest) in items {
            entries.push(index::Entry {
                key: index::key_of(&key.kind, &key.id),
                digest: *digest,
            });
            if let Some(o) = owner {
                owned.push(index::Entry {
                    key: index::owner_key(o, &key.kind, &key.id),
                    digest: *digest,
                });
            }
            *meta.counts.entry(key.kind.clone()).or_default() += 1;
        }
        entries.sort_unstable_by_key(|e| e.key);
        entries.dedup_by_key(|e| e.key);
        owned.sort_unstable_by_key(|e| e.key);
        owned.dedup_by_key(|e| e.key);
        let mut written = 0;
        meta.entities = entries.len() as u64;
        let build = |entries: &[index::Entry], written: &mut u64| {
            index::build(&*self.store, entries, written).map_err(super::StoreError::from)
        };
        meta.root = build(&entries, &mut written)?.map(hex::encode);
        meta.owners = build(&owned, &mut written)?.map(hex::encode);
        meta.index_bytes_added = written;
        Ok(self.store.finish(meta)?)
    }
}

#[cfg(test)]
mod tests;
