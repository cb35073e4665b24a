//! What the collector keeps on disk (sled), so alert state and SLO history
//! survive a restart.
//!
//! - `journal`: one compact entry per accepted report (its SLO samples and
//!   sequence number), written before the report is acknowledged.
//! - `state`: a checkpoint of the SLO engine, agents' sequence numbers and
//!   live worlds, taken every few seconds and at shutdown; journal entries
//!   up to the checkpoint are then deleted.
//! - the alert book, written whenever an alert fires or resolves.
//!
//! At start the checkpoint is loaded and the journal replayed over it. A
//! report is acknowledged only once its journal entry is flushed, so a
//! crash loses nothing the agents have let go of.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Serialize, de::DeserializeOwned};

use crate::CollectorError;

pub struct Store {
    db: sled::Db,
    journal: sled::Tree,
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
/// The highest journal position ever truncated.
const JOURNAL_FLOOR: &[u8] = b"journal_floor";

impl Store {
    pub fn open(dir: &Path) -> Result<Store, CollectorError> {
        std::fs::create_dir_all(dir).map_err(|source| CollectorError::DataDir {
            path: dir.to_owned(),
            source,
        })?;
        let db = sled::Config::new()
            .path(dir.join("state"))
            .flush_every_ms(Some(200))
            .open()?;
        let journal = db.open_tree("journal")?;
        let state = db.open_tree("state")?;
        let last_key = journal
            .last()?
            .and_then(|(k, _)| k.as_ref().try_into().ok())
            .map(u64::from_be_bytes);
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
            journal,
            state,
            next_journal: AtomicU64::new(next),
            flushed: tokio::sync::watch::channel(next - 1).0,
            flushing: tokio::sync::Mutex::new(()),
        })
    }

    /// Appends a journal entry; returns its position.
    pub fn journal<T: Serialize>(&self, entry: &T) -> Result<u64, CollectorError> {
        self.journal_bytes(serde_json::to_vec(entry)?)
    }

    /// Appends an entry already serialised (as JSON, as [`Store::journal`]
    /// writes it): a caller that holds a lock serialises before taking it.
    pub fn journal_bytes(&self, entry: Vec<u8>) -> Result<u64, CollectorError> {
        let pos = self.next_journal.fetch_add(1, Ordering::Relaxed);
        self.journal.insert(pos.to_be_bytes(), entry)?;
        Ok(pos)
    }

    /// Journal entries after `pos`, in order. Entries that no longer decode
    /// (written by another version) are skipped with a warning.
    pub fn journal_after<T: DeserializeOwned>(
        &self,
        pos: u64,
    ) -> Result<Vec<(u64, T)>, CollectorError> {
        let mut out = Vec::new();
        for item in self.journal.range((pos + 1).to_be_bytes()..) {
            let (k, v) = item?;
            let Ok(key) = <[u8; 8]>::try_from(k.as_ref()) else {
                continue;
            };
            match serde_json::from_slice(&v) {
                Ok(e) => out.push((u64::from_be_bytes(key), e)),
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable journal entry"),
            }
        }
        Ok(out)
    }

    /// The position of the last journal entry written.
    pub fn journal_position(&self) -> u64 {
        self.next_journal.load(Ordering::Relaxed) - 1
    }

    /// Deletes journal entries up to and including `pos`.
    pub fn truncate_journal(&self, pos: u64) -> Result<(), CollectorError> {
        self.state.insert(JOURNAL_FLOOR, &pos.to_be_bytes())?;
        for item in self.journal.range(..=pos.to_be_bytes()) {
            let (k, _) = item?;
            self.journal.remove(k)?;
        }
        Ok(())
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
                let upto = self.journal_position();
                let result = self.journal.flush_async().await;
                // Wake the waiters even on failure: one of them retries.
                self.flushed.send_modify(|f| {
                    if result.is_ok() {
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

    /// Flushes everything, from a blocking thread (the checkpoint). It
    /// takes the same turn as the report flushes: a checkpoint flush racing
    /// a journal flush once left sled's writers waiting on each other.
    pub fn flush(&self) -> Result<(), CollectorError> {
        let _turn = self.flushing.blocking_lock();
        self.db.flush()?;
        Ok(())
    }
}
