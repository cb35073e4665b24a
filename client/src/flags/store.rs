//! The one place snapshots live: readers load, the sync thread swaps.
//!
//! Reads go through `ArcSwapOption::load`, which neither locks nor makes a
//! syscall, so any number of game threads read while a new snapshot is
//! swapped in. The mutexes here are for the rare callers that wait for the
//! first snapshot or ask for the status, never for a read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use liveops_flags::Snapshot;

#[derive(Default)]
pub(crate) struct Store {
    pub(crate) snapshot: ArcSwapOption<Snapshot>,
    connected: AtomicBool,
    progress: Mutex<Progress>,
    loaded: Condvar,
}

#[derive(Default)]
struct Progress {
    snapshots: u64,
    last_error: Option<String>,
}

impl Store {
    /// A store that already serves `snapshot` (an offline client).
    pub(crate) fn with(snapshot: Snapshot) -> Self {
        let store = Store::default();
        store.publish(snapshot);
        store
    }

    pub(crate) fn publish(&self, snapshot: Snapshot) {
        self.snapshot.store(Some(Arc::new(snapshot)));
        self.progress().snapshots += 1;
        self.loaded.notify_all();
    }

    pub(crate) fn set_connected(&self, up: bool) {
        self.connected.store(up, Ordering::Relaxed);
    }

    pub(crate) fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub(crate) fn failed(&self, error: String) {
        self.progress().last_error = Some(error);
    }

    /// (snapshots published, the last sync error).
    pub(crate) fn progress_now(&self) -> (u64, Option<String>) {
        let p = self.progress();
        (p.snapshots, p.last_error.clone())
    }

    /// Waits until at least one snapshot is in; false on timeout.
    pub(crate) fn wait_loaded(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut p = self.progress();
        while p.snapshots == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            p = self
                .loaded
                .wait_timeout(p, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        // The guarded data is two counters: a panic elsewhere leaves them
        // consistent, so a poisoned lock is still good to use.
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
