//! The engine's series in the store: one key per chunk of a ring of a
//! (world, SLO), written by each checkpoint only when it changed (see
//! [`super::series::chunks`] for why and how chunks are cut).
//!
//! Keys are `series/` + world + NUL + SLO name + NUL + ring (one byte) +
//! chunk (u64, big-endian), so the store's key order is world, SLO, ring,
//! then time: a restore reads each ring oldest first, and one range covers
//! a forgotten world. Names are checked ([`liveops_protocol::name`]), so
//! they hold no NUL.

use super::series::chunks::{BadChunk, CHUNK_BYTES, ChunkOp, PERSISTED};
use super::{Engine, World, move_first, world_mut};

/// Where the series live in the state tree.
pub const PREFIX: &[u8] = b"series/";

/// One change a checkpoint makes to the stored series.
// Nearly every op is a `Put`: boxing its bytes would add an allocation to
// each of them to shrink the rare `Delete`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub enum StoreOp {
    Put(Vec<u8>, [u8; CHUNK_BYTES]),
    /// Delete every key in `from..to`.
    Delete(Vec<u8>, Vec<u8>),
}

/// What became of a stored chunk read back at start.
#[derive(Debug, PartialEq)]
pub enum Loaded {
    Added,
    /// Of an SLO no longer configured: the caller may delete it.
    Unconfigured,
}

/// A stored key or value that does not read back.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadKey {
    #[error("not a series chunk key")]
    Shape,
    #[error(transparent)]
    Chunk(#[from] BadChunk),
}

impl Engine {
    /// Every chunk changed since the last call, and every deletion due
    /// (chunks past retention, forgotten worlds). Meant to be called under
    /// the collector's lock, then written without it: it only copies.
    pub fn take_chunks(&mut self) -> Vec<StoreOp> {
        self.take_chunks_through(None, None)
    }

    /// One slice of a checkpoint: ages at most `limit` worlds after
    /// `after` in name order ([`Engine::prune_slice`]) and takes their
    /// chunks, with the deletions of every world forgotten since the last
    /// slice. Returns the last world of the slice: `None` once past the
    /// last. A checkpoint of ten thousand worlds is cut a slice at a time,
    /// so that no report waits for the whole fleet's copy.
    pub fn checkpoint_slice(
        &mut self,
        after: Option<&str>,
        limit: usize,
        now_ms: u64,
    ) -> (Vec<StoreOp>, Option<String>) {
        let last = self.prune_slice(after, limit, now_ms);
        // Past the last world (`None`), the range is empty: only the
        // deletions are left.
        (self.take_chunks_through(after, last.as_deref()), last)
    }

    /// [`Engine::take_chunks`] of the worlds after `after` up to and with
    /// `through` in name order (`None`: from the first; to the last).
    fn take_chunks_through(&mut self, after: Option<&str>, through: Option<&str>) -> Vec<StoreOp> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let mut ops = self.take_forgotten();
        let range = (
            after.map_or(Unbounded, Excluded),
            through.map_or(Unbounded, Included),
        );
        // A reporting world changes about one chunk of each persisted ring
        // of each series between two checkpoints. Sized once: growing the
        // vector copies it while every report waits for the lock.
        let worlds = self.worlds.range::<str, _>(range).count();
        ops.reserve(worlds * self.slos.len() * PERSISTED.len());
        for (name, world) in self.worlds.range_mut::<str, _>(range) {
            for (slo, series) in self.slos.iter().zip(&mut world.series) {
                series.take_chunks(&mut |op| {
                    ops.push(match op {
                        ChunkOp::Put { ring, chunk, bytes } => {
                            StoreOp::Put(key(name, &slo.name, ring, chunk), bytes)
                        }
                        ChunkOp::Drop { ring, from, to } => StoreOp::Delete(
                            key(name, &slo.name, ring, from),
                            key(name, &slo.name, ring, to),
                        ),
                    })
                });
            }
        }
        ops
    }

    /// The deletions of the worlds forgotten since the last call.
    fn take_forgotten(&mut self) -> Vec<StoreOp> {
        std::mem::take(&mut self.forgotten)
            .into_iter()
            .map(|world| {
                let from = world_prefix(&world);
                let mut to = from.clone();
                *to.last_mut().expect("prefix ends in NUL") = 1;
                StoreOp::Delete(from, to)
            })
            .collect()
    }

    /// After a checkpoint that was not written: the next one writes every
    /// series in full.
    pub fn mark_all_changed(&mut self) {
        for world in self.worlds.values_mut() {
            world.series.iter_mut().for_each(|s| s.mark_all_changed());
        }
    }

    /// Reads one stored chunk back (at start, before any report).
    pub fn load_chunk(&mut self, key: &[u8], value: &[u8]) -> Result<Loaded, BadKey> {
        let (world, slo, ring, chunk) = parse_key(key).ok_or(BadKey::Shape)?;
        let Some(i) = self.slos.iter().position(|s| s.name == slo) else {
            return Ok(Loaded::Unconfigured);
        };
        let w = world_mut(&mut self.worlds, &self.slos, world);
        let fleet = &mut self.fleet[i];
        w.series[i].load_chunk(ring, chunk, value, &mut |c| fleet.apply(c))?;
        Ok(Loaded::Added)
    }

    /// Ends a restore: each world's history is what its chunks hold, and
    /// nothing counts as changed (the store holds exactly this).
    pub fn finish_load(&mut self) {
        for world in self.worlds.values_mut() {
            restored_span(&mut self.firsts, world);
            world.series.iter_mut().for_each(|s| s.mark_clean());
        }
    }
}

/// Sets a restored world's first and last sample times from its buckets
/// (to the bucket: a restored world may be forgotten up to an hour early,
/// after a whole SLO period of silence).
fn restored_span(firsts: &mut std::collections::BTreeMap<u64, usize>, world: &mut World) {
    let span = world
        .series
        .iter()
        .filter_map(|s| s.held_span_ms())
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
    if let Some((first, last)) = span {
        world.last_ms = world.last_ms.max(last);
        move_first(firsts, world, first);
    }
}

fn world_prefix(world: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(PREFIX.len() + world.len() + 1);
    k.extend_from_slice(PREFIX);
    k.extend_from_slice(world.as_bytes());
    k.push(0);
    k
}

pub fn key(world: &str, slo: &str, ring: u8, chunk: u64) -> Vec<u8> {
    // Allocated once at its final size: a checkpoint builds one per chunk.
    let mut k = Vec::with_capacity(PREFIX.len() + world.len() + slo.len() + 11);
    k.extend_from_slice(PREFIX);
    k.extend_from_slice(world.as_bytes());
    k.push(0);
    k.extend_from_slice(slo.as_bytes());
    k.push(0);
    k.push(ring);
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

fn parse_key(k: &[u8]) -> Option<(&str, &str, u8, u64)> {
    let rest = k.strip_prefix(PREFIX)?;
    let (chunk, rest) = rest.split_last_chunk::<8>().map(|(r, c)| (c, r))?;
    let (ring, rest) = rest.split_last()?;
    let rest = rest.strip_suffix(&[0])?;
    let nul = rest.iter().position(|b| *b == 0)?;
    let world = std::str::from_utf8(&rest[..nul]).ok()?;
    let slo = std::str::from_utf8(&rest[nul + 1..]).ok()?;
    Some((world, slo, *ring, u64::from_be_bytes(*chunk)))
}

#[cfg(test)]
#[path = "persist_tests.rs"]
mod tests;
