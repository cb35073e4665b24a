//! What the collector keeps on disk (sled), so alert state and SLO history
//! survive a restart.
//!
//! - the journal ([`crate::journal`], files beside sled's): one compact
//!   entry per accepted report (its SLO samples and sequence number), on
//!   disk before the report is acknowledged.
//! - `state`: a checkpoint of agents' sequence numbers and live worlds,
//!   with the SLO series chunks changed since the last one
//!   ([`crate::slo::persist`]), taken every few seconds and at shutdown;
//!   journal entries up to the checkpoint are then deleted.
//! - the alert book, written whenever an alert fires or resolves.
//!
//! At start the checkpoint is loaded and the journal replayed over it. A
//! report is acknowledged only once its journal entry is flushed, so a
//! crash loses nothing the agents have let go of.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Serialize, de::DeserializeOwned};

use crate::CollectorError;
use crate::journal::Journal;
use crate::slo::persist::StoreOp;

pub struct Store {
    db: sled::Db,
    journal: std::sync::Arc<Journal>,
    /// Entries read at open, until the restore takes them.
    recovered: std::sync::Mutex<Vec<crate::journal::Entry>>,
    /// Where the journal was kept before it had files of its own: read at
    /// open, emptied by the first checkpoint.
    legacy_journal: sled::Tree,
    state: sled::Tree,
    next_journal: AtomicU64,
    /// Journal position known to be on disk.
    flushed: tokio::sync::watch::Sender<u64>,
    /// Held by the one request flushing on behalf of all that wait.
    flushing: tokio::sync::Mutex<()>,
}

pub const CHECKPOINT: &[u8] = b"checkpoint";
pub const ALERTS: &[u8] = b"alerts";
/// How long a flush waits for more journal entries to join it.
const GATHER: std::time::Duration = std::time::Duration::from_millis(3);
/// sled's page cache. Its default (1 GiB) is far more than the state
/// needs (checkpoint chunks, pages, the audit log's recent entries), and
/// a cache that fills towards it reads as a leak: resident memory grew
/// by ~50 MiB over a 15-minute soak at 1,000 agents.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// The highest journal position ever truncated.
const JOURNAL_FLOOR: &[u8] = b"journal_floor";

/// An entry of the state tree, as written.
pub type KeyValue = (Vec<u8>, Vec<u8>);

impl Store {
    pub fn open(dir: &Path) -> Result<Store, CollectorError> {
        std::fs::create_dir_all(dir).map_err(|source| CollectorError::DataDir {
            path: dir.to_owned(),
            source,
        })?;
        let db = sled::Config::new()
            .path(dir.join("state"))
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(Some(200))
            .open()?;
        let legacy_journal = db.open_tree("journal")?;
        let state = db.open_tree("state")?;
        let (journal, mut recovered) =
            Journal::open(&dir.join("journal")).map_err(|source| CollectorError::DataDir {
                path: dir.join("journal"),
                source,
            })?;
        for item in legacy_journal.iter() {
            let (k, v) = item?;
            if let Ok(key) = <[u8; 8]>::try_from(k.as_ref()) {
                recovered.push((u64::from_be_bytes(key), v.to_vec()));
            }
        }
        recovered.sort_by_key(|(p, _)| *p);
        let last_key = recovered.last().map(|(p, _)| *p);
        // A truncated journal is empty, but its positions must go on above
        // the checkpoint's, or entries written after a restart would sort
        // below it and be skipped when replaying after a crash.
        let floor = state
            .get(JOURNAL_FLOOR)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map(u64::from_be_bytes);
        let next = last_key.max(floor).unwrap_or(0) + 1;
        Ok(Store {
            db,
            journal: std::sync::Arc::new(journal),
            recovered: std::sync::Mutex::new(recovered),
            legacy_journal,
            state,
            next_journal: AtomicU64::new(next),
            flushed: tokio::sync::watch::channel(next - 1).0,
            flushing: tokio::sync::Mutex::new(()),
        })
    }

    /// Appends a journal entry, serialised (JSON) by the caller before it
    /// takes the state lock; returns its position.
    pub fn journal_bytes(&self, entry: Vec<u8>) -> Result<u64, CollectorError> {
        let pos = self.next_journal.fetch_add(1, Ordering::Relaxed);
        self.journal.append(pos, &entry);
        Ok(pos)
    }

    /// Journal entries found at open after `pos`, in order (once: the
    /// restore takes them). Entries that no longer decode (written by
    /// another version) are skipped with a warning.
    pub fn journal_after<T: DeserializeOwned>(
        &self,
        pos: u64,
    ) -> Result<Vec<(u64, T)>, CollectorError> {
        let recovered =
            std::mem::take(&mut *self.recovered.lock().unwrap_or_else(|p| p.into_inner()));
        let mut out = Vec::new();
        for (key, v) in recovered.into_iter().filter(|(k, _)| *k > pos) {
            match serde_json::from_slice(&v) {
                Ok(e) => out.push((key, e)),
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable journal entry"),
            }
        }
        Ok(out)
    }

    /// The position of the last journal entry written.
    pub fn journal_position(&self) -> u64 {
        self.next_journal.load(Ordering::Relaxed) - 1
    }

    /// Deletes journal entries up to and including `pos`, once a flushed
    /// checkpoint ([`Store::put_checkpoint`]) has recorded `pos` as the floor.
    pub fn truncate_journal(&self, pos: u64) -> Result<(), CollectorError> {
        for item in self.legacy_journal.range(..=pos.to_be_bytes()) {
            let (k, _) = item?;
            self.legacy_journal.remove(k)?;
        }
        self.journal
            .truncate(pos)
            .map_err(|e| CollectorError::Journal(e.to_string()))
    }

    /// A tree of its own for a subsystem (`pages`, `silences`).
    pub fn tree(&self, name: &str) -> Result<sled::Tree, CollectorError> {
        Ok(self.db.open_tree(name)?)
    }

    pub fn put<T: Serialize>(&self, key: &[u8], value: &T) -> Result<(), CollectorError> {
        self.state.insert(key, serde_json::to_vec(value)?)?;
        Ok(())
    }

    /// Puts `key` and removes `gone` in one batch: after a crash, both or
    /// neither.
    pub fn put_removing<T: Serialize>(
        &self,
        key: &[u8],
        value: &T,
        gone: &[u8],
    ) -> Result<(), CollectorError> {
        let mut batch = sled::Batch::default();
        batch.insert(key, serde_json::to_vec(value)?);
        batch.remove(gone);
        self.state.apply_batch(batch)?;
        Ok(())
    }

    /// Writes a checkpoint record and the journal floor (the position it
    /// covers) in one batch: after a crash, both or neither. Positions of a
    /// journal truncated later must go on above `floor`, or entries written
    /// after a restart would sort below the checkpoint and be skipped by a
    /// replay.
    pub fn put_checkpoint<T: Serialize>(
        &self,
        key: &[u8],
        value: &T,
        floor: u64,
    ) -> Result<(), CollectorError> {
        let puts = vec![
            (key.to_vec(), serde_json::to_vec(value)?),
            (JOURNAL_FLOOR.to_vec(), floor.to_be_bytes().to_vec()),
        ];
        self.put_series(Vec::new(), puts)
    }

    /// Writes series chunks and the entries `puts` in one batch: after a
    /// crash, all or none. A checkpoint writes one such batch per slice of
    /// worlds, each with the worlds' records of where their series stand.
    pub fn put_series(
        &self,
        chunks: impl IntoIterator<Item = StoreOp>,
        puts: Vec<KeyValue>,
    ) -> Result<(), CollectorError> {
        let mut batch = sled::Batch::default();
        let mut writes = Vec::new();
        // Deletions first: a key deleted and written again in one batch (a
        // world forgotten and back) must end up written.
        for op in chunks {
            match op {
                StoreOp::Delete(from, to) => {
                    for item in self.state.range(from..to) {
                        batch.remove(item?.0);
                    }
                }
                StoreOp::Put(k, v) => writes.push((k, v)),
            }
        }
        for (k, v) in writes {
            batch.insert(k, &v[..]);
        }
        for (k, v) in puts {
            batch.insert(k, v);
        }
        self.state.apply_batch(batch)?;
        Ok(())
    }

    /// The state entries whose keys start with `prefix`, in key order.
    pub fn scan(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, sled::IVec), CollectorError>> + '_ {
        self.state
            .scan_prefix(prefix)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v)).map_err(Into::into))
    }

    /// Removes state entries.
    pub fn remove(&self, keys: Vec<Vec<u8>>) -> Result<(), CollectorError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        keys.into_iter().for_each(|k| batch.remove(k));
        self.state.apply_batch(batch)?;
        Ok(())
    }

    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, CollectorError> {
        match self.state.get(key)? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Waits until the journal entry at `pos` is on disk. Reports are
    /// acknowledged only after this, because the agent deletes a report once
    /// acknowledged: a collector killed right after an ack must still have
    /// it. This is a group commit: one request at a time flushes, covering
    /// every entry written before it began, and the others wait for the
    /// flush that covers theirs, so a thousand reports a second cost a few
    /// hundred fsyncs at most, not a thousand.
    pub async fn durable(&self, pos: u64) -> Result<(), CollectorError> {
        // Subscribe before looking, so a flush finishing in between is seen.
        let mut flushed = self.flushed.subscribe();
        loop {
            if *flushed.borrow_and_update() >= pos {
                return Ok(());
            }
            if let Ok(_turn) = self.flushing.try_lock() {
                // Let the reports arriving in the next moment join this
                // flush: at a thousand agents a second that turns most
                // fsyncs into one, for a few milliseconds of latency.
                tokio::time::sleep(GATHER).await;
                let result = self.flush_journal().await;
                // Wake the waiters even on failure: one of them retries.
                self.flushed.send_modify(|f| {
                    if let Ok(upto) = result {
                        *f = (*f).max(upto);
                    }
                });
                result?;
                continue;
            }
            // Someone else is flushing; theirs may or may not cover `pos`.
            if flushed.changed().await.is_err() {
                return Ok(());
            }
        }
    }

    /// Writes and syncs the journal on a blocking thread; the position it
    /// covers.
    async fn flush_journal(&self) -> Result<u64, CollectorError> {
        let journal = self.journal.clone();
        tokio::task::spawn_blocking(move || journal.flush())
            .await
            .map_err(|e| CollectorError::Journal(e.to_string()))?
            .map_err(|e| CollectorError::Journal(e.to_string()))
    }

    /// Flushes sled's trees (checkpoint, alerts, audit), from a blocking
    /// thread. Report acknowledgements do not wait for it: the journal is
    /// synced on its own.
    pub fn flush(&self) -> Result<(), CollectorError> {
        self.db.flush()?;
        Ok(())
    }
}
