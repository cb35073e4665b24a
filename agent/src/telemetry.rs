//! The agent's own `/metrics`: handles for every series it exports, all
//! labelled with the world. Names come from `liveops_telemetry::names`.
//!
//! The tick histogram is the exception to "handles from the registry": it is
//! the sum of the `tick.duration` histograms the reports carry, rendered
//! here, so `/metrics` and the collector's SLOs weigh sampled ticks by the
//! same rule (1/rate) instead of two rules that drift apart.

use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;

use liveops_protocol::histogram::BUCKET_BOUNDS_MS;
use liveops_protocol::{GaugeSeries, HistogramSeries, signal};
use liveops_telemetry::names::*;
use liveops_telemetry::{Counter, Gauge, Histogram, Registry};

use crate::ingest::IngestStats;

/// An exported counter and the ingest atomic it mirrors.
type Mirrored = (Counter, fn(&IngestStats) -> u64);

pub struct AgentMetrics {
    registry: Registry,
    pub reports_sent: Counter,
    pub report_failures: Counter,
    pub report_latency: Histogram,
    pub spool_reports: Gauge,
    pub spool_dropped: Counter,
    pub dead_letters: Gauge,
    pub dead_lettered: Counter,
    pub dead_letters_dropped: Counter,
    pub report_refused_parts: Counter,
    /// Every `tick.duration` histogram reported since start, summed.
    tick_duration: Mutex<liveops_protocol::Histogram>,
    tick_backlog: Gauge,
    pub last_tick_age: Gauge,
    pub world_up: Gauge,
    pub tick_stalled: Gauge,
    pub probe_ok: Gauge,
    players_online: Gauge,
    statsd: [Mirrored; 8],
    recv_buffer: Gauge,
    kernel_drops: Counter,
    /// The HTTP server's connections, once it is bound.
    http: std::sync::OnceLock<liveops_http::ConnStats>,
    world: String,
}

/// The flag runtime's series; registered only when a flag file is
/// configured, so an agent without flags shows no "invalid file" gauge.
pub struct FlagMetrics {
    pub file_valid: Gauge,
    pub reloads_applied: Counter,
    pub reloads_rejected: Counter,
    pub last_reload: Gauge,
    pub overrides: Gauge,
    pub override_stream: Gauge,
}

impl FlagMetrics {
    pub fn noop() -> Self {
        Self {
            file_valid: Gauge::noop(),
            reloads_applied: Counter::noop(),
            reloads_rejected: Counter::noop(),
            last_reload: Gauge::noop(),
            overrides: Gauge::noop(),
            override_stream: Gauge::noop(),
        }
    }
}

impl AgentMetrics {
    pub fn new(world: &str) -> Self {
        let registry = Registry::new();
        let l = [("world", world.to_owned())];
        let c = |name| registry.counter(name, &l);
        let statsd: [Mirrored; 8] = [
            (c(AGENT_STATSD_DATAGRAMS), |s| s.datagrams.load(Relaxed)),
            (c(AGENT_STATSD_BYTES), |s| s.bytes.load(Relaxed)),
            (c(AGENT_STATSD_LINES), |s| s.lines.load(Relaxed)),
            (c(AGENT_STATSD_MALFORMED), |s| {
                s.malformed_lines.load(Relaxed)
            }),
            (c(AGENT_STATSD_UNSUPPORTED), |s| {
                s.unsupported_lines.load(Relaxed)
            }),
            (c(AGENT_STATSD_OVERFLOW), |s| {
                s.series_overflow_lines.load(Relaxed)
            }),
            (c(AGENT_STATSD_RECV_ERRORS), |s| s.recv_errors.load(Relaxed)),
            (c(AGENT_STATSD_NONFINITE), |s| {
                s.nonfinite_values.load(Relaxed)
            }),
        ];
        Self {
            reports_sent: c(AGENT_REPORTS_SENT),
            report_failures: c(AGENT_REPORT_FAILURES),
            spool_dropped: c(AGENT_SPOOL_DROPPED),
            dead_letters: registry.gauge(AGENT_DEAD_LETTERS, &l),
            dead_lettered: c(AGENT_DEAD_LETTERED),
            dead_letters_dropped: c(AGENT_DEAD_LETTERS_DROPPED),
            report_refused_parts: c(AGENT_REPORT_REFUSED_PARTS),
            report_latency: registry.histogram(AGENT_REPORT_LATENCY, &l),
            spool_reports: registry.gauge(AGENT_SPOOL_REPORTS, &l),
            tick_duration: Mutex::default(),
            tick_backlog: registry.gauge(AGENT_TICK_BACKLOG, &l),
            last_tick_age: registry.gauge(AGENT_LAST_TICK_AGE, &l),
            world_up: registry.gauge(AGENT_WORLD_UP, &l),
            tick_stalled: registry.gauge(AGENT_TICK_STALLED, &l),
            probe_ok: registry.gauge(AGENT_PROBE_OK, &l),
            players_online: registry.gauge(AGENT_PLAYERS_ONLINE, &l),
            recv_buffer: registry.gauge(AGENT_STATSD_RECV_BUFFER, &l),
            kernel_drops: registry.counter(AGENT_STATSD_KERNEL_DROPS, &l),
            statsd,
            http: std::sync::OnceLock::new(),
            registry,
            world: world.to_owned(),
        }
    }

    /// Exports the HTTP server's connection figures from now on.
    pub fn watch_http(&self, stats: liveops_http::ConnStats) {
        let _ = self.http.set(stats);
    }

    /// Registers the flag series (see [`FlagMetrics`]).
    pub fn flags(&self) -> FlagMetrics {
        let l = [("world", self.world.clone())];
        let outcome = |o: &str| [("world", self.world.clone()), ("outcome", o.to_owned())];
        FlagMetrics {
            file_valid: self.registry.gauge(AGENT_FLAGS_FILE_VALID, &l),
            reloads_applied: self
                .registry
                .counter(AGENT_FLAGS_RELOADS, &outcome("applied")),
            reloads_rejected: self
                .registry
                .counter(AGENT_FLAGS_RELOADS, &outcome("rejected")),
            last_reload: self.registry.gauge(AGENT_FLAGS_LAST_RELOAD, &l),
            overrides: self.registry.gauge(AGENT_FLAGS_OVERRIDES, &l),
            override_stream: self.registry.gauge(AGENT_FLAGS_OVERRIDE_STREAM, &l),
        }
    }

    /// Takes in what one report carries of the world's own signals: its
    /// tick histograms (any tags) and the players and backlog gauges.
    pub fn record_interval(&self, histograms: &[HistogramSeries], gauges: &[GaugeSeries]) {
        {
            let mut ticks = self.tick_duration.lock().unwrap_or_else(|p| p.into_inner());
            for s in histograms
                .iter()
                .filter(|s| s.name == signal::TICK_DURATION)
            {
                // Every histogram here was built by this build's aggregator,
                // so the layouts match; a mismatch would be skipped.
                let _ = ticks.merge(&s.histogram);
            }
        }
        let gauge = |name: &str| {
            let mut values = gauges.iter().filter(|g| g.name == name).peekable();
            // Several series (one per shard, say) add up; none leaves the
            // last value standing, as a gauge does.
            values
                .peek()
                .is_some()
                .then(|| values.map(|g| g.value).sum::<f64>())
        };
        if let Some(v) = gauge(signal::PLAYERS_ONLINE) {
            self.players_online.set(v);
        }
        if let Some(v) = gauge(signal::TICK_BACKLOG) {
            self.tick_backlog.set(v);
        }
    }

    /// Histogram samples into their buckets (see
    /// [`liveops_telemetry::Registry::upkeep`]): called after each report.
    pub fn upkeep(&self) {
        self.registry.upkeep();
    }

    /// Copies the ingest threads' atomics into the exported counters, then
    /// renders. Done at scrape time so the hot ingest loop touches only
    /// plain atomics.
    pub fn render(&self, stats: &IngestStats, statsd_udp: Option<SocketAddr>) -> String {
        for (counter, read) in &self.statsd {
            counter.absolute(read(stats));
        }
        self.recv_buffer
            .set(stats.recv_buffer_bytes.load(Relaxed) as f64);
        if let Some(drops) = statsd_udp.and_then(crate::ingest::kernel::udp_drops) {
            self.kernel_drops.absolute(drops);
        }
        if let Some(h) = self.http.get() {
            let (r, l) = (&self.registry, [("world", self.world.clone())]);
            r.gauge(AGENT_HTTP_CONNECTIONS, &l).set(h.open() as f64);
            r.counter(AGENT_HTTP_ACCEPTED, &l).absolute(h.accepted());
            r.counter(AGENT_HTTP_EVICTED, &l).absolute(h.evicted());
        }
        let mut text = self.registry.render();
        let ticks = self
            .tick_duration
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        render_seconds_histogram(&mut text, AGENT_TICK_DURATION, &self.world, &ticks);
        text
    }
}

/// Writes a millisecond histogram as a Prometheus histogram in seconds:
/// cumulative `_bucket`s at the report's bounds, `_sum`, `_count`. Counts are
/// weighted (a sample sent at `@0.1` counts 10), so they may be fractional.
/// `world` passed the name rule, so it needs no escaping.
fn render_seconds_histogram(
    out: &mut String,
    name: &str,
    world: &str,
    h: &liveops_protocol::Histogram,
) {
    let _ = writeln!(out, "# TYPE {name} histogram");
    let mut cumulative = 0.0;
    for (bound, count) in BUCKET_BOUNDS_MS.iter().zip(&h.counts) {
        cumulative += count;
        let le = bound / 1000.0;
        let _ = writeln!(
            out,
            "{name}_bucket{{world=\"{world}\",le=\"{le}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{world=\"{world}\",le=\"+Inf\"}} {}",
        h.count
    );
    let _ = writeln!(out, "{name}_sum{{world=\"{world}\"}} {}", h.sum / 1000.0);
    let _ = writeln!(out, "{name}_count{{world=\"{world}\"}} {}", h.count);
}

#[cfg(test)]
#[path = "telemetry_tests.rs"]
mod tests;
