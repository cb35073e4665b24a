//! A series' minutes and hours as the checkpoint writes them: in chunks of
//! [`CHUNK`] consecutive buckets, only those changed since the last
//! checkpoint.
//!
//! A full checkpoint wrote every bucket of every series each time: at ten
//! thousand worlds, five SLOs and a 30-day period that is about 900 MB
//! every 30 s, most of it unchanged since the last one. Between two
//! checkpoints a reporting world changes one or two minute buckets and one
//! hour bucket per series, so writing changed chunks only costs a few
//! hundred bytes per series instead.
//!
//! Chunk `c` of a ring holds buckets `c·CHUNK .. (c+1)·CHUNK` by absolute
//! index, so a chunk written once is overwritten in place, never shifted.
//! Buckets of a chunk outside the ring's live range are written as empty.
//! A chunk that left the ring's retention is deleted by the next checkpoint
//! (the ring's floor), and a restore skips what is too old anyway.

use super::{Counts, Ring, Series};

/// Buckets per chunk: 16 minutes or 16 hours, 256 bytes.
pub const CHUNK: usize = 16;
/// Bytes of an encoded chunk: `good` and `total` of each bucket, f64 LE.
pub const CHUNK_BYTES: usize = CHUNK * 16;

/// The persisted rings of a series, as stored: 1 minutes, 2 hours (the
/// numbering of [`super::Change`]). Seconds refill within two minutes.
pub const PERSISTED: [u8; 2] = [1, 2];

/// What a checkpoint does to one ring's chunks.
// Handed over one at a time, never stored: the size difference costs no
// memory.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub enum ChunkOp {
    /// Write chunk `chunk` of ring `ring`.
    Put {
        ring: u8,
        chunk: u64,
        bytes: [u8; CHUNK_BYTES],
    },
    /// Delete the ring's chunks in `from..to`: they left its retention.
    Drop { ring: u8, from: u64, to: u64 },
}

/// A stored chunk that cannot be read back.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadChunk {
    #[error("ring {0} is not a persisted ring")]
    Ring(u8),
    #[error("{0} bytes, not {CHUNK_BYTES}")]
    Length(usize),
}

impl Series {
    /// The chunk writes and deletions since the last call; afterwards the
    /// series counts as clean.
    pub fn take_chunks(&mut self, out: &mut impl FnMut(ChunkOp)) {
        for ring in PERSISTED {
            self.ring_mut(ring)
                .expect("persisted rings exist")
                .take_chunks(ring, out);
        }
    }

    /// Marks every chunk holding events as changed: after a checkpoint that
    /// failed, the next one writes everything again.
    pub fn mark_all_changed(&mut self) {
        for ring in PERSISTED {
            let r = self.ring_mut(ring).expect("persisted rings exist");
            let held: Vec<u64> = r.held().map(|(k, _)| k).collect();
            for k in held {
                r.touch(k);
            }
        }
    }

    /// Forgets what changed (a series just restored from its chunks is
    /// what the store holds).
    pub fn mark_clean(&mut self) {
        for ring in PERSISTED {
            self.ring_mut(ring).expect("persisted rings exist").dirty = None;
        }
    }

    /// Adds a stored chunk back (values sanitised), telling `tell` of every
    /// bucket filled. Chunks of one ring must come oldest first, as the
    /// store's key order gives them.
    pub fn load_chunk(
        &mut self,
        ring: u8,
        chunk: u64,
        bytes: &[u8],
        tell: &mut impl FnMut(super::Change),
    ) -> Result<(), BadChunk> {
        if bytes.len() != CHUNK_BYTES {
            return Err(BadChunk::Length(bytes.len()));
        }
        let r = self.ring_mut(ring).ok_or(BadChunk::Ring(ring))?;
        let first = chunk.saturating_mul(CHUNK as u64);
        for (i, b) in bytes.chunks_exact(16).enumerate() {
            let f = |s: &[u8]| f64::from_le_bytes(s.try_into().expect("8 bytes"));
            let counts = Counts::clamped(f(&b[..8]), f(&b[8..]));
            if counts.total == 0.0 && counts.good == 0.0 {
                continue;
            }
            let at_ms = (first + i as u64).saturating_mul(r.res_ms);
            r.add_telling(at_ms, counts, &mut |k, c| tell(c.at(usize::from(ring), k)));
        }
        r.floor = Some(r.floor.map_or(chunk, |f| f.min(chunk)));
        Ok(())
    }

    /// Start of the oldest and of the newest bucket holding events, over
    /// the persisted rings: how far back a restored world reaches.
    pub fn held_span_ms(&self) -> Option<(u64, u64)> {
        [&self.minutes, &self.hours]
            .into_iter()
            .flat_map(|r| {
                let first = r.held().next().map(|(k, _)| k * r.res_ms);
                let last = r.held().last().map(|(k, _)| k * r.res_ms);
                first.zip(last)
            })
            .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }

    fn ring_mut(&mut self, ring: u8) -> Option<&mut Ring> {
        match ring {
            1 => Some(&mut self.minutes),
            2 => Some(&mut self.hours),
            _ => None,
        }
    }
}

impl Ring {
    /// Records that bucket `k` changed.
    pub(super) fn touch(&mut self, k: u64) {
        let c = k / CHUNK as u64;
        self.dirty = Some(self.dirty.map_or((c, c), |(lo, hi)| (lo.min(c), hi.max(c))));
    }

    fn take_chunks(&mut self, ring: u8, out: &mut impl FnMut(ChunkOp)) {
        let Some(head) = self.head else {
            self.dirty = None;
            return;
        };
        let oldest = (head + 1).saturating_sub(self.len());
        let live_floor = oldest / CHUNK as u64;
        if let Some(floor) = self.floor.filter(|f| *f < live_floor) {
            out(ChunkOp::Drop {
                ring,
                from: floor,
                to: live_floor,
            });
            self.floor = Some(live_floor);
        }
        let Some((lo, hi)) = self.dirty.take() else {
            return;
        };
        for chunk in lo.max(live_floor)..=hi.min(head / CHUNK as u64) {
            let mut bytes = [0; CHUNK_BYTES];
            let first = chunk * CHUNK as u64;
            for (i, b) in bytes.chunks_exact_mut(16).enumerate() {
                let k = first + i as u64;
                if k < oldest || k > head {
                    continue;
                }
                let c = self.slots[self.slot(k)];
                b[..8].copy_from_slice(&c.good.to_le_bytes());
                b[8..].copy_from_slice(&c.total.to_le_bytes());
            }
            out(ChunkOp::Put { ring, chunk, bytes });
            self.floor = Some(self.floor.map_or(chunk, |f| f.min(chunk)));
        }
    }
}
