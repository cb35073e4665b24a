//! DogStatsD ingest: the world's metrics in, one aggregated interval out.
//!
//! The world sends DogStatsD datagrams over UDP or a Unix datagram socket.
//! Each listener runs on its own OS thread with a blocking socket, so a flood
//! is absorbed by one core and never starves the agent's async runtime. Per
//! datagram a listener parses every line first, then takes the aggregator's
//! lock once to apply them.
//!
//! # Layout
//!
//! - [`parse`]: the zero-allocation line parser.
//! - [`aggregate`]: series keyed by (name, class, tags), drained per interval.
//! - [`tick`]: the tick heartbeat (`tick.duration` arrivals) for stall detection.
//! - [`socket`]: the UDP and Unix listener threads.
//! - [`kernel`]: datagrams the kernel dropped before we could read them.
//!
//! # Wiring
//!
//! The agent creates one [`Shared`], starts listeners with a common `stop`
//! flag, calls [`Shared::take_interval`] at every report, and at shutdown sets
//! `stop` and joins the threads (each notices within [`socket::POLL`]).

pub mod aggregate;
pub mod kernel;
pub mod parse;
pub mod socket;
pub mod tick;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use liveops_protocol::signal::TICK_DURATION;

pub use aggregate::{Aggregator, Interval, Rejected};
pub use parse::{Kind, Malformed, Metric};
pub use socket::{spawn_udp, spawn_unix};
pub use tick::TickWatch;

/// State shared by the listener threads and the rest of the agent.
#[derive(Debug)]
pub struct Shared {
    pub aggregate: Mutex<Aggregator>,
    pub stats: IngestStats,
    pub ticks: TickWatch,
}

/// Cumulative ingest counters (never reset), for the agent's `/metrics`. The
/// per-interval losses travel in [`Interval::losses`].
#[derive(Debug, Default)]
pub struct IngestStats {
    pub datagrams: AtomicU64,
    pub bytes: AtomicU64,
    /// Non-empty lines, whatever became of them.
    pub lines: AtomicU64,
    pub malformed_lines: AtomicU64,
    /// Sets, events and service checks: valid, but not aggregated.
    pub unsupported_lines: AtomicU64,
    pub series_overflow_lines: AtomicU64,
    /// Values dropped because they would have made a series NaN or
    /// infinite, plus any non-finite number scrubbed from a report.
    pub nonfinite_values: AtomicU64,
    pub recv_errors: AtomicU64,
    /// `SO_RCVBUF` as granted to the most recently started listener (Linux
    /// reports twice the usable size: it counts bookkeeping overhead).
    pub recv_buffer_bytes: AtomicU64,
}

/// A listener's reusable per-datagram line buffer; see [`Shared::ingest`].
#[derive(Debug, Default)]
pub struct LineBuf {
    metrics: Vec<Metric<'static>>,
}

impl Shared {
    pub fn new(max_series: usize) -> Self {
        Self {
            aggregate: Mutex::new(Aggregator::new(max_series)),
            stats: IngestStats::default(),
            ticks: TickWatch::new(),
        }
    }

    /// Parses and aggregates one datagram received at `now`.
    pub fn ingest(&self, datagram: &[u8], now: Instant, buf: &mut LineBuf) {
        self.ingest_datagram(datagram, false, now, buf);
    }

    /// Hands over the current interval and starts the next.
    pub fn take_interval(&self) -> Interval {
        self.aggregator().take()
    }

    /// A panic elsewhere while holding the lock leaves at worst a partly
    /// applied datagram; ingest goes on rather than dying with it.
    fn aggregator(&self) -> std::sync::MutexGuard<'_, Aggregator> {
        self.aggregate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `truncated`: the datagram filled the receive buffer, so its last line
    /// may be cut off; it is dropped and counted rather than half-recorded.
    fn ingest_datagram(
        &self,
        mut datagram: &[u8],
        truncated: bool,
        now: Instant,
        buf: &mut LineBuf,
    ) {
        let stats = &self.stats;
        stats.datagrams.fetch_add(1, Relaxed);
        stats.bytes.fetch_add(datagram.len() as u64, Relaxed);
        let mut malformed = 0u64;
        if truncated {
            let whole = datagram.iter().rposition(|b| *b == b'\n').unwrap_or(0);
            datagram = &datagram[..whole];
            malformed += 1;
            stats.lines.fetch_add(1, Relaxed);
        }

        let mut metrics = recycle(std::mem::take(&mut buf.metrics));
        let (mut lines, mut unsupported, mut ticks) = (0u64, 0u64, 0u32);
        for line in parse::lines(datagram) {
            lines += 1;
            match parse::parse_line(line) {
                Ok(parse::Line::Metric(m)) => {
                    // Ticks count whether or not the series fits under the
                    // limit: liveness must not depend on the metric budget.
                    if m.kind.class() == parse::Class::Histogram
                        && m.name == TICK_DURATION.as_bytes()
                    {
                        ticks = ticks.saturating_add(m.value_count());
                    }
                    metrics.push(m);
                }
                Ok(parse::Line::Unsupported(_)) => unsupported += 1,
                Err(_) => malformed += 1,
            }
        }

        let parser_malformed = malformed;
        let (mut overflow, mut nonfinite) = (0u64, 0u64);
        {
            let mut agg = self.aggregator();
            // `record` counts its own rejections in the interval's losses.
            agg.count_malformed(parser_malformed);
            for m in &metrics {
                match agg.record(m) {
                    Ok(dropped) => nonfinite += dropped,
                    Err(Rejected::SeriesLimit) => overflow += 1,
                    Err(Rejected::Malformed(_)) => malformed += 1,
                }
            }
        }
        buf.metrics = recycle(metrics);

        stats.lines.fetch_add(lines, Relaxed);
        for (counter, n) in [
            (&stats.malformed_lines, malformed),
            (&stats.unsupported_lines, unsupported),
            (&stats.series_overflow_lines, overflow),
            (&stats.nonfinite_values, nonfinite),
        ] {
            if n > 0 {
                counter.fetch_add(n, Relaxed);
            }
        }
        self.ticks.observe(now, ticks);
    }
}

/// Empties `v` and returns its allocation for borrows of another datagram.
/// (An empty `filter_map` collect reuses the buffer in place.)
#[expect(
    clippy::unnecessary_filter_map,
    reason = "`filter` cannot change the item's lifetime"
)]
fn recycle<'b>(v: Vec<Metric<'_>>) -> Vec<Metric<'b>> {
    v.into_iter().filter_map(|_| None).collect()
}

#[cfg(test)]
mod bench;

#[cfg(test)]
#[path = "ingest_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &AtomicU64) -> u64 {
        s.load(Relaxed)
    }

    #[test]
    fn a_datagram_is_counted_line_by_line() {
        let shared = Shared::new(2);
        let mut buf = LineBuf::default();
        let now = Instant::now();
        let d = b"a:1|c\n\nbad\nb:2|g|#x\r\nc:1|c\n_e{1,1}:t|x\n_sc|db|0\ns:v|s\nb:3|g|#x:\n:1|c\n";
        shared.ingest(d, now, &mut buf);
        let s = &shared.stats;
        assert_eq!((load(&s.datagrams), load(&s.bytes)), (1, d.len() as u64));
        assert_eq!(load(&s.lines), 9);
        assert_eq!(load(&s.malformed_lines), 2);
        assert_eq!(load(&s.unsupported_lines), 3);
        assert_eq!(load(&s.series_overflow_lines), 1, "c is a third series");
        let out = shared.take_interval();
        assert_eq!(out.losses.malformed_lines, 2);
        assert_eq!(out.losses.series_overflow_lines, 1);
        assert_eq!(out.gauges[0].value, 3.0);
        // Cumulative stats survive the interval; losses restart.
        shared.ingest(b"zz", now, &mut buf);
        assert_eq!(load(&s.malformed_lines), 3);
        assert_eq!(shared.take_interval().losses.malformed_lines, 1);
    }

    #[test]
    fn non_finite_values_are_counted_cumulatively_and_per_interval() {
        let shared = Shared::new(10);
        let mut buf = LineBuf::default();
        let now = Instant::now();
        shared.ingest(b"request:1e308|c\nrequest:1e308|c", now, &mut buf);
        shared.ingest(b"request:1e308|c\nlat:1|ms|@1e-320", now, &mut buf);
        assert_eq!(load(&shared.stats.nonfinite_values), 3);
        let out = shared.take_interval();
        assert_eq!(out.losses.nonfinite_values, 3);
        assert_eq!(out.counters[0].value, 1e308);
        assert_eq!(load(&shared.stats.malformed_lines), 0);
    }

    #[test]
    fn a_truncated_datagram_loses_only_its_last_line() {
        let shared = Shared::new(10);
        let mut buf = LineBuf::default();
        let now = Instant::now();
        shared.ingest_datagram(b"a:1|c\nb:1|c|#op:mar", true, now, &mut buf);
        shared.ingest_datagram(b"c:1|c|#op:mar", true, now, &mut buf);
        let out = shared.take_interval();
        assert_eq!(out.counters.len(), 1);
        assert_eq!(out.counters[0].name, "a");
        assert_eq!(out.losses.malformed_lines, 2);
        assert_eq!(load(&shared.stats.lines), 3);
    }

    #[test]
    fn ticks_are_counted_per_value_and_beyond_the_series_limit() {
        let shared = Shared::new(1);
        let mut buf = LineBuf::default();
        let t0 = Instant::now();
        let ms = std::time::Duration::from_millis;
        shared.ingest(b"other:1|c\ntick.duration:48|ms", t0, &mut buf);
        assert_eq!(shared.ticks.last_tick_age(t0), Some(ms(0)));
        // Three ticks 150 ms later: 50 ms each. `c`/`g` named tick.duration
        // are not ticks.
        shared.ingest(
            b"tick.duration:1:2|d\ntick.duration:3|h\ntick.duration:1|c",
            t0 + ms(150),
            &mut buf,
        );
        assert_eq!(shared.ticks.usual_interval(), Some(ms(50)));
        shared.ingest(b"tick.duration:1|g", t0 + ms(400), &mut buf);
        assert_eq!(shared.ticks.last_tick_age(t0 + ms(400)), Some(ms(250)));
    }

    #[test]
    fn the_line_buffer_keeps_its_allocation() {
        let shared = Shared::new(10);
        let mut buf = LineBuf::default();
        shared.ingest(&b"a:1|c\n".repeat(20), Instant::now(), &mut buf);
        let cap = buf.metrics.capacity();
        assert!(cap >= 20 && buf.metrics.is_empty());
        shared.ingest(b"a:1|c", Instant::now(), &mut buf);
        assert_eq!(buf.metrics.capacity(), cap);
    }
}
