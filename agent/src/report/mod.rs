//! Reports: every interval (or at once when health changes) the agent turns
//! what it aggregated and saw into a [`Report`], spools it, and wakes the
//! sender. Flag-file reloads ride along, so the audit log gets them
//! through the same spool.
//!
//! - [`finite`]: no NaN or infinity ever reaches a report.
//! - [`spool`]: the sled-backed, bounded, ordered spool and the agent's identity.
//! - [`sender`]: delivery to the collector, oldest first, with backoff.
//! - [`dead`]: reports the collector will not take, kept aside.

pub mod dead;
pub mod finite;
pub mod sender;
pub mod spool;

use std::sync::Arc;
use std::time::{Duration, Instant};

use liveops_protocol::Report;
use tokio::sync::{Notify, watch};

use crate::AgentError;
use crate::flags::Flags;
use crate::health::HealthHandle;
use crate::ingest::Shared;
use crate::telemetry::AgentMetrics;
use spool::Spool;

pub struct Reporter {
    pub world: String,
    pub interval: Duration,
    pub ingest: Arc<Shared>,
    pub health: HealthHandle,
    pub spool: Arc<Spool>,
    pub metrics: Arc<AgentMetrics>,
    /// Flag-file reloads to report, for the collector's audit log.
    pub flags: Arc<Flags>,
    /// Rung after each report is spooled.
    pub sent_wake: Arc<Notify>,
}

impl Reporter {
    /// Reports every interval and on every health change until `stop`, then
    /// spools a last report covering the time since the previous one.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), AgentError> {
        let mut every = tokio::time::interval(self.interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        let mut start_ms = now_ms();
        loop {
            let urgent = tokio::select! {
                _ = every.tick() => false,
                _ = self.health.changed.notified() => true,
                _ = stop.changed() => break,
            };
            if urgent {
                // The next regular report comes a full interval after this one.
                every.reset();
            }
            start_ms = self.report(start_ms, urgent)?;
        }
        self.report(start_ms, false)?;
        self.spool.flush()
    }

    /// Builds and spools one report covering `[start_ms, now)`; returns now.
    fn report(&self, start_ms: u64, urgent: bool) -> Result<u64, AgentError> {
        let end_ms = now_ms().max(start_ms + 1);
        let interval = self.ingest.take_interval();
        let health = {
            let mut m = self
                .health
                .monitor
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            m.take(Instant::now())
        };
        self.record_health(&health);
        let dropped_before = self.spool.dropped();
        let seq = self.spool.next_seq();
        let mut losses = interval.losses;
        losses.spool_dropped_reports = dropped_before;
        let mut report = Report {
            agent: self.spool.agent_id().to_owned(),
            world: self.world.clone(),
            seq,
            start_ms,
            end_ms,
            urgent,
            health,
            counters: interval.counters,
            gauges: interval.gauges,
            histograms: interval.histograms,
            losses,
            flag_reloads: self.flags.take_reloads(),
        };
        let scrubbed = finite::scrub(&mut report);
        if scrubbed > 0 {
            self.ingest
                .stats
                .nonfinite_values
                .fetch_add(scrubbed, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(
                scrubbed,
                "non-finite numbers removed from a report before sending"
            );
        }
        // After the scrub, so `/metrics` shows exactly what was reported.
        self.metrics
            .record_interval(&report.histograms, &report.gauges);
        self.metrics.upkeep();
        let body = serde_json::to_vec(&report).map_err(AgentError::Encode)?;
        self.spool.push(seq, &body)?;
        let dropped = self.spool.dropped() - dropped_before;
        if dropped > 0 {
            self.metrics.spool_dropped.increment(dropped);
            tracing::warn!(dropped, "spool full: oldest reports dropped");
        }
        self.metrics.spool_reports.set(self.spool.len() as f64);
        if urgent {
            tracing::info!(world = %self.world, up = report.health.up, detail = ?report.health.detail, "health changed; reporting at once");
        }
        self.sent_wake.notify_one();
        Ok(end_ms)
    }

    fn record_health(&self, h: &liveops_protocol::Health) {
        let m = &self.metrics;
        m.world_up.set(if h.up { 1.0 } else { 0.0 });
        m.tick_stalled.set(if h.stalled { 1.0 } else { 0.0 });
        m.probe_ok.set(if h.probe_ok { 1.0 } else { 0.0 });
        if let Some(age) = h.last_tick_age_ms {
            m.last_tick_age.set(age as f64 / 1000.0);
        }
    }
}

pub use liveops_protocol::time::now_ms;
