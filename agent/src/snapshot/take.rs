//! Taking a snapshot: the game's state stream read chunk by chunk, each
//! entity line stored by its digest unless already stored, and the index
//! built at the end from `(key, digest)` pairs only, 32 bytes an entity,
//! so a million-entity world never sits whole in memory.
//!
//! Reading is async; hashing and store writes run on a blocking thread fed
//! through a small bounded channel, so a slow disk slows the download
//! instead of filling memory.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::entity::{self, Lines};
use super::index::{self, Entry};
use super::store::{Meta, Store, StoreError};

/// New lines handed to the store together.
const BATCH: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    #[error("no game URL is configured: the agent cannot read the world's state")]
    NoGame,
    #[error("cannot read the game's state from {url}: {error}")]
    Fetch { url: String, error: String },
    #[error("the game answered {status} for {url}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the snapshot writer stopped: {0}")]
    Writer(String),
}

/// Reads `{game}/liveops/v1/state` into a new snapshot described by `meta`.
pub async fn take(
    store: Arc<Store>,
    client: &reqwest::Client,
    game: &str,
    meta: Meta,
    expect: usize,
    timeout: Duration,
) -> Result<Meta, TakeError> {
    let started = Instant::now();
    let url = format!("{}/liveops/v1/state", game.trim_end_matches('/'));
    let meta = store.begin(meta)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let writer = {
        let store = Arc::clone(&store);
        tokio::task::spawn_blocking(move || write(&store, expect, rx))
    };
    let fetched = fetch(client, &url, timeout, &tx).await;
    drop(tx);
    let written = writer.await.map_err(|e| TakeError::Writer(e.to_string()))?;
    // A failed read leaves an incomplete meta; drop it now rather than at
    // the next start (its blobs go at the next sweep).
    let discard = |e: TakeError| {
        let _ = store.remove(std::slice::from_ref(&meta.id));
        e
    };
    fetched.map_err(discard)?;
    let built = written.map_err(|e| discard(e.into()))?;
    let mut meta = meta;
    meta.entities = built.entities;
    meta.counts = built.counts;
    meta.bytes_added = built.bytes_added;
    meta.index_bytes_added = built.index_bytes;
    meta.skipped = built.skipped;
    meta.root = built.root.map(hex::encode);
    meta.owners = built.owners.map(hex::encode);
    meta.took_ms = started.elapsed().as_millis() as u64;
    Ok(store.finish(meta)?)
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    tx: &tokio::sync::mpsc::Sender<Bytes>,
) -> Result<(), TakeError> {
    let fail = |error: String| TakeError::Fetch {
        url: url.to_owned(),
        error,
    };
    let mut resp = client
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        return Err(TakeError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
            body: body.chars().take(300).collect(),
        });
    }
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
        // This waits only when the writer (the disk) is behind.
        if tx.send(chunk).await.is_err() {
            return Err(fail("the snapshot writer stopped".into()));
        }
    }
    Ok(())
}

struct Built {
    entities: u64,
    counts: BTreeMap<String, u64>,
    bytes_added: u64,
    index_bytes: u64,
    skipped: u64,
    root: Option<index::Digest>,
    owners: Option<index::Digest>,
}

/// `expect` is the size of the world at the last snapshot: the entry lists
/// start that large, so they are not copied as they double.
fn write(
    store: &Store,
    expect: usize,
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> Result<Built, StoreError> {
    let mut lines = Lines::default();
    let room = expect + expect / 16;
    let mut entries: Vec<Entry> = Vec::with_capacity(room);
    let mut owned: Vec<Entry> = Vec::with_capacity(room);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut bytes_added, mut skipped) = (0u64, 0u64);
    // New lines, stored a batch at a time (one write and one index batch).
    let mut batch: Vec<(index::Digest, Vec<u8>)> = Vec::with_capacity(BATCH);
    let mut failed: Option<StoreError> = None;
    let store_batch = |batch: &mut Vec<(index::Digest, Vec<u8>)>| -> Result<u64, StoreError> {
        let refs: Vec<(index::Digest, &[u8])> =
            batch.iter().map(|(d, l)| (*d, l.as_slice())).collect();
        let added = store.put_blobs(&refs)?;
        batch.clear();
        Ok(added)
    };
    let mut each = |line: &[u8]| {
        if failed.is_some() {
            return;
        }
        let head = match entity::head(line) {
            Ok(h) => h,
            Err(reason) => {
                skipped += 1;
                tracing::debug!(%reason, "state line skipped");
                return;
            }
        };
        let digest = index::digest(line);
        entries.push(Entry {
            key: index::key_of(&head.kind, &head.id),
            digest,
        });
        if let Some(owner) = &head.owner {
            owned.push(Entry {
                key: index::owner_key(owner, &head.kind, &head.id),
                digest,
            });
        }
        match counts.get_mut(head.kind.as_ref()) {
            Some(n) => *n += 1,
            None => {
                counts.insert(head.kind.into_owned(), 1);
            }
        }
        // The store's digest index is in memory: asking costs a hash.
        if store.has_blob(&digest) {
            return;
        }
        batch.push((digest, line.to_vec()));
        if batch.len() >= BATCH {
            match store_batch(&mut batch) {
                Ok(n) => bytes_added += n,
                Err(e) => failed = Some(e),
            }
        }
    };
    while let Some(chunk) = rx.blocking_recv() {
        lines.push(&chunk, &mut each);
    }
    lines.finish(&mut each);
    if let Some(e) = failed {
        return Err(e);
    }
    bytes_added += store_batch(&mut batch)?;
    skipped += lines.too_long;
    // The same entity twice: the later line wins, as it would in the game.
    entries.reverse();
    entries.sort_by_key(|e| e.key);
    let before = entries.len();
    entries.dedup_by_key(|e| e.key);
    skipped += (before - entries.len()) as u64;
    let mut index_bytes = 0;
    let root = index::build(store, &entries, &mut index_bytes)?;
    let entities = entries.len() as u64;
    if before != entries.len() {
        // A repeated entity's earlier lines are not in the snapshot.
        let kept: HashSet<index::Digest> = entries.iter().map(|e| e.digest).collect();
        owned.retain(|e| kept.contains(&e.digest));
    }
    // Its memory back before the owner index is sorted and built.
    drop(entries);
    owned.sort_unstable_by_key(|e| e.key);
    owned.dedup_by_key(|e| e.key);
    let owners = index::build(store, &owned, &mut index_bytes)?;
    Ok(Built {
        entities,
        counts,
        bytes_added,
        index_bytes,
        skipped,
        root,
        owners,
    })
}
