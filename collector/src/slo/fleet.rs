//! The fleet-wide series of one SLO: every world's series added up, kept as
//! samples arrive, so a fleet window costs the same at 10,000 worlds as at
//! one (summing every world at each evaluation was the collector's largest
//! cost per world).
//!
//! It follows the worlds' rings bucket by bucket ([`Change`]): a sample a
//! world's ring takes is added to the same bucket here, and a bucket a
//! world's ring drops (its head moved on, it was pruned, the world was
//! forgotten) is taken out again. So the fleet holds exactly the buckets the
//! worlds hold, however late, early or far in the future a world's samples
//! are: one agent with its clock an hour ahead empties its own world's rings,
//! not the fleet's. Buckets are kept sparse, by absolute index, because the
//! worlds' rings need not agree on where their heads are.
//!
//! Each bucket also counts the worlds holding events in it; when that falls
//! to zero the bucket is removed, so subtracting floats never leaves a
//! residue such as 1e-17 events that would read as a 0 % SLI.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Counts;
use super::series::{Change, Series};

#[derive(Clone, Debug)]
pub struct FleetSeries {
    rings: [Sparse; 3],
}

#[derive(Clone, Debug)]
struct Sparse {
    res_ms: u64,
    /// How many buckets a world's ring holds: which windows it answers.
    len: u64,
    /// Bucket index → (sum over worlds, worlds with events in it).
    buckets: BTreeMap<u64, (Counts, u32)>,
}

impl FleetSeries {
    /// An empty sum of series shaped like `like`.
    pub fn like(like: &Series) -> FleetSeries {
        FleetSeries {
            rings: like.shape().map(|(res_ms, len)| Sparse {
                res_ms,
                len,
                buckets: BTreeMap::new(),
            }),
        }
    }

    /// Follows one change of one world's series.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Added {
                ring,
                k,
                counts,
                fresh,
            } => {
                let b = self.rings[ring].buckets.entry(k).or_default();
                b.0 += counts;
                b.1 += u32::from(fresh);
            }
            Change::Dropped { ring, k, counts } => {
                let buckets = &mut self.rings[ring].buckets;
                if let Some(b) = buckets.get_mut(&k) {
                    b.0 += counts.scaled(-1.0);
                    b.1 = b.1.saturating_sub(1);
                    if b.1 == 0 {
                        buckets.remove(&k);
                    }
                }
            }
        }
    }

    /// Sum over `[now_ms - window, now_ms)`, with the ring and the edges of
    /// [`Series::sum`]: the sum of every world's `Series::sum`.
    pub fn sum(&self, now_ms: u64, window: Duration) -> Counts {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let ring = self.rings[..2]
            .iter()
            .find(|r| window_ms <= (r.len - 1).saturating_mul(r.res_ms))
            .unwrap_or(&self.rings[2]);
        ring.sum(now_ms, window_ms)
    }

    /// Buckets held, over all three resolutions (for tests and memory).
    #[cfg(test)]
    pub fn buckets(&self) -> usize {
        self.rings.iter().map(|r| r.buckets.len()).sum()
    }
}

impl Sparse {
    fn sum(&self, now_ms: u64, window_ms: u64) -> Counts {
        let Some(end_ms) = now_ms.checked_sub(1) else {
            return Counts::default();
        };
        if window_ms == 0 {
            return Counts::default();
        }
        let start_ms = now_ms.saturating_sub(window_ms);
        let (first, last) = (start_ms / self.res_ms, end_ms / self.res_ms);
        let mut acc = Counts::default();
        for (&k, (counts, _)) in self.buckets.range(first..=last) {
            if k == first && first < last {
                let inside = (first + 1).saturating_mul(self.res_ms) - start_ms;
                acc += counts.scaled(inside as f64 / self.res_ms as f64);
            } else {
                acc += *counts;
            }
        }
        acc
    }
}
