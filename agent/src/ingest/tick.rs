//! The tick heartbeat: when the world last ticked and how often it usually does.
//!
//! Every `tick.duration` sample is one tick. The listener threads call
//! [`TickWatch::observe`] once per datagram that carried ticks, and the health
//! part of the agent reads it to detect a stall. Atomics rather than a lock:
//! readers must never slow a listener absorbing a flood, and two listeners
//! (UDP and Unix) may observe at the same time.
//!
//! The interval is learned from arrivals, not from the world's own clock: a
//! client that batches 3 ticks per datagram every 150 ms ticks every 50 ms,
//! and one that samples `tick.duration` at 0.1 is heard from every 10 ticks,
//! which is what stall detection has to wait for.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Weight of a new inter-arrival sample in the average: 1/8.
const EWMA_SHIFT: u32 = 3;
/// A gap longer than this many usual intervals enters the average capped.
/// A stall is exactly such a gap, and letting it in would raise the stall
/// threshold right after one; a world that really slows down still moves
/// the average up by ×1.4 per tick.
const MAX_SAMPLE_FACTOR: u64 = 4;

#[derive(Debug)]
pub struct TickWatch {
    epoch: Instant,
    /// Nanoseconds since `epoch` of the last tick, plus one; 0 = none yet.
    last: AtomicU64,
    /// Average nanoseconds between ticks; 0 = not known yet.
    interval: AtomicU64,
}

impl Default for TickWatch {
    fn default() -> Self {
        Self::new()
    }
}

impl TickWatch {
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            interval: AtomicU64::new(0),
        }
    }

    /// Notes `ticks` ticks that arrived together at `now`.
    pub fn observe(&self, now: Instant, ticks: u32) {
        if ticks == 0 {
            return;
        }
        let now_ns = self.nanos(now) + 1;
        // `fetch_max`: two listeners may race with their `now`s out of order.
        let prev = self.last.fetch_max(now_ns, Ordering::AcqRel);
        if prev == 0 || now_ns <= prev {
            return;
        }
        let sample = (now_ns - prev) / u64::from(ticks);
        let _ = self
            .interval
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |avg| {
                if avg == 0 {
                    return Some(sample.max(1));
                }
                let sample = sample.min(avg.saturating_mul(MAX_SAMPLE_FACTOR)) as i128;
                let avg = avg as i128;
                Some((avg + ((sample - avg) >> EWMA_SHIFT)).max(1) as u64)
            });
    }

    /// Time since the last tick, if one was ever seen.
    pub fn last_tick_age(&self, now: Instant) -> Option<Duration> {
        match self.last.load(Ordering::Acquire) {
            0 => None,
            last => Some(Duration::from_nanos(
                self.nanos(now).saturating_sub(last - 1),
            )),
        }
    }

    /// The usual time between ticks, once two tick arrivals were seen.
    pub fn usual_interval(&self) -> Option<Duration> {
        match self.interval.load(Ordering::Acquire) {
            0 => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    fn nanos(&self, t: Instant) -> u64 {
        // u64 nanoseconds last 584 years of uptime.
        t.saturating_duration_since(self.epoch)
            .as_nanos()
            .min(u128::from(u64::MAX - 1)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn nothing_known_before_ticks() {
        let w = TickWatch::new();
        let t0 = Instant::now();
        w.observe(t0, 0);
        assert_eq!(w.last_tick_age(t0), None);
        assert_eq!(w.usual_interval(), None);
        w.observe(t0, 1);
        assert_eq!(w.last_tick_age(t0 + 30 * MS), Some(30 * MS));
        assert_eq!(w.usual_interval(), None, "one arrival has no interval");
    }

    #[test]
    fn steady_ticks_learn_the_interval() {
        let w = TickWatch::new();
        let t0 = Instant::now();
        for i in 0..20 {
            w.observe(t0 + i * 50 * MS, 1);
        }
        assert_eq!(w.usual_interval(), Some(50 * MS));
    }

    #[test]
    fn batched_ticks_divide_the_gap() {
        let w = TickWatch::new();
        let t0 = Instant::now();
        for i in 0..10 {
            w.observe(t0 + i * 150 * MS, 3);
        }
        assert_eq!(w.usual_interval(), Some(50 * MS));
    }

    #[test]
    fn a_stall_does_not_inflate_the_interval_much_but_a_slowdown_is_learned() {
        let w = TickWatch::new();
        let t0 = Instant::now();
        for i in 0..10 {
            w.observe(t0 + i * 50 * MS, 1);
        }
        let resumed = t0 + 450 * MS + Duration::from_secs(30);
        w.observe(resumed, 1);
        let after_stall = w.usual_interval().unwrap();
        assert!(after_stall <= 75 * MS, "{after_stall:?}");
        assert_eq!(w.last_tick_age(resumed), Some(Duration::ZERO));

        let mut t = resumed;
        for _ in 0..40 {
            t += 1000 * MS;
            w.observe(t, 1);
        }
        let slow = w.usual_interval().unwrap();
        assert!(slow > 900 * MS && slow <= 1000 * MS, "{slow:?}");
    }

    #[test]
    fn out_of_order_observations_keep_the_latest() {
        let w = TickWatch::new();
        let t0 = Instant::now();
        w.observe(t0 + 100 * MS, 1);
        w.observe(t0 + 50 * MS, 1);
        assert_eq!(w.last_tick_age(t0 + 100 * MS), Some(Duration::ZERO));
        assert_eq!(w.usual_interval(), None);
    }
}
