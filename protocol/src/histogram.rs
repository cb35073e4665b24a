//! Mergeable latency histograms.
//!
//! Every agent uses the same fixed bucket bounds, so histograms from many
//! worlds and many seconds add up bucket by bucket with no loss. Quantile
//! sketches that cannot be merged exactly (summaries) would make fleet-wide
//! latency SLIs approximate; fixed buckets make "share of events under the
//! threshold" exact whenever the threshold is a bucket bound, which config
//! validation enforces.

use serde::{Deserialize, Serialize};

/// Upper bounds (inclusive, milliseconds) of the finite buckets. A final
/// implicit bucket holds everything above the last bound.
///
/// Dense where game SLO thresholds sit (tick budgets of 50–500 ms, login in
/// 100 ms–2 s) and coarse in the tail, which only needs to be counted.
pub const BUCKET_BOUNDS_MS: [f64; 28] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 75.0, 100.0, 125.0, 150.0,
    200.0, 250.0, 300.0, 400.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0, 2500.0, 5000.0, 10000.0,
    30000.0,
];

/// Number of buckets including the overflow bucket.
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;

/// Index of the bucket bound equal to `ms`, if `ms` is one.
pub fn bound_index(ms: f64) -> Option<usize> {
    BUCKET_BOUNDS_MS.iter().position(|b| *b == ms)
}

/// Counts per bucket plus the exact sum and count, in milliseconds.
///
/// Counts are `f64` because DogStatsD sample rates weight each sample by
/// `1/rate`; a sampled value stands for several events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// One count per bucket; `counts[BUCKETS - 1]` is the overflow bucket.
    pub counts: Vec<f64>,
    pub sum: f64,
    pub count: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0.0; BUCKETS],
            sum: 0.0,
            count: 0.0,
        }
    }
}

impl Histogram {
    /// Records `value_ms` standing for `weight` events.
    pub fn record(&mut self, value_ms: f64, weight: f64) {
        let idx = BUCKET_BOUNDS_MS.partition_point(|b| *b < value_ms);
        self.counts[idx] += weight;
        self.sum += value_ms * weight;
        self.count += weight;
    }

    /// Adds `other` into `self`. Histograms with a different bucket layout
    /// (a malformed report) are refused rather than merged wrongly.
    pub fn merge(&mut self, other: &Histogram) -> Result<(), BucketMismatch> {
        if other.counts.len() != self.counts.len() {
            return Err(BucketMismatch {
                expected: self.counts.len(),
                got: other.counts.len(),
            });
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.sum += other.sum;
        self.count += other.count;
        Ok(())
    }

    /// Events at or under `bound_ms`, exact when `bound_ms` is a bucket bound.
    pub fn count_le(&self, bound_ms: f64) -> f64 {
        let idx = BUCKET_BOUNDS_MS.partition_point(|b| *b <= bound_ms);
        self.counts[..idx.min(self.counts.len())].iter().sum()
    }

    /// Whether the layout matches this build's bucket bounds.
    pub fn is_well_formed(&self) -> bool {
        self.counts.len() == BUCKETS && self.counts.iter().all(|c| c.is_finite() && *c >= 0.0)
    }
}

/// A histogram with another bucket layout than this build's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketMismatch {
    pub expected: usize,
    pub got: usize,
}

impl std::fmt::Display for BucketMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "histogram has {} buckets, expected {}",
            self.got, self.expected
        )
    }
}

impl std::error::Error for BucketMismatch {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_the_bucket_whose_bound_is_at_or_above_them() {
        let cases = [
            (0.0, 0),
            (1.0, 0),
            (1.5, 1),
            (250.0, 16),
            (250.1, 17),
            (30000.0, 27),
            (1e9, 28),
        ];
        for (v, idx) in cases {
            let mut h = Histogram::default();
            h.record(v, 1.0);
            assert_eq!(h.counts[idx], 1.0, "value {v}");
        }
    }

    #[test]
    fn count_le_is_exact_at_bounds() {
        let mut h = Histogram::default();
        for v in [10.0, 50.0, 250.0, 250.5, 900.0] {
            h.record(v, 1.0);
        }
        assert_eq!(h.count_le(250.0), 3.0);
        assert_eq!(h.count_le(1000.0), 5.0);
        assert_eq!(h.count_le(0.5), 0.0);
    }

    #[test]
    fn merge_adds_and_refuses_other_layouts() {
        let mut a = Histogram::default();
        a.record(20.0, 2.0);
        let mut b = Histogram::default();
        b.record(20.0, 1.0);
        b.record(5000.0, 1.0);
        a.merge(&b).unwrap();
        assert_eq!(a.count, 4.0);
        assert_eq!(a.sum, 20.0 * 3.0 + 5000.0);
        let bad = Histogram {
            counts: vec![1.0; 3],
            sum: 0.0,
            count: 3.0,
        };
        assert!(a.merge(&bad).is_err());
    }
}
