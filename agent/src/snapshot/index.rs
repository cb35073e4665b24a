//! A snapshot's index: a hash trie of `(key, digest)` entries whose nodes
//! are stored by their own digest, so two snapshots share every unchanged
//! subtree and a diff skips it after comparing one digest.
//!
//! The key of an entity is the hash of its kind and id ([`key_of`]); the
//! trie branches on the key's nibbles, sixteen ways a level, and a node
//! with at most [`LEAF_MAX`] entries is a leaf. The shape depends only on
//! the set of keys, never on the order entities arrived in or on their
//! contents, so the same world gives the same root, and a changed entity
//! changes exactly its leaf and the nodes above it. A diff therefore costs
//! in proportion to what changed: about one leaf and four internal nodes
//! read per changed entity at a million entities, whatever the world's size
//! (a sorted list or a table scan would cost the whole world each time).
//!
//! This module is pure: nodes are read and written through [`Nodes`], which
//! the sled store implements and the tests implement with a map.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

/// 128 bits of SHA-256: content addresses of entities and nodes. A forged
/// collision would take about 2^64 hashes, out of a game's reach.
pub type Digest = [u8; 16];

/// Entries a leaf holds before it splits into sixteen children.
pub const LEAF_MAX: usize = 64;
/// Nibbles in a key: a trie never branches deeper than this.
const MAX_DEPTH: usize = 32;

const LEAF: u8 = 0;
const INTERNAL: u8 = 1;

pub fn digest(bytes: &[u8]) -> Digest {
    let full = Sha256::digest(bytes);
    let mut d = [0; 16];
    d.copy_from_slice(&full[..16]);
    d
}

/// The trie key of an entity: its kind and id, hashed so that keys spread
/// evenly over the trie whatever the game's id scheme.
pub fn key_of(kind: &str, id: &str) -> Digest {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    let mut d = [0; 16];
    d.copy_from_slice(&h.finalize()[..16]);
    d
}

/// Bytes of an [`owner_key`] taken by the owner: all the entities of one
/// owner share this prefix, so they sit in one subtree of the owner index.
pub const OWNER_PREFIX: usize = 8;

/// The owner index's key of an entity: its owner's hash, then its own key,
/// so [`under`] finds an owner's entities in one descent however large the
/// world is.
pub fn owner_key(owner: &str, kind: &str, id: &str) -> Digest {
    let mut k = owner_prefix(owner);
    k[OWNER_PREFIX..].copy_from_slice(&key_of(kind, id)[..16 - OWNER_PREFIX]);
    k
}

/// The key prefix of `owner`'s entities (the rest zero).
pub fn owner_prefix(owner: &str) -> Digest {
    let mut k = [0; 16];
    k[..OWNER_PREFIX].copy_from_slice(&Sha256::digest(owner.as_bytes())[..OWNER_PREFIX]);
    k
}

/// One entity in the index: where it sits and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub key: Digest,
    /// Digest of the entity's stored line.
    pub digest: Digest,
}

/// Where nodes live. `put` may be called for a node that already exists,
/// and then stores nothing: it returns the bytes it stored, so building an
/// index never reads a node just to learn whether it is there.
pub trait Nodes {
    type Error;
    fn get(&self, id: &Digest) -> Result<Option<Vec<u8>>, Self::Error>;
    fn put(&self, id: &Digest, bytes: &[u8]) -> Result<u64, Self::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError<E> {
    #[error("index node {} is missing", hex::encode(.0))]
    Missing(Digest),
    #[error("index node {} is malformed", hex::encode(.0))]
    Malformed(Digest),
    #[error(transparent)]
    Store(E),
}

/// One difference between two indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub key: Digest,
    pub old: Option<Digest>,
    pub new: Option<Digest>,
}

fn nibble(key: &Digest, depth: usize) -> usize {
    let byte = key[depth / 2];
    usize::from(if depth.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0xf
    })
}

/// Writes the trie of `entries` (sorted by key, keys unique) and returns
/// its root; an empty set has no root. `written` counts the bytes of nodes
/// that were new to the store.
pub fn build<N: Nodes>(
    nodes: &N,
    entries: &[Entry],
    written: &mut u64,
) -> Result<Option<Digest>, IndexError<N::Error>> {
    if entries.is_empty() {
        return Ok(None);
    }
    build_at(nodes, entries, 0, written).map(Some)
}

fn build_at<N: Nodes>(
    nodes: &N,
    entries: &[Entry],
    depth: usize,
    written: &mut u64,
) -> Result<Digest, IndexError<N::Error>> {
    let bytes = if entries.len() <= LEAF_MAX || depth == MAX_DEPTH {
        let mut b = Vec::with_capacity(3 + entries.len() * 32);
        b.push(LEAF);
        b.extend_from_slice(&(entries.len() as u32).to_le_bytes()[..2]);
        for e in entries {
            b.extend_from_slice(&e.key);
            b.extend_from_slice(&e.digest);
        }
        b
    } else {
        let mut bitmap = 0u16;
        let mut children = Vec::with_capacity(16 * 16);
        let mut start = 0;
        while start < entries.len() {
            let n = nibble(&entries[start].key, depth);
            let len = entries[start..].partition_point(|e| nibble(&e.key, depth) == n);
            let child = build_at(nodes, &entries[start..start + len], depth + 1, written)?;
            bitmap |= 1 << n;
            children.extend_from_slice(&child);
            start += len;
        }
        let mut b = Vec::with_capacity(3 + children.len());
        b.push(INTERNAL);
        b.extend_from_slice(&bitmap.to_le_bytes());
        b.extend_from_slice(&children);
        b
    };
    let id = digest(&bytes);
    *written += nodes.put(&id, &bytes).map_err(IndexError::Store)?;
    Ok(id)
}

/// A node as read back. Nodes live only as long as one step of a walk, so
/// the inline children (272 bytes) cost less than a box per node.
#[allow(clippy::large_enum_variant)]
enum Node {
    Leaf(Vec<Entry>),
    Internal([Option<Digest>; 16]),
}

fn load<N: Nodes>(nodes: &N, id: &Digest) -> Result<Node, IndexError<N::Error>> {
    let bytes = nodes
        .get(id)
        .map_err(IndexError::Store)?
        .ok_or(IndexError::Missing(*id))?;
    let bad = || IndexError::Malformed(*id);
    let (&tag, rest) = bytes.split_first().ok_or_else(bad)?;
    let head: [u8; 2] = rest
        .get(..2)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    let body = &rest[2..];
    match tag {
        LEAF => {
            let n = usize::from(u16::from_le_bytes(head));
            if body.len() != n * 32 {
                return Err(bad());
            }
            let entries = body
                .chunks_exact(32)
                .map(|c| {
                    let (k, d) = c.split_at(16);
                    Entry {
                        key: k.try_into().unwrap_or_default(),
                        digest: d.try_into().unwrap_or_default(),
                    }
                })
                .collect();
            Ok(Node::Leaf(entries))
        }
        INTERNAL => {
            let bitmap = u16::from_le_bytes(head);
            if body.len() != bitmap.count_ones() as usize * 16 {
                return Err(bad());
            }
            let mut children = [None; 16];
            let mut chunks = body.chunks_exact(16);
            for (n, child) in children.iter_mut().enumerate() {
                if bitmap & (1 << n) != 0 {
                    *child = chunks.next().and_then(|c| c.try_into().ok());
                }
            }
            Ok(Node::Internal(children))
        }
        _ => Err(bad()),
    }
}

/// Calls `each` with every entry under `root`, in key order.
pub fn walk<N: Nodes, E>(
    nodes: &N,
    root: Option<&Digest>,
    each: &mut dyn FnMut(Entry) -> Result<(), E>,
) -> Result<(), WalkError<N::Error, E>> {
    let Some(root) = root else { return Ok(()) };
    match load(nodes, root).map_err(WalkError::Index)? {
        Node::Leaf(entries) => entries
            .into_iter()
            .try_for_each(each)
            .map_err(WalkError::Visit),
        Node::Internal(children) => children
            .iter()
            .flatten()
            .try_for_each(|c| walk(nodes, Some(c), each)),
    }
}

#[derive(Debug)]
pub enum WalkError<S, E> {
    Index(IndexError<S>),
    Visit(E),
}

/// Every node reachable from `root` that `seen` does not hold yet, added to
/// it; a subtree already seen is not entered again (snapshots share them).
pub fn mark<N: Nodes>(
    nodes: &N,
    root: &Digest,
    seen: &mut std::collections::HashSet<Digest>,
    blobs: &mut std::collections::HashSet<Digest>,
) -> Result<(), IndexError<N::Error>> {
    if !seen.insert(*root) {
        return Ok(());
    }
    match load(nodes, root)? {
        Node::Leaf(entries) => blobs.extend(entries.iter().map(|e| e.digest)),
        Node::Internal(children) => {
            for c in children.iter().flatten() {
                mark(nodes, c, seen, blobs)?;
            }
        }
    }
    Ok(())
}

/// The entries that differ between two indexes, in key order.
pub fn diff<N: Nodes>(
    nodes: &N,
    old: Option<&Digest>,
    new: Option<&Digest>,
) -> Result<Vec<Change>, IndexError<N::Error>> {
    let mut out = Vec::new();
    diff_at(nodes, old.copied(), new.copied(), &mut out)?;
    Ok(out)
}

fn diff_at<N: Nodes>(
    nodes: &N,
    old: Option<Digest>,
    new: Option<Digest>,
    out: &mut Vec<Change>,
) -> Result<(), IndexError<N::Error>> {
    if old == new {
        return Ok(());
    }
    let (a, b) = (
        old.map(|d| load(nodes, &d)).transpose()?,
        new.map(|d| load(nodes, &d)).transpose()?,
    );
    if let (Some(Node::Internal(x)), Some(Node::Internal(y))) = (&a, &b) {
        for n in 0..16 {
            diff_at(nodes, x[n], y[n], out)?;
        }
        return Ok(());
    }
    // A leaf against anything (or nothing): compare the entries. The other
    // side then holds at most a leaf's worth more than this one, or it is
    // all new or all gone, which has to be listed anyway.
    let (xs, ys) = (flatten(nodes, a)?, flatten(nodes, b)?);
    merge(&xs, &ys, out);
    Ok(())
}

fn flatten<N: Nodes>(nodes: &N, node: Option<Node>) -> Result<Vec<Entry>, IndexError<N::Error>> {
    let mut out = Vec::new();
    let mut stack: Vec<Node> = node.into_iter().collect();
    while let Some(n) = stack.pop() {
        match n {
            Node::Leaf(entries) => out.extend(entries),
            Node::Internal(children) => {
                for c in children.iter().flatten() {
                    stack.push(load(nodes, c)?);
                }
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn merge(old: &[Entry], new: &[Entry], out: &mut Vec<Change>) {
    let mut by_key: BTreeMap<Digest, (Option<Digest>, Option<Digest>)> = BTreeMap::new();
    for e in old {
        by_key.entry(e.key).or_default().0 = Some(e.digest);
    }
    for e in new {
        by_key.entry(e.key).or_default().1 = Some(e.digest);
    }
    out.extend(
        by_key
            .into_iter()
            .filter(|(_, (a, b))| a != b)
            .map(|(key, (old, new))| Change { key, old, new }),
    );
}

/// Every entry whose key starts with the first `len` bytes of `prefix`:
/// one path down to the subtree that holds them, then that subtree.
pub fn under<N: Nodes>(
    nodes: &N,
    root: Option<&Digest>,
    prefix: &Digest,
    len: usize,
    out: &mut Vec<Entry>,
) -> Result<(), IndexError<N::Error>> {
    let len = len.min(16);
    let mut at = root.copied();
    let mut depth = 0;
    while let Some(id) = at {
        if depth == len * 2 {
            let mut found = Vec::new();
            match walk::<_, std::convert::Infallible>(nodes, Some(&id), &mut |e| {
                found.push(e);
                Ok(())
            }) {
                Ok(()) => {}
                Err(WalkError::Index(e)) => return Err(e),
                Err(WalkError::Visit(never)) => match never {},
            }
            out.extend(found);
            return Ok(());
        }
        match load(nodes, &id)? {
            Node::Leaf(entries) => {
                out.extend(
                    entries
                        .into_iter()
                        .filter(|e| e.key[..len] == prefix[..len]),
                );
                return Ok(());
            }
            Node::Internal(children) => {
                at = children[nibble(prefix, depth)];
                depth += 1;
            }
        }
    }
    Ok(())
}

/// The entry stored under `key`, if any: one path from the root.
pub fn lookup<N: Nodes>(
    nodes: &N,
    root: Option<&Digest>,
    key: &Digest,
) -> Result<Option<Digest>, IndexError<N::Error>> {
    let mut at = root.copied();
    let mut depth = 0;
    while let Some(id) = at {
        match load(nodes, &id)? {
            Node::Leaf(entries) => {
                return Ok(entries.iter().find(|e| &e.key == key).map(|e| e.digest));
            }
            Node::Internal(children) => {
                at = children[nibble(key, depth)];
                depth += 1;
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
