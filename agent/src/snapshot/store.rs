//! Where snapshots live: one sled database of its own under the agent's data
//! directory (`snapshots/`), behind this narrow type.
//!
//! Entity lines live in pack files under `packs/` ([`super::pack`]: digest
//! → line, stored once however many snapshots hold it), and index nodes
//! (see [`super::index`]) in packs of their own under `nodes/`; sled holds
//! `snaps` (snapshot number → [`Meta`] as JSON) and `rollbacks`.
//!
//! Why nodes are not in sled: a node's id is its digest, so building an
//! index inserted 60,000 nodes a million-entity snapshot under random keys,
//! and asked sled first whether each was there; that was 44 % of the time
//! of a first snapshot. In a pack, asking is a hash lookup in memory and
//! writing is an append.
//!
//! Durability: sled 0.34's `flush` writes but does not fsync on Linux (sled
//! issue #1452), so [`Store::durable`] flushes and then fsyncs sled's files
//! itself, and the open pack with it. A snapshot's blobs and nodes are made durable before its meta
//! says `complete`, and that meta before the snapshot is announced, so a
//! kill at any moment leaves every completed snapshot whole; one left
//! incomplete is removed at the next open and its nodes swept.
//!
//! Space: nothing is reference-counted. [`Store::sweep`] marks what the
//! remaining snapshots reach (a subtree shared by several is entered once)
//! and deletes the rest; a crash in the middle of a snapshot can therefore
//! only leave garbage that the next sweep removes, never a dangling node.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::index::{self, Digest, IndexError, Nodes};
use super::pack::{PackError, Packs};

/// What a snapshot is, as listed. `root` is absent for an empty world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// `s-N`, increasing.
    pub id: String,
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `scheduled`, `manual`, `deploy`, `safety` or `live` (a diff's view of
    /// the game, removed once the diff is done).
    pub trigger: String,
    pub complete: bool,
    pub entities: u64,
    /// Entities per kind.
    pub counts: std::collections::BTreeMap<String, u64>,
    /// Bytes this snapshot added to the store: new entity lines, and new
    /// index nodes separately.
    pub bytes_added: u64,
    pub index_bytes_added: u64,
    /// Lines the game sent that were not entities, or repeated one.
    #[serde(default)]
    pub skipped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Root of the owner index (see [`index::owner_key`]): the same
    /// entities keyed by owner, for a rollback of whatever a player owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<String>,
    /// How long taking it took.
    #[serde(default)]
    pub took_ms: u64,
}

impl Meta {
    /// A snapshot about to be taken: nothing counted yet, no id (the store
    /// gives it one in [`Store::begin`]).
    pub fn new(at_ms: u64, label: Option<String>, trigger: &str) -> Meta {
        Meta {
            id: String::new(),
            at_ms,
            label,
            trigger: trigger.into(),
            complete: false,
            entities: 0,
            counts: Default::default(),
            bytes_added: 0,
            index_bytes_added: 0,
            skipped: 0,
            root: None,
            owners: None,
            took_ms: 0,
        }
    }

    pub fn root(&self) -> Option<Digest> {
        parse_digest(self.root.as_deref()?)
    }

    pub fn owners_root(&self) -> Option<Digest> {
        parse_digest(self.owners.as_deref()?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("snapshot store: {0}")]
    Sled(#[from] sled::Error),
    #[error("snapshot store: cannot make {} durable: {source}", path.display())]
    Sync {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("snapshot store: {0}")]
    Pack(#[from] PackError),
    #[error("snapshot store: {0}")]
    Index(#[from] IndexError<PackError>),
    #[error("snapshot store: meta of {0} is unreadable: {1}")]
    Meta(String, serde_json::Error),
}

pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    blobs: Packs,
    nodes: Packs,
    snaps: sled::Tree,
    rollbacks: sled::Tree,
}

impl Nodes for Store {
    type Error = PackError;
    fn get(&self, id: &Digest) -> Result<Option<Vec<u8>>, PackError> {
        self.nodes.get(id)
    }
    fn put(&self, id: &Digest, bytes: &[u8]) -> Result<u64, PackError> {
        self.nodes.put(&[(*id, bytes)])
    }
}

impl Store {
    /// Opens (or creates) the store; `cache_bytes` bounds sled's page cache,
    /// which is most of what the store costs in memory.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let dir = dir.join("snapshots");
        let db = sled::Config::new()
            .path(&dir)
            .cache_capacity(cache_bytes)
            // Durability comes from `durable`, at the points that need it.
            .flush_every_ms(None)
            .open()?;
        let (blobs, dropped) = Packs::open(&dir.join("packs"))?;
        let (nodes, dropped_nodes) = Packs::open(&dir.join("nodes"))?;
        if dropped + dropped_nodes > 0 {
            tracing::warn!(
                lines = dropped,
                nodes = dropped_nodes,
                "records a crash kept from their pack forgotten"
            );
        }
        let store = Store {
            blobs,
            nodes,
            snaps: db.open_tree("snaps")?,
            rollbacks: db.open_tree("rollbacks")?,
            db,
            dir,
        };
        let unfinished: Vec<String> = store
            .list()?
            .into_iter()
            .filter(|m| !m.complete)
            .map(|m| m.id)
            .collect();
        store.migrate(db_tree(&store.db, "blobs")?, &store.blobs)?;
        store.migrate(db_tree(&store.db, "nodes")?, &store.nodes)?;
        if !unfinished.is_empty() {
            tracing::warn!(snapshots = ?unfinished, "removing snapshots a stop interrupted");
            store.remove(&unfinished)?;
            store.sweep()?;
        }
        Ok(store)
    }

    /// Flushes sled and fsyncs its files and directory.
    pub fn durable(&self) -> Result<(), StoreError> {
        self.blobs.sync()?;
        self.nodes.sync()?;
        self.db.flush()?;
        let sync = |path: PathBuf| {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|source| StoreError::Sync { path, source })
        };
        for entry in std::fs::read_dir(&self.dir)
            .map_err(|source| StoreError::Sync {
                path: self.dir.clone(),
                source,
            })?
            .flatten()
        {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                sync(entry.path())?;
            }
        }
        sync(self.dir.clone())
    }

    /// A new snapshot number, recorded as incomplete.
    pub fn begin(&self, mut meta: Meta) -> Result<Meta, StoreError> {
        // One past the newest: numbers stay small and dense across crashes
        // (sled's own id generator jumps a million at every restart). An
        // interrupted snapshot's number may be given again; it was never
        // announced. Callers hold the snapshot lock.
        let newest = self
            .snaps
            .last()?
            .and_then(|(k, _)| <[u8; 8]>::try_from(&k[..]).ok());
        let n = newest.map_or(0, u64::from_be_bytes) + 1;
        meta.id = format!("s-{n}");
        meta.complete = false;
        self.put_meta(n, &meta)?;
        Ok(meta)
    }

    /// Marks a snapshot complete once everything it points at is durable.
    pub fn finish(&self, mut meta: Meta) -> Result<Meta, StoreError> {
        self.durable()?;
        meta.complete = true;
        self.put_meta(number(&meta.id).unwrap_or(0), &meta)?;
        self.durable()?;
        Ok(meta)
    }

    fn put_meta(&self, n: u64, meta: &Meta) -> Result<(), StoreError> {
        let json = serde_json::to_vec(meta).map_err(|e| StoreError::Meta(meta.id.clone(), e))?;
        self.snaps.insert(n.to_be_bytes(), json)?;
        Ok(())
    }

    /// Stores the entity lines not stored yet; returns the bytes added.
    pub fn put_blobs(&self, lines: &[(Digest, &[u8])]) -> Result<u64, StoreError> {
        Ok(self.blobs.put(lines)?)
    }

    pub fn blob(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.blobs.get(digest)?)
    }

    /// Lines and nodes an older agent kept in sled itself move to packs
    /// once.
    fn migrate(&self, old: sled::Tree, to: &Packs) -> Result<(), StoreError> {
        if old.is_empty() {
            return Ok(());
        }
        let tree = String::from_utf8_lossy(&old.name()).into_owned();
        tracing::info!(records = old.len(), %tree, "moving snapshot records into pack files");
        let mut chunk: Vec<(Digest, sled::IVec)> = Vec::new();
        let flush = |chunk: &mut Vec<(Digest, sled::IVec)>| -> Result<(), StoreError> {
            let refs: Vec<(Digest, &[u8])> = chunk.iter().map(|(d, l)| (*d, &l[..])).collect();
            to.put(&refs)?;
            chunk.clear();
            Ok(())
        };
        for item in old.iter() {
            let (k, v) = item?;
            if let Ok(d) = Digest::try_from(&k[..]) {
                chunk.push((d, v));
            }
            if chunk.len() == 4096 {
                flush(&mut chunk)?;
            }
        }
        flush(&mut chunk)?;
        self.durable()?;
        old.clear()?;
        self.durable()
    }

    /// The lines of both sides of `changes`, read together in file order
    /// (see [`Packs::get_many`]). Callers pass a bounded chunk.
    pub fn lines_of<'a>(
        &self,
        changes: impl Iterator<Item = &'a index::Change>,
    ) -> Result<std::collections::HashMap<Digest, Vec<u8>>, StoreError> {
        let mut digests: Vec<Digest> = changes.flat_map(|c| [c.old, c.new]).flatten().collect();
        digests.sort_unstable();
        digests.dedup();
        Ok(self.blobs.get_many(&digests)?)
    }

    /// Lines for these digests, read together in file order.
    pub fn lines(
        &self,
        digests: &[Digest],
    ) -> Result<std::collections::HashMap<Digest, Vec<u8>>, StoreError> {
        Ok(self.blobs.get_many(digests)?)
    }

    /// Every snapshot, oldest first.
    pub fn list(&self) -> Result<Vec<Meta>, StoreError> {
        self.snaps
            .iter()
            .values()
            .map(|v| {
                let v = v?;
                serde_json::from_slice(&v).map_err(|e| StoreError::Meta("?".into(), e))
            })
            .collect()
    }

    /// Drops the metas of `ids`; their space returns at the next sweep.
    pub fn remove(&self, ids: &[String]) -> Result<(), StoreError> {
        for id in ids {
            if let Some(n) = number(id) {
                self.snaps.remove(n.to_be_bytes())?;
            }
        }
        Ok(())
    }

    /// Deletes every node and blob no remaining snapshot reaches; returns
    /// (nodes, blobs) deleted. Callers hold the snapshot lock: a snapshot
    /// being taken has nodes no meta reaches yet.
    pub fn sweep(&self) -> Result<(u64, u64), StoreError> {
        let (mut seen, mut live) = (HashSet::new(), HashSet::new());
        for meta in self.list()? {
            for root in [meta.root(), meta.owners_root()].into_iter().flatten() {
                index::mark(self, &root, &mut seen, &mut live)?;
            }
        }
        let (nodes, mut unused) = self.nodes.sweep(&seen)?;
        let (blobs, unused_blobs) = self.blobs.sweep(&live)?;
        unused.extend(unused_blobs);
        self.durable()?;
        // Only once the index no longer points into them.
        for path in unused {
            std::fs::remove_file(&path).map_err(|source| StoreError::Sync { path, source })?;
        }
        Ok((nodes, blobs))
    }

    /// The next rollback number (one past the newest).
    pub fn next_rollback(&self) -> Result<u64, StoreError> {
        let newest = self
            .rollbacks
            .last()?
            .and_then(|(k, _)| <[u8; 8]>::try_from(&k[..]).ok());
        Ok(newest.map_or(0, u64::from_be_bytes) + 1)
    }

    /// Records rollback `n` (its JSON, see [`super::rollback`]) durably: a
    /// rollback's record must outlive a crash in the middle of applying it.
    pub fn put_rollback(&self, n: u64, json: &[u8]) -> Result<(), StoreError> {
        self.rollbacks.insert(n.to_be_bytes(), json)?;
        self.durable()
    }

    pub fn rollback(&self, n: u64) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.rollbacks.get(n.to_be_bytes())?)
    }

    /// Every rollback record, oldest first.
    pub fn rollbacks(&self) -> Result<Vec<sled::IVec>, StoreError> {
        self.rollbacks
            .iter()
            .values()
            .map(|v| v.map_err(StoreError::from))
            .collect()
    }

    /// Entity lines stored, across all snapshots.
    pub fn blob_count(&self) -> usize {
        self.blobs.count()
    }

    /// Bytes sled and the packs occupy on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0) + self.blobs.size_on_disk() + self.nodes.size_on_disk()
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blobs.contains(digest)
    }
}

fn db_tree(db: &sled::Db, name: &str) -> Result<sled::Tree, StoreError> {
    Ok(db.open_tree(name)?)
}

fn parse_digest(hex: &str) -> Option<Digest> {
    hex::decode(hex).ok()?.try_into().ok()
}

fn number(id: &str) -> Option<u64> {
    id.strip_prefix("s-")?.parse().ok()
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
