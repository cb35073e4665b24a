//! Dead letters: reports the collector will not take, moved out of the
//! spool so the reports behind them flow on, and kept (in sled, beside the
//! spool, across restarts) for an operator to look at.
//!
//! Keyed by sequence number like the spool: the sender drains in order, so
//! the lowest key is also the oldest dead letter, the one dropped first
//! when the tree is full.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::AgentError;

/// One report the collector would not take, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub seq: u64,
    /// Unix milliseconds.
    pub dead_at_ms: u64,
    /// Attempts made to deliver it.
    pub attempts: u32,
    /// The last HTTP status, if the collector answered at all.
    pub status: Option<u16>,
    /// The last error, in words: the collector's own message when it gave
    /// one.
    pub error: String,
    /// The report as it was sent (JSON).
    pub body: String,
}

/// The `dead` tree and its bound.
pub struct DeadLetters {
    tree: sled::Tree,
    max: u64,
    len: AtomicU64,
    dropped: AtomicU64,
}

/// Why a stored dead letter cannot be read back (a newer agent's format,
/// a damaged tree).
fn corrupt(key: &[u8], e: serde_json::Error) -> AgentError {
    AgentError::DeadLetter(format!("dead letter {key:?} is unreadable: {e}"))
}

impl DeadLetters {
    pub(super) fn new(tree: sled::Tree, max: u64) -> Self {
        let len = AtomicU64::new(tree.len() as u64);
        Self {
            tree,
            max: max.max(1),
            len,
            dropped: AtomicU64::new(0),
        }
    }

    pub(super) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// Called after a dead letter was inserted under a new key: counts it
    /// and drops the oldest beyond the bound.
    pub(super) fn inserted(&self) -> Result<(), AgentError> {
        self.len.fetch_add(1, Ordering::Relaxed);
        while self.len.load(Ordering::Relaxed) > self.max {
            if self.tree.pop_min()?.is_none() {
                break;
            }
            self.len.fetch_sub(1, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dead letters dropped from a full tree since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Every dead letter, oldest first.
    pub fn list(&self) -> Result<Vec<DeadLetter>, AgentError> {
        self.tree
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                serde_json::from_slice(&v).map_err(|e| corrupt(&k, e))
            })
            .collect()
    }

    /// The newest dead letter.
    pub fn newest(&self) -> Result<Option<DeadLetter>, AgentError> {
        match self.tree.last()? {
            Some((k, v)) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| corrupt(&k, e)),
            None => Ok(None),
        }
    }
}
