//! Which entities an owner's rollback covers, read from a snapshot's owner
//! index: the owner's entities, what those own in turn (an account's
//! players, then their villages), one index descent per owner.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use super::Key;
use crate::snapshot::entity;
use crate::snapshot::index::{self, Digest, Nodes};
use crate::snapshot::{Meta, SnapshotError, Store};

/// Levels of ownership followed: account → player → village → (anything a
/// village owns); a cycle in the game's data ends at the first repeat.
const DEPTH: usize = 4;
/// Nodes remembered during one selection; the top of the trie is read for
/// every owner, and tens of thousands of owners would read it again each.
const MEMO: usize = 100_000;

/// The store's nodes, each read once while a selection runs.
pub struct Memo<'a> {
    store: &'a Store,
    seen: RefCell<HashMap<Digest, Vec<u8>>>,
}

impl<'a> Memo<'a> {
    pub fn new(store: &'a Store) -> Memo<'a> {
        Memo {
            store,
            seen: RefCell::default(),
        }
    }
}

impl Nodes for Memo<'_> {
    type Error = sled::Error;
    fn get(&self, id: &Digest) -> Result<Option<Vec<u8>>, sled::Error> {
        if let Some(b) = self.seen.borrow().get(id) {
            return Ok(Some(b.clone()));
        }
        let got = self.store.get(id)?;
        if let Some(b) = &got {
            let mut seen = self.seen.borrow_mut();
            if seen.len() >= MEMO {
                seen.clear();
            }
            seen.insert(*id, b.clone());
        }
        Ok(got)
    }
    fn put(&self, id: &Digest, bytes: &[u8]) -> Result<(), sled::Error> {
        self.store.put(id, bytes)
    }
}

/// Every entity `owners` own in `meta`, directly or through what they own.
pub fn owned(
    nodes: &Memo<'_>,
    meta: &Meta,
    owners: &BTreeSet<String>,
) -> Result<BTreeSet<Key>, SnapshotError> {
    let mut out = BTreeSet::new();
    if owners.is_empty() || meta.entities == 0 {
        return Ok(out);
    }
    let Some(root) = meta.owners_root() else {
        return Err(SnapshotError::Unsupported(format!(
            "{} was taken before snapshots indexed owners; roll back by --village or --kind/--id, or from a newer snapshot",
            meta.id
        )));
    };
    let damaged = |e: String| SnapshotError::Damaged(meta.id.clone(), e);
    let mut done: BTreeSet<String> = owners.clone();
    let mut frontier: Vec<String> = owners.iter().cloned().collect();
    for _ in 0..DEPTH {
        let mut next = Vec::new();
        for owner in &frontier {
            let mut found = Vec::new();
            index::under(
                nodes,
                Some(&root),
                &index::owner_prefix(owner),
                index::OWNER_PREFIX,
                &mut found,
            )
            .map_err(|e| damaged(e.to_string()))?;
            for e in found {
                let line = nodes.store.blob(&e.digest)?.ok_or_else(|| {
                    damaged(format!("entity {} is missing", hex::encode(e.digest)))
                })?;
                let head = entity::head(&line).map_err(damaged)?;
                // 64 bits of owner hash can collide: the line decides.
                if head.owner.as_deref() != Some(owner.as_str()) {
                    continue;
                }
                let id = head.id.into_owned();
                if done.insert(id.clone()) {
                    next.push(id.clone());
                }
                out.insert(Key {
                    kind: head.kind.into_owned(),
                    id,
                });
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(out)
}
