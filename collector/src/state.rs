//! The collector's live state and the three things done to it: accept a
//! report, evaluate alerts, checkpoint to disk.
//!
//! One `std::sync::Mutex` guards the engine, the live worlds, the agents'
//! sequence numbers and the alert book. It is never held across an
//! `.await`: handlers lock, update, unlock, then do their I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use liveops_config::CollectorConfig;
use liveops_protocol::{Health, Notification, Report};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::alert::{AlertBook, WorldLive, acute_alerts, burn_rate_alerts};
use crate::auth::Tokens;
use crate::notify::Notifiers;
use crate::slo::{Counts, Engine, EngineState, SloStatus, sample};
use crate::store::{ALERTS, CHECKPOINT, Store};
use crate::telemetry::CollectorMetrics;
use crate::{CollectorError, now_ms};

pub struct Shared {
    pub cfg: CollectorConfig,
    pub tokens: Tokens,
    pub metrics: Arc<CollectorMetrics>,
    pub notifiers: Notifiers,
    pub store: Store,
    /// Rung when a report changes a world's health: evaluate now, not at
    /// the next tick, so a stall pages within one report.
    pub evaluate_now: Notify,
    inner: Mutex<Inner>,
}

struct Inner {
    engine: Engine,
    agents: HashMap<String, AgentSeen>,
    worlds: BTreeMap<String, WorldSeen>,
    book: AlertBook,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct AgentSeen {
    world: String,
    last_seq: u64,
}

/// The newest report's view of a world.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorldSeen {
    /// Collector clock when the newest report arrived.
    pub last_report_ms: u64,
    /// End of the interval the newest report covered (agent clock).
    pub report_end_ms: u64,
    pub agent: String,
    pub health: Health,
}

#[derive(Serialize, Deserialize)]
struct JournalEntry {
    agent: String,
    seq: u64,
    world: String,
    at_ms: u64,
    received_ms: u64,
    samples: Vec<(String, Counts)>,
    health: Health,
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    journal_position: u64,
    engine: EngineState,
    agents: HashMap<String, AgentSeen>,
    worlds: BTreeMap<String, WorldSeen>,
}

/// What became of one report.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Journaled at this position; acknowledge once it is durable.
    New(u64),
    Duplicate,
}

impl Shared {
    pub fn new(
        cfg: CollectorConfig,
        tokens: Tokens,
        metrics: Arc<CollectorMetrics>,
        notifiers: Notifiers,
        store: Store,
    ) -> Self {
        let inner = Inner {
            engine: Engine::new(cfg.slos.clone()),
            agents: HashMap::new(),
            worlds: BTreeMap::new(),
            book: AlertBook::new(),
        };
        Self {
            cfg,
            tokens,
            metrics,
            notifiers,
            store,
            evaluate_now: Notify::new(),
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads the checkpoint and replays the journal written after it.
    pub fn restore(&self) -> Result<(), CollectorError> {
        let mut inner = self.lock();
        let mut after = 0;
        if let Some(cp) = self.store.get::<Checkpoint>(CHECKPOINT)? {
            inner.engine.import(cp.engine);
            inner.agents = cp.agents;
            inner.worlds = cp.worlds;
            after = cp.journal_position;
        }
        let entries = self.store.journal_after::<JournalEntry>(after)?;
        let replayed = entries.len();
        for (_, e) in entries {
            apply(&mut inner, e);
        }
        if let Some(book) = self.store.get::<AlertBook>(ALERTS)? {
            inner.book = book;
        }
        // The collector was away, not necessarily the agents: give every
        // world a fresh no-data grace period instead of paging AgentSilent
        // for all of them the moment the collector is back. A world whose
        // agent was already silent stays silent: its alert must not resolve
        // and page again.
        let silent: Vec<String> = inner
            .book
            .active()
            .into_iter()
            .filter(|a| a.labels.get("alertname").map(String::as_str) == Some("AgentSilent"))
            .filter_map(|a| a.labels.get("world").cloned())
            .collect();
        let now = now_ms();
        for (world, w) in inner.worlds.iter_mut() {
            if !silent.contains(world) {
                w.last_report_ms = w.last_report_ms.max(now);
            }
        }
        tracing::info!(
            worlds = inner.worlds.len(),
            replayed,
            alerts = inner.book.len(),
            "collector state restored"
        );
        Ok(())
    }

    /// Accepts one report: de-duplicates by (agent, seq), journals it, and
    /// adds it to the SLO series.
    pub fn accept(&self, report: &Report) -> Result<Accepted, CollectorError> {
        let received_ms = now_ms();
        let mut inner = self.lock();
        if inner
            .agents
            .get(&report.agent)
            .is_some_and(|a| report.seq <= a.last_seq)
        {
            return Ok(Accepted::Duplicate);
        }
        let samples: Vec<(String, Counts)> = inner
            .engine
            .slos()
            .iter()
            .map(|slo| (slo.name.clone(), sample(slo, report)))
            .collect();
        let entry = JournalEntry {
            agent: report.agent.clone(),
            seq: report.seq,
            world: report.world.clone(),
            at_ms: report.end_ms.saturating_sub(1),
            received_ms,
            samples,
            health: report.health.clone(),
        };
        let position = self.store.journal(&entry)?;
        // A report that alone crosses an acute failure ratio is evaluated at
        // once rather than at the next tick: a payment outage pages a second
        // sooner.
        let acute_now = inner
            .engine
            .slos()
            .iter()
            .zip(&entry.samples)
            .any(|(slo, (_, c))| {
                slo.acute
                    .as_ref()
                    .is_some_and(|a| c.total > 0.0 && c.bad() / c.total > a.ratio)
            });
        let health_changed = inner.worlds.get(&report.world).is_none_or(|w| {
            w.health.up != report.health.up || w.health.probe_ok != report.health.probe_ok
        });
        apply(&mut inner, entry);
        drop(inner);
        if report.urgent || health_changed || acute_now {
            self.evaluate_now.notify_one();
        }
        Ok(Accepted::New(position))
    }

    /// Evaluates every alert rule, updates the alert book, and
    /// returns the notifications to deliver.
    pub fn evaluate(&self) -> Vec<Notification> {
        let now = now_ms();
        let mut inner = self.lock();
        let alerting = &self.cfg.alerting;
        let live: Vec<WorldLive> = inner
            .worlds
            .iter()
            .map(|(w, s)| WorldLive {
                world: w.clone(),
                last_report_ms: s.last_report_ms,
                health: s.health.clone(),
            })
            .collect();
        let mut candidates = burn_rate_alerts(&inner.engine, alerting, now);
        candidates.extend(acute_alerts(
            &inner.engine,
            &live,
            self.cfg.no_data_after,
            now,
        ));
        let notes = inner.book.reconcile(candidates, now, &self.cfg.public_url);
        if !notes.is_empty()
            && let Err(e) = self.store.put(ALERTS, &inner.book)
        {
            tracing::error!(error = %e, "cannot persist alert state");
        }
        notes
    }

    /// Sets the SLO, world and alert gauges and renders `/metrics`. Done at
    /// scrape time (every 15 s or so), not at every evaluation: SLO status
    /// for a thousand worlds is the most expensive thing the collector
    /// computes, and only a scrape reads it.
    pub fn render_metrics(&self) -> String {
        use liveops_telemetry::names::*;
        let now = now_ms();
        let inner = self.lock();
        let m = &self.metrics;
        for s in inner.engine.status(now, &self.cfg.alerting.burn_rates) {
            let world = s.world.clone().unwrap_or_else(|| "fleet".to_owned());
            let l = [("world", world.clone()), ("slo", s.slo.clone())];
            m.set(SLO_OBJECTIVE, &l, s.objective);
            m.set(SLO_EVENTS, &l, s.events);
            if let Some(v) = s.sli {
                m.set(SLO_SLI, &l, v);
            }
            if let Some(v) = s.error_budget_remaining {
                m.set(SLO_BUDGET_REMAINING, &l, v);
            }
            for b in &s.burn_rates {
                let l = [
                    ("world", world.clone()),
                    ("slo", s.slo.clone()),
                    ("window", b.window.clone()),
                ];
                m.set(SLO_BURN_RATE, &l, b.burn_rate.unwrap_or(0.0));
            }
        }
        for (world, w) in &inner.worlds {
            let silent =
                now.saturating_sub(w.last_report_ms) as u128 > self.cfg.no_data_after.as_millis();
            let up = if w.health.up && !silent { 1.0 } else { 0.0 };
            m.set(COLLECTOR_WORLD_UP, &[("world", world.clone())], up);
            m.set(
                COLLECTOR_AGENT_SILENT,
                &[("world", world.clone())],
                if silent { 1.0 } else { 0.0 },
            );
        }
        m.set(COLLECTOR_AGENTS, &[], inner.agents.len() as f64);
        let mut firing: BTreeMap<(String, String), f64> = BTreeMap::new();
        for a in inner.book.active() {
            let key = (
                a.labels.get("alertname").cloned().unwrap_or_default(),
                a.labels.get("severity").cloned().unwrap_or_default(),
            );
            *firing.entry(key).or_default() += 1.0;
        }
        for name in [
            "ErrorBudgetBurn",
            "WorldDown",
            "TickStalled",
            "HighFailureRatio",
            "AgentSilent",
        ] {
            for sev in ["page", "ticket"] {
                let v = firing
                    .get(&(name.to_owned(), sev.to_owned()))
                    .copied()
                    .unwrap_or(0.0);
                m.set(
                    ALERTS_FIRING,
                    &[("alertname", name.to_owned()), ("severity", sev.to_owned())],
                    v,
                );
            }
        }
        drop(inner);
        m.render()
    }

    /// Writes a checkpoint and drops the journal it covers.
    pub fn checkpoint(&self) -> Result<(), CollectorError> {
        let cp = {
            let mut inner = self.lock();
            inner.engine.prune(now_ms());
            Checkpoint {
                journal_position: self.store.journal_position(),
                engine: inner.engine.export(),
                agents: inner.agents.clone(),
                worlds: inner.worlds.clone(),
            }
        };
        self.store.put(CHECKPOINT, &cp)?;
        self.store.truncate_journal(cp.journal_position)?;
        self.store.flush()
    }

    pub fn status(&self) -> Vec<SloStatus> {
        let inner = self.lock();
        inner.engine.status(now_ms(), &self.cfg.alerting.burn_rates)
    }

    pub fn alerts(&self) -> Vec<crate::alert::ActiveAlert> {
        self.lock().book.active()
    }

    pub fn worlds(&self) -> BTreeMap<String, WorldSeen> {
        self.lock().worlds.clone()
    }
}

fn apply(inner: &mut Inner, e: JournalEntry) {
    let counts: Vec<Counts> = inner
        .engine
        .slos()
        .iter()
        .map(|slo| {
            e.samples
                .iter()
                .find(|(n, _)| *n == slo.name)
                .map(|(_, c)| *c)
                .unwrap_or_default()
        })
        .collect();
    inner.engine.add_samples(&e.world, e.at_ms, &counts);
    let agent = inner.agents.entry(e.agent.clone()).or_insert(AgentSeen {
        world: e.world.clone(),
        last_seq: 0,
    });
    agent.last_seq = agent.last_seq.max(e.seq);
    agent.world = e.world.clone();
    // Replayed spool backlogs arrive oldest first; only a newer interval
    // may replace what is known of the world now.
    let newer = inner
        .worlds
        .get(&e.world)
        .is_none_or(|w| e.at_ms >= w.report_end_ms);
    if newer {
        inner.worlds.insert(
            e.world,
            WorldSeen {
                last_report_ms: e.received_ms,
                report_end_ms: e.at_ms,
                agent: e.agent,
                health: e.health,
            },
        );
    } else if let Some(w) = inner.worlds.get_mut(&e.world) {
        // An old report still proves the agent is alive.
        w.last_report_ms = w.last_report_ms.max(e.received_ms);
    }
}
