//! What the agent serves, and why: the last good flag file (or, while no
//! file was ever valid, what could be parsed of it, served at its
//! `fail_safe` values) and the operator overrides, made into a
//! [`SnapshotDoc`].
//!
//! Pure: file contents and override sets go in, reload records and
//! snapshot documents come out. The I/O around it lives in `watch`,
//! `store` and `overrides`.

use std::time::SystemTime;

use liveops_flags::{FlagSet, OverrideSet, SnapshotDoc};
use liveops_protocol::FlagReload;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::changes;

/// A flag file that was valid, as applied (and persisted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Good {
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub set: FlagSet,
}

#[derive(Clone, Debug, PartialEq)]
enum Source {
    /// No flag file configured.
    Nothing,
    /// Serving a valid file: the current one, or the last good one while
    /// the current one is broken.
    Good(Good),
    /// No valid file was ever loaded (here or persisted from an earlier
    /// run): the flags `parse_partial` could read, and why the file failed.
    FailSafe { set: FlagSet, error: String },
}

/// The file's state as `/healthz` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// No flag file configured.
    Disabled,
    /// The file is valid and served.
    Ok,
    /// The file is broken or missing; the last good flags are served.
    Error,
    /// The file was never valid; flags are served at their `fail_safe`.
    FailSafe,
}

/// One look at the file.
#[derive(Debug)]
pub enum Read {
    Bytes(Vec<u8>),
    /// The file could not be read (missing, a dangling symlink, …): why.
    Failed(String),
}

/// What was last looked at, so that re-reading unchanged bytes (the poll,
/// or an event about another file) does nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Hash(String),
    Failed(String),
}

#[derive(Debug)]
pub struct FlagState {
    /// The file as named in errors and reload records.
    file: String,
    source: Source,
    overrides: OverrideSet,
    seen: Option<Seen>,
    /// Why the file on disk is not served, while it is not.
    error: Option<String>,
    /// When a file was last applied, Unix milliseconds.
    applied_ms: Option<u64>,
}

impl FlagState {
    /// `file` is `None` when no flag file is configured; `persisted` is
    /// the last good file of an earlier run, served until the file on disk
    /// proves valid.
    pub fn new(file: Option<String>, persisted: Option<Good>, overrides: OverrideSet) -> Self {
        let source = match (&file, persisted) {
            (None, _) => Source::Nothing,
            (Some(_), Some(good)) => Source::Good(good),
            (Some(f), None) => Source::FailSafe {
                set: FlagSet::default(),
                error: format!("{f}: not loaded yet"),
            },
        };
        Self {
            file: file.unwrap_or_default(),
            source,
            overrides,
            seen: None,
            error: None,
            applied_ms: None,
        }
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn state(&self) -> FileState {
        match (&self.source, &self.error) {
            (Source::Nothing, _) => FileState::Disabled,
            (Source::FailSafe { .. }, _) => FileState::FailSafe,
            (Source::Good(_), None) => FileState::Ok,
            (Source::Good(_), Some(_)) => FileState::Error,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match &self.source {
            Source::FailSafe { error, .. } => Some(error),
            _ => self.error.as_deref(),
        }
    }

    /// The hash of the flags served, when they come from a valid file.
    pub fn served_sha256(&self) -> Option<&str> {
        match &self.source {
            Source::Good(g) => Some(&g.sha256),
            _ => None,
        }
    }

    pub fn applied_ms(&self) -> Option<u64> {
        self.applied_ms
    }

    pub fn good(&self) -> Option<&Good> {
        match &self.source {
            Source::Good(g) => Some(g),
            _ => None,
        }
    }

    pub fn overrides(&self) -> &OverrideSet {
        &self.overrides
    }

    /// Replaces the overrides; false when the set is the one held already.
    pub fn set_overrides(&mut self, set: OverrideSet) -> bool {
        if self.overrides == set {
            return false;
        }
        self.overrides = set;
        true
    }

    /// Takes one look at the file into account. `None` when its bytes (or
    /// its read error) are the same as last time; otherwise the record of
    /// the reload, applied or rejected.
    pub fn load(&mut self, read: Read, at_ms: u64) -> Option<FlagReload> {
        let seen = match &read {
            Read::Bytes(b) => Seen::Hash(hex::encode(Sha256::digest(b))),
            Read::Failed(why) => Seen::Failed(why.clone()),
        };
        if self.seen.as_ref() == Some(&seen) || matches!(self.source, Source::Nothing) {
            return None;
        }
        let sha256 = match &seen {
            Seen::Hash(h) => h.clone(),
            Seen::Failed(_) => String::new(),
        };
        self.seen = Some(seen);
        let before = self.served().clone();
        let parsed = match read {
            Read::Bytes(bytes) => self.parse(bytes),
            Read::Failed(why) => Err((FlagSet::default(), format!("{}: {why}", self.file))),
        };
        let applied = parsed.is_ok();
        match parsed {
            Ok(set) => {
                self.source = Source::Good(Good {
                    sha256: sha256.clone(),
                    set,
                });
                self.error = None;
                self.applied_ms = Some(at_ms);
            }
            Err((partial, error)) => {
                if let Source::FailSafe { .. } = self.source {
                    self.source = Source::FailSafe {
                        set: partial,
                        error: error.clone(),
                    };
                }
                self.error = Some(error);
            }
        }
        Some(FlagReload {
            at_ms,
            file: self.file.clone(),
            sha256,
            applied,
            error: (!applied).then(|| self.error.clone()).flatten(),
            changes: changes::diff(&before, self.served()),
        })
    }

    /// A valid file's flags, or what could be read of an invalid one.
    fn parse(&self, bytes: Vec<u8>) -> Result<FlagSet, (FlagSet, String)> {
        let text = String::from_utf8(bytes)
            .map_err(|_| (FlagSet::default(), format!("{}: not UTF-8 text", self.file)))?;
        // An empty file parses as "no flags", but it is what a truncating
        // writer leaves for a moment, and never what someone meant.
        if text.trim().is_empty() {
            return Err((
                FlagSet::default(),
                format!("{}: the file is empty", self.file),
            ));
        }
        match liveops_config::flags::parse_partial(&self.file, &text) {
            (set, None) => Ok(set),
            (set, Some(errors)) => Err((set, errors.to_string())),
        }
    }

    fn served(&self) -> &FlagSet {
        static EMPTY: FlagSet = FlagSet { flags: Vec::new() };
        match &self.source {
            Source::Nothing => &EMPTY,
            Source::Good(g) => &g.set,
            Source::FailSafe { set, .. } => set,
        }
    }

    /// The snapshot to serve at `now`. Its version is a digest of
    /// everything an answer depends on, including which rules and
    /// overrides have expired by `now`: equal versions give equal answers,
    /// before and after a restart alike.
    pub fn doc(&self, now: SystemTime) -> SnapshotDoc {
        let mut doc = SnapshotDoc {
            version: String::new(),
            fail_safe: match &self.source {
                Source::FailSafe { error, .. } => Some(error.clone()),
                _ => None,
            },
            flags: self.served().flags.clone(),
            overrides: self.overrides.overrides.clone(),
        };
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&doc).unwrap_or_default());
        h.update(self.expiries().filter(|t| *t < now).count().to_be_bytes());
        doc.version = hex::encode(&h.finalize()[..8]);
        doc
    }

    /// The next instant after `now` at which a rule or override expires.
    pub fn next_expiry(&self, now: SystemTime) -> Option<SystemTime> {
        self.expiries().filter(|t| *t >= now).min()
    }

    fn expiries(&self) -> impl Iterator<Item = SystemTime> + '_ {
        let rules = self
            .served()
            .flags
            .iter()
            .flat_map(|f| f.rules.iter().filter_map(|r| r.expires));
        let overrides = self.overrides.overrides.iter().filter_map(|o| o.expires);
        rules.chain(overrides)
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
