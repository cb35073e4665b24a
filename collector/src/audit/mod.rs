//! The audit log: who changed what flag where, and why. An append-only,
//! hash-chained JSON-lines file (`audit.jsonl` in the data dir), fsync'd
//! per append, with the head (last seq and hash) also kept in sled so a
//! cut-off tail, or entries added while the collector was stopped, are
//! noticed. [`chain`] is the pure part; this is the file.
//!
//! Entries come from operators (mitigate, override, revert), from the
//! collector itself (expire) and from agents (every flag-file reload they
//! report). A report can be replayed after an outage; its reloads are
//! recorded once, keyed by the agent's report sequence number.

pub mod chain;
pub mod http;
mod integrity;
mod pages;
mod recorder;
mod reloads;
mod reseal;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use liveops_protocol::flags::FlagReload;
use serde_json::Value;

pub use chain::{Broken, Entry, GENESIS, Head, verify};
pub use recorder::AuditRecorder;
pub use reloads::From;

use crate::store::Store;
use crate::telemetry::CollectorMetrics;
use crate::{CollectorError, now_ms};

pub const FILE: &str = "audit.jsonl";
const HEAD_KEY: &[u8] = b"audit_head";
/// The head an append will leave, saved and flushed before the file is
/// written and cleared once the head is saved after it. Entries past the
/// recorded head are adopted at start only if they end exactly here: the
/// collector died between the two. Any others were added behind its back.
const PENDING_KEY: &[u8] = b"audit_pending_head";

/// Every `action` an entry has: an operator's `mitigate`, `override` or
/// `revert`, the collector's `expire`, an agent's `flag-reload` or
/// `flag-reload-rejected`, a paging decision's `page` (the pager's or an
/// operator's: ack, resolve, silence). Counted by action on `/metrics`.
pub const ACTIONS: [&str; 14] = [
    "mitigate",
    "override",
    "revert",
    "expire",
    "flag-reload",
    "flag-reload-rejected",
    "reseal",
    "page",
    // Operator commands relayed to an agent: the request, then what came of it.
    "snapshot-take",
    "snapshot-prune",
    "rollback-apply",
    "banner",
    "command-result",
    // An incident opened, moved, assigned, noted or rated (`subject` says which).
    "incident",
];

/// An entry before the log numbers, dates and seals it: an action from
/// the event stream.
pub type Draft = crate::events::Action;

pub struct Audit {
    path: PathBuf,
    inner: Mutex<Inner>,
    /// Counts entries appended, by action, and appends that failed.
    metrics: Arc<CollectorMetrics>,
}

struct Inner {
    file: File,
    len: u64,
    /// The file as the collector last left it: checked before each append.
    id: integrity::FileId,
    /// Why the log cannot be trusted, once it cannot: appends are refused
    /// until an admin reseals it.
    broken: Option<String>,
    head: Head,
    /// Per agent, the last report whose flag reloads are in the log.
    reports: HashMap<String, u64>,
}

impl Audit {
    /// Opens the log in `dir`, reconciling it with the head kept in sled.
    /// Appends are counted in `metrics`.
    pub fn open(
        dir: &Path,
        store: &Store,
        metrics: Arc<CollectorMetrics>,
    ) -> Result<Audit, CollectorError> {
        let path = dir.join(FILE);
        let io = |source| CollectorError::Audit {
            path: path.clone(),
            source,
        };
        let mut text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(e)),
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        // A line without its newline was being written when the collector
        // died; it was never acknowledged to anyone.
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            tracing::warn!(path = %path.display(), "dropping an incomplete last audit line");
            file.set_len(complete as u64).map_err(io)?;
            text.truncate(complete);
        }
        let entries = parse_lines(&text);
        let in_file = entries.last().map_or(Head::default(), |e| Head {
            seq: e.get("seq").and_then(Value::as_u64).unwrap_or(0),
            hash: e
                .get("hash")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        });
        let recorded = store.get::<Head>(HEAD_KEY)?;
        let pending = store.get::<Head>(PENDING_KEY)?;
        let head = reconcile(&path, &entries, in_file, recorded, pending);
        // Nothing is being appended now; recording the head also anchors a
        // log that is still empty, so no file can be slipped in later.
        store.put_removing(HEAD_KEY, &head, PENDING_KEY)?;
        let broken = verify(&entries, &head).err().map(|b| b.to_string());
        if let Some(b) = &broken {
            tracing::error!(path = %path.display(), error = %b, "the audit log fails verification; changes are refused until an admin reseals it");
        }
        metrics.audit_chain_ok(broken.is_none());
        Ok(Audit {
            inner: Mutex::new(Inner {
                id: integrity::FileId::of_handle(&file).map_err(io)?,
                broken,
                file,
                len: text.len() as u64,
                head,
                reports: reloads::in_log(&entries),
            }),
            path,
            metrics,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn head(&self) -> Head {
        self.lock().head.clone()
    }

    /// Why the log is broken, if it is: looks at the file now (two
    /// `stat`s), so a replaced or edited log is noticed within a second
    /// even when nothing is being appended.
    pub fn check(&self) -> Option<String> {
        let mut inner = self.lock();
        if inner.broken.is_none()
            && let Err(why) = integrity::check(&self.path, &inner.id)
        {
            self.mark_broken(&mut inner, why);
        }
        inner.broken.clone()
    }

    fn mark_broken(&self, inner: &mut Inner, why: String) {
        tracing::error!(path = %self.path.display(), error = %why, "the audit log is broken; changes are refused until an admin reseals it");
        inner.broken = Some(why);
        self.metrics.audit_chain_ok(false);
    }

    /// Appends entries, fsync'd, after flushing where they will end (the
    /// pending head); the new head goes to sled, flushed by the caller
    /// with whatever else it changed. Blocking.
    pub fn append(&self, store: &Store, drafts: Vec<Draft>) -> Result<Vec<Entry>, CollectorError> {
        let mut inner = self.lock();
        self.append_locked(&mut inner, store, drafts)
    }

    /// Appends and counts what was appended, or the failure.
    fn append_locked(
        &self,
        inner: &mut Inner,
        store: &Store,
        drafts: Vec<Draft>,
    ) -> Result<Vec<Entry>, CollectorError> {
        let appended = self.write_locked(inner, store, drafts);
        match &appended {
            Ok(entries) => {
                for e in entries {
                    self.metrics.audit_appended(&e.action);
                }
            }
            Err(_) => self.metrics.audit_failed(),
        }
        appended
    }

    fn write_locked(
        &self,
        inner: &mut Inner,
        store: &Store,
        drafts: Vec<Draft>,
    ) -> Result<Vec<Entry>, CollectorError> {
        if let Some(why) = &inner.broken {
            return Err(CollectorError::AuditBroken(why.clone()));
        }
        if let Err(why) = integrity::check(&self.path, &inner.id) {
            self.mark_broken(inner, why.clone());
            return Err(CollectorError::AuditBroken(why));
        }
        let time = crate::rfc3339(now_ms());
        let mut head = inner.head.clone();
        let mut text = String::new();
        let mut out = Vec::new();
        for d in drafts {
            let e = chain::seal(into_entry(d, time.clone()), &head);
            head = Head {
                seq: e.seq,
                hash: e.hash.clone(),
            };
            text.push_str(&serde_json::to_string(&e)?);
            text.push('\n');
            out.push(e);
        }
        // On disk before the file is touched: at start, entries past the
        // recorded head are adopted only if they end where this one would.
        store.put(PENDING_KEY, &head)?;
        store.flush()?;
        let written = inner
            .file
            .write_all(text.as_bytes())
            .and_then(|()| inner.file.sync_data());
        if let Err(source) = written {
            // Leave no partial line behind for the next append to follow.
            let _ = inner.file.set_len(inner.len);
            if let Ok(id) = integrity::FileId::of_handle(&inner.file) {
                inner.id = id;
            }
            return Err(CollectorError::Audit {
                path: self.path.clone(),
                source,
            });
        }
        inner.len += text.len() as u64;
        inner.id =
            integrity::FileId::of_handle(&inner.file).map_err(|source| CollectorError::Audit {
                path: self.path.clone(),
                source,
            })?;
        inner.head = head;
        store.put_removing(HEAD_KEY, &inner.head, PENDING_KEY)?;
        Ok(out)
    }

    /// Records the flag reloads one report carries, once per report even
    /// when it is replayed; false when it already held them. Blocking
    /// (fsync and a sled flush).
    pub fn record_reloads(
        &self,
        store: &Store,
        from: reloads::From<'_>,
        list: &[FlagReload],
    ) -> Result<bool, CollectorError> {
        let mut inner = self.lock();
        let done = inner.reports.get(from.agent).copied();
        if list.is_empty() || done.is_some_and(|s| from.seq <= s) {
            return Ok(false);
        }
        let drafts = list.iter().map(|r| reloads::draft(&from, r)).collect();
        self.append_locked(&mut inner, store, drafts)?;
        inner.reports.insert(from.agent.to_owned(), from.seq);
        drop(inner);
        store.flush()?;
        Ok(true)
    }

    /// Every entry as written (an unreadable line as a JSON string), and
    /// the head, read together. Blocking.
    pub fn read(&self) -> Result<(Vec<Value>, Head), CollectorError> {
        let inner = self.lock();
        let text = std::fs::read_to_string(&self.path).map_err(|source| CollectorError::Audit {
            path: self.path.clone(),
            source,
        })?;
        Ok((parse_lines(&text), inner.head.clone()))
    }
}

fn into_entry(d: Draft, time: String) -> Entry {
    Entry {
        seq: 0,
        time,
        actor: d.actor,
        role: d.role,
        action: d.action.to_owned(),
        id: d.id,
        subject: d.subject,
        scope: d.scope,
        reason: d.reason,
        before: d.before,
        after: d.after,
        prev: String::new(),
        hash: String::new(),
    }
}

/// The head to go on from, given the last entry in the file, the head
/// recorded in sled and the head of an append that was in progress.
fn reconcile(
    path: &Path,
    entries: &[Value],
    in_file: Head,
    recorded: Option<Head>,
    pending: Option<Head>,
) -> Head {
    let path = path.display();
    let Some(h) = recorded else {
        if in_file.seq > 0 {
            tracing::warn!(%path, seq = in_file.seq, "no audit head recorded (new or lost collector state): nothing vouches for the log as found");
        }
        return in_file;
    };
    if h == in_file {
        return h;
    }
    let extends = in_file.seq > h.seq && hash_at(entries, h.seq) == Some(h.hash.as_str());
    if extends && pending.as_ref() == Some(&in_file) {
        // Appended and fsync'd, but the collector died before saving the head.
        return in_file;
    }
    // Keep appending after the recorded head: the damage stays visible to
    // `liveops audit verify` instead of being papered over.
    if extends {
        let (first, last) = (h.seq + 1, in_file.seq);
        tracing::error!(%path, recorded = h.seq, "audit entries seq {first} to {last} are past the head the collector recorded and were not being appended by it: they were added while it was stopped, and `liveops audit verify` fails on them");
    } else {
        tracing::error!(%path, recorded = h.seq, in_file = in_file.seq, "the audit log does not end where the collector recorded; it was truncated or edited");
    }
    h
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.to_owned())))
        .collect()
}

fn hash_at(entries: &[Value], seq: u64) -> Option<&str> {
    if seq == 0 {
        return Some(GENESIS);
    }
    let e = entries
        .iter()
        .find(|e| e.get("seq").and_then(Value::as_u64) == Some(seq))?;
    e.get("hash").and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
