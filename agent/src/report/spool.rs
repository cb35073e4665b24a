//! The report spool: every report is written here before it is sent.
//!
//! Sending always drains the spool oldest-first, so a collector outage only
//! makes the spool longer; when the collector returns, the backlog replays in
//! sequence order and the collector de-duplicates by (agent, seq). The spool
//! is bounded: past `max_reports` the oldest report is dropped and counted.
//!
//! The spool also holds the agent's identity and sequence epoch, so that
//! sequence numbers keep increasing across restarts even after a crash, and
//! the dead letters ([`super::dead`]): reports the collector will not take,
//! moved aside so they cannot block the spool.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use liveops_config::SpoolConfig;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::{IVec, Transactional};

use super::dead::{DeadLetter, DeadLetters};
use crate::AgentError;

pub struct Spool {
    db: sled::Db,
    reports: sled::Tree,
    dead: DeadLetters,
    max_reports: u64,
    len: AtomicU64,
    dropped: AtomicU64,
    /// Sequence numbers are `epoch << 32 | counter`: the epoch is bumped and
    /// flushed to disk at every start, so a crash that loses the last few
    /// writes can never make a sequence number repeat.
    epoch: u64,
    counter: AtomicU64,
    agent_id: String,
}

const AGENT_ID: &[u8] = b"agent_id";
const EPOCH: &[u8] = b"epoch";

impl Spool {
    pub fn open(dir: &Path, limits: &SpoolConfig, world: &str) -> Result<Spool, AgentError> {
        std::fs::create_dir_all(dir).map_err(|source| AgentError::DataDir {
            path: dir.to_owned(),
            source,
        })?;
        let db = sled::Config::new()
            .path(dir.join("spool"))
            .flush_every_ms(Some(200))
            .open()?;
        let reports = db.open_tree("reports")?;
        let dead = DeadLetters::new(db.open_tree("dead")?, limits.max_dead_letters);
        let meta = db.open_tree("meta")?;
        let agent_id = match meta.get(AGENT_ID)? {
            Some(id) => String::from_utf8_lossy(&id).into_owned(),
            None => {
                let id = format!("{world}-{:016x}", rand_u64());
                meta.insert(AGENT_ID, id.as_bytes())?;
                id
            }
        };
        let epoch = meta
            .update_and_fetch(EPOCH, |old| {
                let n = old
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .and_then(|b| b.as_ref().try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1);
        db.flush()?;
        let len = reports.len() as u64;
        Ok(Spool {
            db,
            reports,
            dead,
            max_reports: limits.max_reports,
            len: AtomicU64::new(len),
            dropped: AtomicU64::new(0),
            epoch,
            counter: AtomicU64::new(0),
            agent_id,
        })
    }

    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// The agent's sled db, for other state kept beside the spool (flags).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    pub fn next_seq(&self) -> u64 {
        (self.epoch << 32) | (self.counter.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Appends a report; drops the oldest ones beyond the bound.
    pub fn push(&self, seq: u64, body: &[u8]) -> Result<(), AgentError> {
        if self.reports.insert(seq.to_be_bytes(), body)?.is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
        while self.len.load(Ordering::Relaxed) > self.max_reports {
            if self.reports.pop_min()?.is_none() {
                break;
            }
            self.len.fetch_sub(1, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The oldest report not yet acknowledged.
    pub fn first(&self) -> Result<Option<(u64, IVec)>, AgentError> {
        Ok(self.reports.first()?.and_then(|(k, v)| {
            let seq = u64::from_be_bytes(k.as_ref().try_into().ok()?);
            Some((seq, v))
        }))
    }

    pub fn remove(&self, seq: u64) -> Result<(), AgentError> {
        if self.reports.remove(seq.to_be_bytes())?.is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Moves the spooled report `seq` to the dead letters, in one sled
    /// transaction (a crash leaves it in one tree or the other, never
    /// both or neither). `None` if it is no longer spooled.
    pub fn dead_letter(
        &self,
        seq: u64,
        attempts: u32,
        status: Option<u16>,
        error: &str,
    ) -> Result<Option<DeadLetter>, AgentError> {
        let key = seq.to_be_bytes();
        let moved = (&self.reports, self.dead.tree()).transaction(|(reports, dead)| {
            let Some(body) = reports.remove(&key)? else {
                return Ok(None);
            };
            let letter = DeadLetter {
                seq,
                dead_at_ms: liveops_protocol::time::now_ms(),
                attempts,
                status,
                error: error.to_owned(),
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            let stored = serde_json::to_vec(&letter)
                .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
            let fresh = dead.insert(&key, stored)?.is_none();
            Ok(Some((letter, fresh)))
        });
        let moved = moved.map_err(|e| match e {
            TransactionError::Abort(why) => AgentError::DeadLetter(why),
            TransactionError::Storage(e) => AgentError::Spool(e),
        })?;
        let Some((letter, fresh)) = moved else {
            return Ok(None);
        };
        self.len.fetch_sub(1, Ordering::Relaxed);
        if fresh {
            self.dead.inserted()?;
        }
        Ok(Some(letter))
    }

    /// Reports the collector would not take.
    pub fn dead(&self) -> &DeadLetters {
        &self.dead
    }

    pub fn len(&self) -> u64 {
        self.len.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reports dropped from a full spool since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn flush(&self) -> Result<(), AgentError> {
        self.db.flush()?;
        Ok(())
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; enough for an identity suffix.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

#[cfg(test)]
#[path = "spool_tests.rs"]
mod tests;
