//! The time series of [`Counts`] of one (world, SLO), at three resolutions.
//!
//! - **Seconds**, the last ~2 minutes: acute alerts need a failure burst
//!   within seconds, not minutes.
//! - **Minutes**, the last 6 h and a margin: the burn-rate windows (5m, 30m,
//!   1h, 6h) where a minute of edge error is small.
//! - **Hours**, the SLO period and a margin: the error budget and the 3-day
//!   ticket window. Minutes for 30 days would cost 43,200 buckets a series;
//!   hours cost 722 (see [`Series::heap_bytes`]).
//!
//! Each resolution is a ring of fixed size, allocated once, so memory does
//! not grow with time or traffic: about 19 KB per series for a 30-day SLO.
//!
//! # Windows and their edges
//!
//! A sample stands for the report that ended just after it (reports are
//! recorded at `end_ms - 1`). `sum(now, w)` adds the samples in
//! `[now - w, now)` from the finest ring that holds the whole window. The
//! bucket that straddles the window's start is counted pro rata of the part
//! inside the window, as if its events were spread evenly over the bucket;
//! the newest bucket is counted whole, since it holds nothing past `now`.
//! The error is thus at most a share of one bucket at the far edge, and the
//! sum moves smoothly as time passes instead of jumping once a bucket.
//! Windows longer than the hour ring are clamped to it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Counts;

const SECOND_MS: u64 = 1000;
const MINUTE_MS: u64 = 60 * SECOND_MS;
const HOUR_MS: u64 = 60 * MINUTE_MS;
/// Answers windows up to 127 s.
const SECOND_SLOTS: usize = 128;
/// Answers windows up to 6 h 5 min.
const MINUTE_SLOTS: usize = 6 * 60 + 6;
/// A year and a margin (about 140 KB): an absurd period in config must not
/// allocate gigabytes per world. Longer windows are clamped to this.
const MAX_HOUR_SLOTS: usize = 366 * 24 + 2;

/// A bucket a ring gained events in or dropped: what a sum of series (the
/// fleet's, see [`super::fleet`]) needs to follow one series exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// `counts` were added to bucket `k` of ring `ring` (0 seconds, 1
    /// minutes, 2 hours); `fresh` when the bucket held nothing before.
    Added {
        ring: usize,
        k: u64,
        counts: Counts,
        fresh: bool,
    },
    /// Bucket `k`, which held `counts`, left the ring.
    Dropped { ring: usize, k: u64, counts: Counts },
}

/// One (world, SLO) at seconds, minutes and hours.
#[derive(Clone, Debug)]
pub struct Series {
    seconds: Ring,
    minutes: Ring,
    hours: Ring,
}

/// The minutes and hours of a [`Series`] as checkpoints before chunks
/// wrote them (one JSON document for every series): read at start so a
/// collector upgraded in place keeps its history. The seconds are only for
/// acute alerts and refill within two minutes of a restart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesState {
    pub minutes: RingState,
    pub hours: RingState,
}

impl SeriesState {
    /// End of the newest non-empty bucket: when the series last saw data,
    /// to a minute's precision.
    /// Start of the oldest bucket holding any event.
    pub fn oldest_ms(&self) -> Option<u64> {
        [(&self.minutes, MINUTE_MS), (&self.hours, HOUR_MS)]
            .into_iter()
            .filter_map(|(ring, res_ms)| {
                let n = ring.total.iter().position(|t| *t != 0.0)? as u64;
                Some(ring.start_ms.saturating_add(n.saturating_mul(res_ms)))
            })
            .min()
    }

    pub fn newest_ms(&self) -> Option<u64> {
        [(&self.minutes, MINUTE_MS), (&self.hours, HOUR_MS)]
            .into_iter()
            .filter_map(|(ring, res_ms)| {
                let n = ring.total.iter().rposition(|t| *t != 0.0)? as u64 + 1;
                Some(ring.start_ms.saturating_add(n.saturating_mul(res_ms)))
            })
            .min()
    }
}

/// Consecutive buckets from `start_ms`. Bad rather than good events are kept
/// because they are almost always zero, which serialises in three bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RingState {
    pub start_ms: u64,
    pub total: Vec<f64>,
    pub bad: Vec<f64>,
}

impl Series {
    /// A series holding hour buckets for `period` (the SLO's) and a margin.
    pub fn new(period: Duration) -> Series {
        let hours = period.as_millis().div_ceil(u128::from(HOUR_MS));
        let hours = usize::try_from(hours)
            .unwrap_or(usize::MAX)
            .saturating_add(2)
            .min(MAX_HOUR_SLOTS);
        Series {
            seconds: Ring::new(SECOND_MS, SECOND_SLOTS),
            minutes: Ring::new(MINUTE_MS, MINUTE_SLOTS),
            hours: Ring::new(HOUR_MS, hours),
        }
    }

    /// Adds `counts` at `at_ms` to every ring that still holds that time;
    /// samples older than a ring's retention are dropped from that ring only.
    pub fn add(&mut self, at_ms: u64, counts: Counts) {
        self.add_telling(at_ms, counts, &mut |_| {});
    }

    /// [`Series::add`], telling `tell` of every bucket changed.
    pub fn add_telling(&mut self, at_ms: u64, counts: Counts, tell: &mut impl FnMut(Change)) {
        for (i, ring) in self.rings_mut().into_iter().enumerate() {
            ring.add_telling(at_ms, counts, &mut |k, change| tell(change.at(i, k)));
        }
    }

    /// Every bucket holding events, as [`Change::Dropped`]: what removing
    /// the series takes away from a sum.
    pub fn drain(&self, tell: &mut impl FnMut(Change)) {
        for (i, ring) in [&self.seconds, &self.minutes, &self.hours]
            .into_iter()
            .enumerate()
        {
            for (k, counts) in ring.held() {
                tell(Change::Dropped { ring: i, k, counts });
            }
        }
    }

    fn rings_mut(&mut self) -> [&mut Ring; 3] {
        [&mut self.seconds, &mut self.minutes, &mut self.hours]
    }

    /// Bucket sizes and counts of the three rings: a sum of such series
    /// answers windows with the same rings.
    pub fn shape(&self) -> [(u64, u64); 3] {
        [&self.seconds, &self.minutes, &self.hours].map(|r| (r.res_ms, r.len()))
    }

    /// Sum over `[now_ms - window, now_ms)`; see the module doc for edges.
    pub fn sum(&self, now_ms: u64, window: Duration) -> Counts {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let ring = [&self.seconds, &self.minutes]
            .into_iter()
            .find(|r| window_ms <= r.reach_ms())
            .unwrap_or(&self.hours);
        ring.sum(now_ms, window_ms)
    }

    /// Forgets buckets that have left their ring's retention at `now_ms`, so
    /// a late sample can no longer land in them.
    pub fn prune(&mut self, now_ms: u64) {
        self.prune_telling(now_ms, &mut |_| {});
    }

    /// [`Series::prune`], telling `tell` of every bucket dropped.
    pub fn prune_telling(&mut self, now_ms: u64, tell: &mut impl FnMut(Change)) {
        if let Some(last) = now_ms.checked_sub(1) {
            for (i, ring) in self.rings_mut().into_iter().enumerate() {
                let k = last / ring.res_ms;
                ring.advance(k, &mut |k, change| tell(change.at(i, k)));
            }
        }
    }

    /// A series with the minute and hour buckets of `state` (values
    /// sanitised, buckets past retention dropped) and empty seconds.
    pub fn import(period: Duration, state: &SeriesState) -> Series {
        Series::import_telling(period, state, &mut |_| {})
    }

    /// [`Series::import`], telling `tell` of every bucket filled.
    pub fn import_telling(
        period: Duration,
        state: &SeriesState,
        tell: &mut impl FnMut(Change),
    ) -> Series {
        let mut series = Series::new(period);
        series
            .minutes
            .import(&state.minutes, &mut |k, c| tell(c.at(1, k)));
        series
            .hours
            .import(&state.hours, &mut |k, c| tell(c.at(2, k)));
        series
    }

    /// Heap memory held, in bytes: fixed for the life of the series.
    pub fn heap_bytes(&self) -> usize {
        [&self.seconds, &self.minutes, &self.hours]
            .iter()
            .map(|r| r.slots.capacity() * std::mem::size_of::<Counts>())
            .sum()
    }
}

/// A ring of buckets of `res_ms`; bucket `k` covers `[k·res, (k+1)·res)` and
/// lives in slot `k % len` while `head - len < k <= head`.
#[derive(Clone, Debug)]
struct Ring {
    res_ms: u64,
    /// Index of the newest bucket, `None` until the first sample.
    head: Option<u64>,
    slots: Vec<Counts>,
    /// Chunks changed since the last checkpoint took them, as the lowest
    /// and highest chunk index (see [`chunks`]).
    dirty: Option<(u64, u64)>,
    /// The lowest chunk that may still be in the store: what the next
    /// checkpoint deletes up to the ring's oldest bucket.
    floor: Option<u64>,
}

impl Ring {
    fn new(res_ms: u64, len: usize) -> Ring {
        Ring {
            res_ms,
            head: None,
            slots: vec![Counts::default(); len.max(2)],
            dirty: None,
            floor: None,
        }
    }

    fn len(&self) -> u64 {
        self.slots.len() as u64
    }

    /// Longest window this ring can sum: one bucket is kept for the partly
    /// covered edge.
    fn reach_ms(&self) -> u64 {
        (self.len() - 1).saturating_mul(self.res_ms)
    }

    fn slot(&self, k: u64) -> usize {
        (k % self.len()) as usize
    }

    #[cfg(test)]
    fn add(&mut self, at_ms: u64, counts: Counts) {
        self.add_telling(at_ms, counts, &mut |_, _| {});
    }

    fn add_telling(&mut self, at_ms: u64, counts: Counts, tell: &mut impl FnMut(u64, RingChange)) {
        let k = at_ms / self.res_ms;
        match self.head {
            // Out of order (a replayed spool): still inside the ring, or
            // too old and gone.
            Some(head) if k <= head => {
                if head - k >= self.len() {
                    return;
                }
            }
            _ => self.advance(k, tell),
        }
        let slot = self.slot(k);
        let fresh = is_empty(self.slots[slot]);
        self.slots[slot] += counts;
        if !is_empty(counts) {
            self.touch(k);
            tell(k, RingChange::Added(counts, fresh));
        }
    }

    /// Moves the head forward to bucket `k`, emptying the slots it reuses.
    fn advance(&mut self, k: u64, tell: &mut impl FnMut(u64, RingChange)) {
        match self.head {
            Some(head) if k <= head => return,
            Some(head) if k - head < self.len() => {
                for j in head + 1..=k {
                    let slot = self.slot(j);
                    let gone = std::mem::take(&mut self.slots[slot]);
                    // Slot `j % len` held bucket `j - len`.
                    if let (false, Some(old)) = (is_empty(gone), j.checked_sub(self.len())) {
                        tell(old, RingChange::Dropped(gone));
                    }
                }
            }
            Some(_) => {
                for (j, gone) in self.held() {
                    tell(j, RingChange::Dropped(gone));
                }
                self.slots.fill(Counts::default());
            }
            None => {}
        }
        self.head = Some(k);
    }

    /// The buckets holding events, oldest first.
    fn held(&self) -> impl Iterator<Item = (u64, Counts)> + '_ {
        let (first, last) = match self.head {
            Some(head) => ((head + 1).saturating_sub(self.len()), head + 1),
            None => (0, 0),
        };
        (first..last)
            .map(|k| (k, self.slots[self.slot(k)]))
            .filter(|(_, c)| !is_empty(*c))
    }

    fn sum(&self, now_ms: u64, window_ms: u64) -> Counts {
        let (Some(head), Some(end_ms)) = (self.head, now_ms.checked_sub(1)) else {
            return Counts::default();
        };
        if window_ms == 0 {
            return Counts::default();
        }
        let start_ms = now_ms.saturating_sub(window_ms);
        let (first, last) = (start_ms / self.res_ms, end_ms / self.res_ms);
        let oldest = (head + 1).saturating_sub(self.len());
        let (mut k, to) = (first.max(oldest), last.min(head));
        let mut acc = Counts::default();
        if k > to {
            return acc;
        }
        if k == first && first < last {
            let inside = (first + 1).saturating_mul(self.res_ms) - start_ms;
            acc += self.slots[self.slot(k)].scaled(inside as f64 / self.res_ms as f64);
            k += 1;
        }
        // The rest in order as at most two runs of slots: a modulo per
        // bucket was most of the cost of summing a 30-day window (720
        // buckets), which a scrape does for every world and SLO.
        let (start, count) = (self.slot(k), (to + 1).saturating_sub(k) as usize);
        let wrapped = (start + count).saturating_sub(self.slots.len());
        let (tail, head_run) = (
            &self.slots[start..start + count - wrapped],
            &self.slots[..wrapped],
        );
        for counts in tail.iter().chain(head_run) {
            acc += *counts;
        }
        acc
    }

    fn import(&mut self, state: &RingState, tell: &mut impl FnMut(u64, RingChange)) {
        for (i, (total, bad)) in state.total.iter().zip(&state.bad).enumerate() {
            let at_ms = (i as u64)
                .saturating_mul(self.res_ms)
                .saturating_add(state.start_ms);
            self.add_telling(at_ms, Counts::clamped(total - bad, *total), tell);
        }
    }
}

/// A [`Change`] before the ring's place in the series is known.
#[derive(Clone, Copy)]
enum RingChange {
    Added(Counts, bool),
    Dropped(Counts),
}

impl RingChange {
    fn at(self, ring: usize, k: u64) -> Change {
        match self {
            RingChange::Added(counts, fresh) => Change::Added {
                ring,
                k,
                counts,
                fresh,
            },
            RingChange::Dropped(counts) => Change::Dropped { ring, k, counts },
        }
    }
}

/// Counts are never negative, so an empty bucket is exactly zero.
fn is_empty(c: Counts) -> bool {
    c.total == 0.0 && c.good == 0.0
}

#[path = "series_chunks.rs"]
pub mod chunks;

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;
