//! A state listing's filters and its walk over the store, one bounded
//! chunk at a time.
//!
//! The query is parsed by hand: `owner` and `id` repeat, which axum's
//! `Query` extractor cannot take without another crate, and ids never need
//! percent-encoding, so `%` and `+` are refused rather than decoded.

use std::collections::BTreeSet;
use std::io;
use std::ops::Bound;

use super::Store;
use super::entity::{Entity, Key, Kind, parse_id};

/// Entities a chunk holds: enough that a million-entity listing is a
/// thousand lock holds, few enough that each is well under a millisecond.
pub(crate) const CHUNK: usize = 1024;

/// A query the listing refuses (400, with this text).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryError {
    #[error("unknown kind `{0}` (expected account, player or village)")]
    UnknownKind(String),
    #[error("unknown query parameter `{0}` (expected kind, owner or id)")]
    UnknownParameter(String),
    #[error("`kind` is given more than once")]
    RepeatedKind,
    #[error("query parameter `{0}` has no value")]
    NoValue(String),
    #[error("`{0}`: `%` and `+` are not accepted (entity ids never need encoding)")]
    Encoded(String),
}

/// Which entities a listing wants. With neither owners nor ids, every
/// entity (of `kind`, when given); otherwise those whose owner is one of
/// `owners` or whose id is one of `ids`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Filter {
    kind: Option<Kind>,
    /// Whether any `owner` or `id` was given: one that names no entity
    /// (`owner=x`) still narrows the listing, to nothing.
    selective: bool,
    owners: BTreeSet<Key>,
    ids: BTreeSet<Key>,
}

impl Filter {
    pub(crate) fn parse(query: &str) -> Result<Filter, QueryError> {
        let mut filter = Filter::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            if pair.contains(['%', '+']) {
                return Err(QueryError::Encoded(shown(pair)));
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if value.is_empty() {
                return Err(QueryError::NoValue(shown(name)));
            }
            match name {
                "kind" if filter.kind.is_some() => return Err(QueryError::RepeatedKind),
                "kind" => {
                    let kind = Kind::parse(value);
                    filter.kind = Some(kind.ok_or_else(|| QueryError::UnknownKind(shown(value)))?);
                }
                // A value that is no id of this world names nothing: it is
                // kept as "selective" and matches no entity, as the
                // contract's opaque ids require.
                "owner" => {
                    filter.selective = true;
                    filter.owners.extend(parse_id(value));
                }
                "id" => {
                    filter.selective = true;
                    filter.ids.extend(parse_id(value));
                }
                _ => return Err(QueryError::UnknownParameter(shown(name))),
            }
        }
        Ok(filter)
    }

    pub(crate) fn matches(&self, key: &Key, entity: &Entity) -> bool {
        self.kind.is_none_or(|k| k == key.0)
            && (!self.selective
                || self.ids.contains(key)
                || entity.owner().is_some_and(|o| self.owners.contains(&o)))
    }
}

/// Echoed input is cut short, so an error answer stays small whatever the
/// query was.
fn shown(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

/// Where a listing has got to.
#[derive(Debug)]
pub(crate) enum Cursor {
    /// Walking the map in key order, up to `last` included.
    Scan {
        next: Bound<Key>,
        last: Key,
    },
    /// Visiting keys chosen up front from the ids and the owner index, in
    /// key order; each is looked up (and matched again) when its chunk is
    /// written, since the tick may have changed it in between.
    Keys(std::vec::IntoIter<Key>),
    Done,
}

impl Cursor {
    /// Where a listing under `filter` starts. A selective filter reads only
    /// the owner index and the ids named, never the whole map.
    pub(crate) fn start(store: &Store, filter: &Filter) -> Cursor {
        if !filter.selective {
            let (first, last) = match filter.kind {
                Some(kind) => ((kind, 0), (kind, u64::MAX)),
                None => ((Kind::Account, 0), (Kind::Village, u64::MAX)),
            };
            return Cursor::Scan {
                next: Bound::Included(first),
                last,
            };
        }
        let of_kind = |key: &Key| filter.kind.is_none_or(|k| k == key.0);
        let mut keys: BTreeSet<Key> = filter.ids.iter().copied().filter(of_kind).collect();
        for &owner in &filter.owners {
            keys.extend(store.owned_by(owner).filter(of_kind));
        }
        Cursor::Keys(keys.into_iter().collect::<Vec<_>>().into_iter())
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self, Cursor::Done)
    }

    /// Appends the lines of up to [`CHUNK`] more entities to `out` and
    /// moves on; the cursor is [`Cursor::Done`] once nothing is left.
    pub(crate) fn fill(
        &mut self,
        store: &Store,
        filter: &Filter,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        match self {
            Cursor::Done => {}
            Cursor::Scan { next, last } => {
                let range = store.range_from(*next, *last);
                let mut written = 0;
                for (&key, entity) in range.take(CHUNK) {
                    entity.write_line(key.1, out)?;
                    *next = Bound::Excluded(key);
                    written += 1;
                }
                if written < CHUNK {
                    *self = Cursor::Done;
                }
            }
            Cursor::Keys(keys) => {
                for key in keys.by_ref().take(CHUNK) {
                    if let Some(entity) = store.get(&key).filter(|e| filter.matches(&key, e)) {
                        entity.write_line(key.1, out)?;
                    }
                }
                if keys.len() == 0 {
                    *self = Cursor::Done;
                }
            }
        }
        Ok(())
    }
}
