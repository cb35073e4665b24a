//! Waits between retries: doubling from a floor to a cap, each one
//! shortened by a random share of up to half ("equal jitter"). A fleet of
//! agents cut off from the collector at once (a collector restart, a
//! network blip) then comes back spread over the wait instead of in one
//! storm of connections.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    /// xorshift state: jitter needs no quality, only spread.
    seed: u64,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        // RandomState is seeded by the OS per process: agents started
        // in the same instant still draw different waits.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u8(0);
        Self {
            min,
            max: max.max(min),
            next: min,
            seed: h.finish() | 1,
        }
    }

    /// The wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let share = (self.seed % 1024) as f64 / 2048.0;
        base.mul_f64(1.0 - share)
    }

    /// After an attempt that worked: the next failure waits the floor.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_at_most_half_taken_off() {
        let (min, max) = (Duration::from_millis(100), Duration::from_millis(1000));
        let mut b = Backoff::new(min, max);
        let mut seen = std::collections::BTreeSet::new();
        for base in [100, 200, 400, 800, 1000, 1000, 1000, 1000] {
            let d = b.next_delay();
            let base = Duration::from_millis(base);
            assert!(d <= base && d >= base / 2, "{d:?} for base {base:?}");
            seen.insert(d);
        }
        assert!(seen.len() > 4, "jittered, not a fixed sequence: {seen:?}");
        b.reset();
        assert!(b.next_delay() <= min);
    }
}
