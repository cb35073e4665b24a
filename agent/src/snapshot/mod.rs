//! Snapshots of the world's state, their diffs, and targeted rollback.
//!
//! - [`index`]: the content-addressed hash trie that makes a diff cost what
//!   changed, not the world's size (pure).
//! - [`store`]: where snapshots live and their durability (the narrow
//!   module): packs for lines and index nodes, sled for metas and rollbacks.
//! - [`pack`]: the append-only files entity lines and index nodes live in.
//! - [`entity`]: reading the game's NDJSON state stream line by line.
//! - [`take`]: streaming the game's state into a snapshot.
//! - [`diff`]: the report of what changed, for people and machines (pure).
//! - [`retention`]: which snapshots to keep (pure).
//! - [`rollback`]: putting chosen entities back as a snapshot holds them.
//!
//! [`Snapshots`] is the service the agent's operator commands call: one
//! snapshot operation at a time (the lock), so a sweep never sees a
//! snapshot half-written and two takes never interleave.

pub mod diff;
pub mod entity;
pub mod index;
pub mod pack;
pub mod retention;
pub mod rollback;
pub mod store;
pub mod take;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use liveops_protocol::time::now_ms;
use serde_json::Value;

pub use retention::Retention;
pub use store::{Meta, Store, StoreError};
pub use take::TakeError;

/// The name of the game's current state in a diff.
pub const LIVE: &str = "live";
/// The trigger of a rollback's safety snapshot: only the entities it wrote,
/// as they were just before.
pub const SAFETY: &str = "safety";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Take(#[from] TakeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no snapshot is called {0:?} (give an id such as s-3, a label, or `latest`)")]
    Unknown(String),
    #[error("snapshot {0} is damaged: {1}")]
    Damaged(String, String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unsupported(String),
}

impl SnapshotError {
    /// Whether the operator asked for something wrong (not the agent's fault).
    pub fn is_request(&self) -> bool {
        matches!(
            self,
            SnapshotError::Unknown(_) | SnapshotError::Unsupported(_)
        )
    }
}

pub struct Snapshots {
    store: Arc<Store>,
    lock: tokio::sync::Mutex<()>,
    game: Option<String>,
    client: reqwest::Client,
    retention: Retention,
    timeout: Duration,
}

impl Snapshots {
    pub fn open(
        data_dir: &Path,
        game: Option<String>,
        client: reqwest::Client,
        retention: Retention,
        timeout: Duration,
    ) -> Result<Snapshots, SnapshotError> {
        // Small: the store is written in one pass and read per change.
        let store = Store::open(data_dir, 16 << 20)?;
        Ok(Snapshots {
            store: Arc::new(store),
            lock: tokio::sync::Mutex::new(()),
            game,
            client,
            retention,
            timeout,
        })
    }

    /// Takes a snapshot of the whole world now.
    pub async fn take(&self, label: Option<String>, trigger: &str) -> Result<Meta, SnapshotError> {
        let _one = self.lock.lock().await;
        self.take_locked(label, trigger).await
    }

    async fn take_locked(
        &self,
        label: Option<String>,
        trigger: &str,
    ) -> Result<Meta, SnapshotError> {
        let game = self.game.as_deref().ok_or(TakeError::NoGame)?;
        let meta = Meta::new(now_ms(), label, trigger);
        let last = self.list()?.into_iter().rev().find(|m| m.trigger != SAFETY);
        let expect = last.map_or(0, |m| usize::try_from(m.entities).unwrap_or(0));
        let meta = take::take(
            Arc::clone(&self.store),
            &self.client,
            game,
            meta,
            expect,
            self.timeout,
        )
        .await?;
        tracing::info!(id = %meta.id, entities = meta.entities, bytes_added = meta.bytes_added,
            took_ms = meta.took_ms, trigger, "snapshot taken");
        Ok(meta)
    }

    /// Completed snapshots, oldest first (a diff's transient `live` views left out).
    pub fn list(&self) -> Result<Vec<Meta>, SnapshotError> {
        Ok(self
            .store
            .list()?
            .into_iter()
            .filter(|m| m.complete && m.trigger != LIVE)
            .collect())
    }

    /// A snapshot by id (`s-3`), by label (the newest with it), or `latest`.
    pub fn resolve(&self, name: &str) -> Result<Meta, SnapshotError> {
        let all = self.list()?;
        let found = match name {
            "latest" => all.iter().rev().find(|m| m.trigger != SAFETY),
            _ => all
                .iter()
                .find(|m| m.id == name)
                .or_else(|| all.iter().rev().find(|m| m.label.as_deref() == Some(name))),
        };
        found
            .cloned()
            .ok_or_else(|| SnapshotError::Unknown(name.to_owned()))
    }

    /// What changed from `from` to `to` (a snapshot, or [`LIVE`]: the game
    /// now, read into a transient snapshot that is dropped afterwards).
    pub async fn diff(
        &self,
        from: &str,
        to: &str,
        filter: &diff::Filter,
    ) -> Result<diff::Report, SnapshotError> {
        let _one = self.lock.lock().await;
        let a = self.resolve(from)?;
        let (b, transient) = if to == LIVE {
            (self.take_locked(None, LIVE).await?, true)
        } else {
            (self.resolve(to)?, false)
        };
        let store = Arc::clone(&self.store);
        let filter = filter.clone();
        let (a2, b2) = (a.clone(), b.clone());
        let shown = if transient {
            LIVE.to_owned()
        } else {
            b.id.clone()
        };
        let report =
            tokio::task::spawn_blocking(move || compare(&store, &a2, &b2, &shown, &filter))
                .await
                .map_err(|e| SnapshotError::Damaged(b.id.clone(), e.to_string()))?;
        if transient {
            self.store.remove(std::slice::from_ref(&b.id))?;
        }
        report
    }

    /// Removes what the retention policy no longer keeps and reclaims its
    /// space.
    pub async fn prune(&self, now_ms: u64) -> Result<Pruned, SnapshotError> {
        let _one = self.lock.lock().await;
        let all = self.store.list()?;
        let mut gone = retention::expired(&all, &self.retention, now_ms);
        gone.extend(
            all.iter()
                .filter(|m| m.trigger == LIVE)
                .map(|m| m.id.clone()),
        );
        let mut pruned = Pruned::default();
        if !gone.is_empty() {
            self.store.remove(&gone)?;
            let store = Arc::clone(&self.store);
            let (nodes, blobs) = tokio::task::spawn_blocking(move || store.sweep())
                .await
                .map_err(|e| SnapshotError::Damaged("store".into(), e.to_string()))??;
            tracing::info!(snapshots = ?gone, nodes, blobs, "expired snapshots removed");
            (pruned.nodes, pruned.blobs) = (nodes, blobs);
        }
        pruned.removed = gone;
        Ok(pruned)
    }

    /// Reads every entity of each snapshot (or of `name`) back and checks
    /// it against its digest and the snapshot's count.
    pub async fn verify(&self, name: Option<&str>) -> Result<Vec<Verified>, SnapshotError> {
        let _one = self.lock.lock().await;
        let snaps = match name {
            Some(n) => vec![self.resolve(n)?],
            None => self.list()?,
        };
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || snaps.iter().map(|m| check(&store, m)).collect())
            .await
            .map_err(|e| SnapshotError::Damaged("store".into(), e.to_string()))?
    }

    pub fn size_on_disk(&self) -> u64 {
        self.store.size_on_disk()
    }
}

/// Takes a snapshot every `every` and applies the retention policy after
/// each, until `stop`. A failure is logged and retried at the next turn.
/// A world without any snapshot gets its first at once, so there is a base
/// to diff against from the start.
pub async fn schedule(
    snapshots: Arc<Snapshots>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut wait = match snapshots.list() {
        Ok(list) if list.is_empty() => Duration::ZERO,
        _ => every,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        wait = every;
        if let Err(e) = snapshots.take(None, "scheduled").await {
            tracing::warn!(error = %e, "scheduled snapshot failed");
        }
        if let Err(e) = snapshots.prune(now_ms()).await {
            tracing::warn!(error = %e, "snapshot retention failed");
        }
    }
}

/// What a prune removed: snapshots, and the index nodes and entity lines
/// no remaining snapshot reached.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Pruned {
    pub removed: Vec<String>,
    pub nodes: u64,
    pub blobs: u64,
}

/// One snapshot's check: `problems` is empty when it is whole.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Verified {
    pub id: String,
    pub entities: u64,
    pub problems: Vec<String>,
}

/// Changed entities whose lines are read together (a diff, a plan's
/// collateral).
pub(crate) const READ_CHUNK: usize = 50_000;

/// Problems listed per snapshot before the rest are only counted.
const PROBLEMS: usize = 10;

fn check(store: &Store, meta: &Meta) -> Result<Verified, SnapshotError> {
    let mut problems = Vec::new();
    let mut seen = 0u64;
    let walked = index::walk::<_, StoreError>(store, meta.root().as_ref(), &mut |e| {
        seen += 1;
        let problem = match store.blob(&e.digest)? {
            None => Some(format!("entity {} is missing", hex::encode(e.digest))),
            Some(line) if index::digest(&line) != e.digest => Some(format!(
                "entity {} does not match its digest",
                hex::encode(e.digest)
            )),
            Some(_) => None,
        };
        if let Some(p) = problem
            && problems.len() < PROBLEMS
        {
            problems.push(p);
        }
        Ok(())
    });
    match walked {
        Ok(()) => {}
        Err(index::WalkError::Index(e)) => problems.push(e.to_string()),
        Err(index::WalkError::Visit(e)) => return Err(e.into()),
    }
    if meta.root.is_some() && meta.root().is_none() {
        problems.push("its root is unreadable".into());
    }
    if seen != meta.entities {
        problems.push(format!("{seen} entities found, {} recorded", meta.entities));
    }
    Ok(Verified {
        id: meta.id.clone(),
        entities: seen,
        problems,
    })
}

fn compare(
    store: &Store,
    a: &Meta,
    b: &Meta,
    shown: &str,
    filter: &diff::Filter,
) -> Result<diff::Report, SnapshotError> {
    let damaged = |e: String| SnapshotError::Damaged(b.id.clone(), e);
    let changes = index::diff(store, a.root().as_ref(), b.root().as_ref())
        .map_err(|e| damaged(e.to_string()))?;
    let mut pairs = Vec::with_capacity(changes.len());
    // In chunks, so a diff of a whole changed world holds one chunk of lines.
    for chunk in changes.chunks(READ_CHUNK) {
        let lines = store.lines_of(chunk.iter())?;
        let read = |d: Option<index::Digest>| -> Result<Option<Value>, SnapshotError> {
            let Some(d) = d else { return Ok(None) };
            let line = lines
                .get(&d)
                .ok_or_else(|| damaged(format!("entity {} is missing", hex::encode(d))))?;
            serde_json::from_slice(line)
                .map(Some)
                .map_err(|e| damaged(e.to_string()))
        };
        for c in chunk {
            pairs.push(diff::Pair {
                old: read(c.old)?,
                new: read(c.new)?,
            });
        }
    }
    let mut report = diff::report(&a.id, shown, pairs, filter);
    report.unchanged = b.entities.saturating_sub(changes.len() as u64);
    Ok(report)
}

#[cfg(test)]
mod tests;
