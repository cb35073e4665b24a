//! Delays between reconnects: doubling from a floor to a cap, each one
//! shortened by a random share of up to half, so game servers restarted
//! together beside one agent do not reconnect in lockstep.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    /// xorshift state: jitter needs no quality, only spread.
    seed: u64,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self {
            min,
            max: max.max(min),
            next: min,
            seed: u64::from(nanos) | 1,
        }
    }

    /// The wait before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let share = (self.seed % 1024) as f64 / 2048.0;
        base.mul_f64(1.0 - share)
    }

    /// After a connection that worked: the next failure waits the floor.
    pub(crate) fn reset(&mut self) {
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
        let bases = [100, 200, 400, 800, 1000, 1000];
        for base in bases {
            let d = b.next_delay();
            let base = Duration::from_millis(base);
            assert!(d <= base && d >= base / 2, "{d:?} for base {base:?}");
        }
        b.reset();
        assert!(b.next_delay() <= min);
    }
}
