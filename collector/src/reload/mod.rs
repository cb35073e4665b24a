//! Hot reload of the on-call schedule (`oncall.toml`) and the paging
//! policy (`paging.toml`), as the agent reloads its flag file and through
//! the same watcher (`liveops-watch`: the directory watched, saves
//! debounced, only a regular file within [`MAX_FILE_BYTES`] read, a FIFO
//! never waited on).
//!
//! A good file is swapped in whole: the `/oncall` pages, the pager's
//! roster and its policy use it from the next request or decision on. A
//! bad one is refused with every error at its `file:line:col`; the last
//! good one stays in force, and `/healthz` and
//! `liveops_collector_config_*` say so until the file is fixed. Either
//! way the outcome is logged. A schedule that moves people's future
//! shifts tells them which (`crate::paging::notice`).
//!
//! - `apply.rs`: reading, checking and swapping in one file.

mod apply;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::state::Shared;

/// Larger files are refused unread: a schedule or policy is a few KB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Files are read this often even without an event (filesystems whose
/// events do not arrive); unchanged bytes are skipped by hash.
const POLL_EVERY: Duration = Duration::from_secs(10);

/// A hot-reloaded file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Which {
    Oncall,
    Paging,
}

impl Which {
    /// The `file` label and the `/healthz` key.
    pub fn as_str(self) -> &'static str {
        match self {
            Which::Oncall => "oncall",
            Which::Paging => "paging",
        }
    }
}

/// How one file's reloads went, for `/healthz`.
#[derive(Clone, Debug, Serialize)]
pub struct FileStatus {
    pub file: String,
    /// `valid`: the file on disk is in force; `refused`: it is not, the
    /// last good one is.
    pub state: &'static str,
    /// SHA-256 of the file in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why the file on disk is not in force (`file:line:col: …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When a file was last applied, Unix milliseconds (`None`: the one
    /// read at start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reload_ms: Option<u64>,
}

#[derive(Debug)]
struct Slot {
    path: PathBuf,
    /// What is in force: its hash and text (the policy is checked again
    /// against each new schedule).
    sha256: Option<String>,
    text: Option<String>,
    /// The hash of the bytes last read, applied or not: the same bytes
    /// are not parsed (or refused, and logged) again.
    seen: Option<String>,
    last_error: Option<String>,
    last_reload_ms: Option<u64>,
}

/// The watched files of one collector.
#[derive(Debug, Default)]
pub struct ConfigFiles {
    slots: Mutex<BTreeMap<Which, Slot>>,
}

impl ConfigFiles {
    /// Watches `path` from now on; its current bytes are what was loaded
    /// at start (read again here: the loader does not hand them out).
    pub(crate) fn watch(&self, which: Which, path: &Path) {
        let read = liveops_watch::read_regular(path, MAX_FILE_BYTES).ok();
        let sha = read.as_deref().map(apply::sha256);
        let slot = Slot {
            path: path.to_owned(),
            sha256: sha.clone(),
            text: read.and_then(|b| String::from_utf8(b).ok()),
            seen: sha,
            last_error: None,
            last_reload_ms: None,
        };
        self.lock().insert(which, slot);
    }

    /// Every watched file's state, by name.
    pub fn status(&self) -> BTreeMap<&'static str, FileStatus> {
        self.lock()
            .iter()
            .map(|(w, s)| {
                let status = FileStatus {
                    file: s.path.display().to_string(),
                    state: if s.last_error.is_some() {
                        "refused"
                    } else {
                        "valid"
                    },
                    sha256: s.sha256.clone(),
                    last_error: s.last_error.clone(),
                    last_reload_ms: s.last_reload_ms,
                };
                (w.as_str(), status)
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Which, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn path(&self, which: Which) -> Option<PathBuf> {
        self.lock().get(&which).map(|s| s.path.clone())
    }
}

/// Watches every file of [`ConfigFiles`] until `stop`.
pub async fn run(shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let mut watchers = tokio::task::JoinSet::new();
    for which in [Which::Oncall, Which::Paging] {
        let Some(path) = shared.config_files.path(which) else {
            continue;
        };
        shared.metrics.config_watched(which.as_str());
        let target = Arc::new(apply::Watched {
            shared: shared.clone(),
            which,
            path,
        });
        watchers.spawn(liveops_watch::run(target, POLL_EVERY, stop.clone()));
    }
    while watchers.join_next().await.is_some() {}
}
