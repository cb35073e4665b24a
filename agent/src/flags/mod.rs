//! Flags: the kill switches and scoped flags of one flag file, hot-reloaded
//! and served to the game over OFREP, with the operator overrides the
//! collector pushes layered on top.
//!
//! The game must never be broken by a flag change: a broken, half-written
//! or missing file is refused and the last good flags stay served (kept in
//! the agent's sled db, so also across restarts); a file never valid since
//! the first start serves each flag's `fail_safe` value.
//!
//! - [`state`]: the pure core: which flags are served and why, reload records.
//! - [`changes`]: one-line summaries of what a reload changed.
//! - [`store`]: the last good file and the overrides in sled.
//! - [`watch`]: watching the file's directory (and a symlink target's),
//!   debounce, fallback poll.
//! - [`overrides`]: the collector's override stream; expiry wake-ups.
//! - [`ofrep`] (and `context`), [`routes`]: the HTTP endpoints (events
//!   framed and parsed with `liveops_protocol::sse`).

pub mod changes;
mod context;
pub mod ofrep;
pub mod overrides;
pub mod routes;
pub mod state;
pub mod store;
pub mod watch;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use axum::body::Bytes;
use axum::http::HeaderValue;
use liveops_config::FlagsConfig;
use liveops_flags::{OverrideSet, Snapshot};
use liveops_protocol::FlagReload;
use serde::Serialize;
use tokio::sync::watch as tokio_watch;

use crate::report::now_ms;
use crate::telemetry::FlagMetrics;
use state::{FileState, FlagState, Read};
use store::Store;

/// Reload records held for the next report; the reporter drains them every
/// interval, so this only bounds a pathological save loop.
const MAX_PENDING_RELOADS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    #[error("flag store: {0}")]
    Store(#[from] sled::Error),
    #[error("flag store: cannot encode: {0}")]
    Encode(#[from] serde_json::Error),
}

/// One served snapshot with its precomputed wire forms, swapped whole.
pub struct Published {
    pub snapshot: Snapshot,
    /// The `SnapshotDoc` as JSON, for `GET /liveops/v1/flags`.
    pub json: Bytes,
    /// `"<version>"`.
    pub etag: HeaderValue,
}

/// The agent's flags, shared by the HTTP handlers, the watcher, the
/// override subscription and the reporter.
pub struct Flags {
    world: String,
    file: Option<PathBuf>,
    /// Larger files are refused unread (`[flags] max_file_bytes`).
    max_file_bytes: u64,
    published: ArcSwap<Published>,
    /// Never held across an await.
    state: Mutex<FlagState>,
    store: Store,
    version_tx: tokio_watch::Sender<Arc<str>>,
    reloads: Mutex<VecDeque<FlagReload>>,
    metrics: FlagMetrics,
    stream_connected: AtomicBool,
}

/// The `flags` section of `/healthz`.
#[derive(Debug, Serialize)]
pub struct FlagsStatus {
    pub state: FileState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// SHA-256 of the flag file served (the last good one while the file
    /// on disk is broken).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub version: String,
    pub flags: usize,
    /// Why the file on disk is not served (`file:line:col: …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When a file was last applied, Unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reload_ms: Option<u64>,
    pub overrides: usize,
    pub override_stream_connected: bool,
}

impl Flags {
    /// Restores the last good flags and overrides from `db` and serves
    /// them; the file itself is read by [`Flags::reload_from_disk`].
    pub fn open(
        world: &str,
        cfg: &FlagsConfig,
        db: &sled::Db,
        metrics: FlagMetrics,
    ) -> Result<Arc<Flags>, FlagsError> {
        let store = Store::open(db)?;
        let file_name = cfg.file.as_ref().map(|p| p.display().to_string());
        let state = FlagState::new(file_name, store.last_good(), store.overrides());
        let published = publish(&state);
        let (version_tx, _) = tokio_watch::channel(version_of(&published));
        let flags = Flags {
            world: world.to_owned(),
            file: cfg.file.clone(),
            max_file_bytes: cfg.max_file_bytes,
            published: ArcSwap::from_pointee(published),
            state: Mutex::new(state),
            store,
            version_tx,
            reloads: Mutex::new(VecDeque::new()),
            metrics,
            stream_connected: AtomicBool::new(false),
        };
        flags.update_metrics(&flags.lock());
        Ok(Arc::new(flags))
    }

    pub fn world(&self) -> &str {
        &self.world
    }

    pub fn file(&self) -> Option<&PathBuf> {
        self.file.as_ref()
    }

    /// The snapshot being served; lock-free.
    pub fn current(&self) -> arc_swap::Guard<Arc<Published>> {
        self.published.load()
    }

    /// The served version, changing whenever any answer may have.
    pub fn subscribe(&self) -> tokio_watch::Receiver<Arc<str>> {
        self.version_tx.subscribe()
    }

    /// Reads the file and applies or refuses it. Blocking (file and sled
    /// I/O): run it off the async workers. Only a regular file within
    /// `max_file_bytes` is read (see `liveops_watch::read_regular`); anything else is a
    /// refused reload.
    pub fn reload_from_disk(&self) {
        let Some(path) = &self.file else { return };
        let read = match liveops_watch::read_regular(path, self.max_file_bytes) {
            Ok(bytes) => Read::Bytes(bytes),
            Err(e @ liveops_watch::ReadError::TooLarge { .. }) => {
                Read::Failed(format!("{e} ([flags] max_file_bytes)"))
            }
            Err(e) => Read::Failed(e.to_string()),
        };
        self.apply(read);
    }

    /// Refuses the file for a reason found without reading it (a read
    /// that does not return), so `/healthz` says so meanwhile.
    pub fn refuse(&self, why: String) {
        if self.file.is_some() {
            self.apply(Read::Failed(why));
        }
    }

    fn apply(&self, read: Read) {
        let mut state = self.lock();
        let Some(record) = state.load(read, now_ms()) else {
            return;
        };
        if record.applied {
            self.metrics.reloads_applied.increment(1);
            self.metrics.last_reload.set(record.at_ms as f64 / 1000.0);
            tracing::info!(file = %record.file, sha256 = %record.sha256, changes = record.changes.len(), "flag file applied");
            if let Some(good) = state.good()
                && let Err(e) = self.store.save_good(good)
            {
                tracing::error!(error = %e, "cannot persist the last good flag file");
            }
        } else {
            self.metrics.reloads_rejected.increment(1);
            let serving = match state.state() {
                FileState::FailSafe => "serving fail-safe values (no valid file yet)",
                _ => "still serving the last good flags",
            };
            tracing::error!(file = %record.file, error = %record.error.as_deref().unwrap_or(""), "flag file refused; {serving}");
        }
        for c in &record.changes {
            tracing::info!(flag = %c.flag, before = ?c.before, after = ?c.after, "flag changed");
        }
        self.republish(&state);
        drop(state);
        let mut pending = self.reloads.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() >= MAX_PENDING_RELOADS {
            pending.pop_front();
        }
        pending.push_back(record);
    }

    /// Replaces the operator overrides with the collector's whole set.
    /// Blocking (sled): run it off the async workers.
    pub fn set_overrides(&self, set: OverrideSet) {
        let mut state = self.lock();
        let (version, count) = (set.version, set.overrides.len());
        if !state.set_overrides(set) {
            return;
        }
        if let Err(e) = self.store.save_overrides(state.overrides()) {
            tracing::error!(error = %e, "cannot persist the operator overrides");
        }
        tracing::info!(version, overrides = count, "operator overrides applied");
        self.republish(&state);
    }

    /// Re-serves the same flags when time alone changed an answer (an
    /// override or rule expired).
    pub fn refresh(&self) {
        let state = self.lock();
        self.republish(&state);
    }

    pub fn next_expiry(&self, now: SystemTime) -> Option<SystemTime> {
        self.lock().next_expiry(now)
    }

    /// Reload records since the last call, oldest first, for the report.
    pub fn take_reloads(&self) -> Vec<FlagReload> {
        let mut pending = self.reloads.lock().unwrap_or_else(|p| p.into_inner());
        pending.drain(..).collect()
    }

    pub fn set_stream_connected(&self, up: bool) {
        self.stream_connected.store(up, Ordering::Relaxed);
        self.metrics.override_stream.set(if up { 1.0 } else { 0.0 });
    }

    pub fn status(&self) -> FlagsStatus {
        let state = self.lock();
        let current = self.current();
        FlagsStatus {
            state: state.state(),
            file: self.file.as_ref().map(|p| p.display().to_string()),
            sha256: state.served_sha256().map(str::to_owned),
            version: current.snapshot.version().to_owned(),
            flags: current.snapshot.flags().len(),
            last_error: state.error().map(str::to_owned),
            last_reload_ms: state.applied_ms(),
            overrides: state.overrides().overrides.len(),
            override_stream_connected: self.stream_connected.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FlagState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Swaps in the snapshot of `state` if its version is new, and tells
    /// the change subscribers. Called with the state locked, so snapshots
    /// are published in the order the state changed.
    fn republish(&self, state: &FlagState) {
        self.update_metrics(state);
        let next = publish(state);
        if next.snapshot.version() == self.current().snapshot.version() {
            return;
        }
        let version = version_of(&next);
        self.published.store(Arc::new(next));
        self.version_tx.send_replace(version);
    }

    fn update_metrics(&self, state: &FlagState) {
        let valid = matches!(state.state(), FileState::Ok);
        self.metrics.file_valid.set(if valid { 1.0 } else { 0.0 });
        let now = SystemTime::now();
        let active = state
            .overrides()
            .overrides
            .iter()
            .filter(|o| o.active(now))
            .count();
        self.metrics.overrides.set(active as f64);
    }
}

fn publish(state: &FlagState) -> Published {
    let doc = state.doc(SystemTime::now());
    let json = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
    // Versions are hex digests, always a valid header value.
    let etag = HeaderValue::from_str(&format!("\"{}\"", doc.version))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    Published {
        snapshot: Snapshot::new(doc),
        json,
        etag,
    }
}

fn version_of(p: &Published) -> Arc<str> {
    Arc::from(p.snapshot.version())
}
