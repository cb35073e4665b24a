//! Which entities an owner's rollback covers, read from a snapshot's owner
//! index: the owner's entities, what those own in turn (an account's
//! players, then their villages), one index descent per owner.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::Key;
use crate::snapshot::entity;
use crate::snapshot::index::{self, Digest, Nodes};
use crate::snapshot::pack::PackError;
use crate::snapshot::{Meta, SnapshotError, Store};

/// Levels of ownership followed: account → player → what the player owns;
/// a cycle in the game's data ends at the first repeat.
pub const DEPTH: usize = 3;
/// The kinds that own entities (the state contract's `owner`).
pub const OWNERS: [&str; 2] = ["player", "account"];
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
    type Error = PackError;
    fn get(&self, id: &Digest) -> Result<Option<Vec<u8>>, PackError> {
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
    fn put(&self, id: &Digest, bytes: &[u8]) -> Result<u64, PackError> {
        self.store.put(id, bytes)
    }
}

/// Entity lines already read, by digest: their key and owner. The game's
/// side of a plan mostly holds the snapshot's lines unchanged, and needs
/// none of them read again.
pub type Known = HashMap<Digest, (Key, Option<String>)>;

/// Every entity `owners` own in `meta`, directly or through what they own,
/// with its digest there. Lines not in `known` are read (in digest order,
/// level by level) and added to it.
pub fn owned(
    nodes: &Memo<'_>,
    meta: &Meta,
    owners: &BTreeSet<String>,
    known: &mut Known,
) -> Result<BTreeMap<Key, Digest>, SnapshotError> {
    let mut out = BTreeMap::new();
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
        let mut found: Vec<(usize, index::Entry)> = Vec::new();
        for (n, owner) in frontier.iter().enumerate() {
            let mut entries = Vec::new();
            index::under(
                nodes,
                Some(&root),
                &index::owner_prefix(owner),
                index::OWNER_PREFIX,
                &mut entries,
            )
            .map_err(|e| damaged(e.to_string()))?;
            found.extend(entries.into_iter().map(|e| (n, e)));
        }
        let unread: Vec<Digest> = found
            .iter()
            .map(|(_, e)| e.digest)
            .filter(|d| !known.contains_key(d))
            .collect();
        for (digest, line) in nodes.store.lines(&unread)? {
            let head = entity::head(&line).map_err(damaged)?;
            let key = Key {
                kind: head.kind.into_owned(),
                id: head.id.into_owned(),
            };
            known.insert(digest, (key, head.owner.map(|o| o.into_owned())));
        }
        let mut next = Vec::new();
        for (n, e) in found {
            let (key, owner) = known
                .get(&e.digest)
                .ok_or_else(|| damaged(format!("entity {} is missing", hex::encode(e.digest))))?;
            // 64 bits of owner hash can collide: the line decides.
            if owner.as_deref() != Some(frontier[n].as_str()) {
                continue;
            }
            // The contract: an owner is a player or an account.
            if OWNERS.contains(&key.kind.as_str()) && done.insert(key.id.clone()) {
                next.push(key.id.clone());
            }
            out.insert(key.clone(), e.digest);
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(out)
}
