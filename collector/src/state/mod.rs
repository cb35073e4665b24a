//! The collector's live state and the three things done to it: accept a
//! report, evaluate alerts, checkpoint to disk.
//!
//! One `std::sync::Mutex` guards the engine, the live worlds, the agents'
//! sequence numbers and the alert book. It is never held across an
//! `.await`: handlers lock, update, unlock, then do their I/O.
//!
//! - `persist.rs`: journal entries, the records a checkpoint writes,
//!   restoring at start.
//! - `checkpoint.rs`: writing a checkpoint, a slice of worlds at a time.
//! - `gauges.rs`: the SLO and alert gauges of `/metrics`.

mod checkpoint;
mod evaluate;
mod gauges;
mod impact;
mod persist;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use liveops_config::CollectorConfig;
use liveops_protocol::{Health, Report};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::alert::{AlertBook, Candidate};
use crate::audit::{Audit, AuditRecorder};
use crate::auth::Tokens;
use crate::events::Events;
use crate::notify::Notifiers;
use crate::overrides::Overrides;
use crate::slo::{Engine, SloStatus, sample};
use crate::store::Store;
use crate::telemetry::CollectorMetrics;
use crate::{CollectorError, now_ms};
use persist::{JournalEntry, apply};

/// Worlds whose SLO status one hold of the lock reads: every window up to
/// the whole period, about 25 µs a world (40 before window sums lost
/// their modulo per bucket). At 100 a slice, holds of 4 ms and, when the
/// scrape thread was preempted holding the lock, 10-28 ms.
const STATUS_SLICE: usize = 25;

/// Lets the reports waiting for the lock have it between two slices of a
/// fleet-wide read that held it for `held`. Unlocking alone does not: the
/// reader, still running, takes the lock again before a waiting worker is
/// even scheduled, and the slices add up to one long hold (130 ms for a
/// checkpoint's cut of ten thousand worlds). Pausing twice as long as the
/// slice held leaves the reports two thirds of the time, more than they
/// need at ten thousand agents, so they keep up instead of queueing.
fn let_reports_in(held: std::time::Duration) {
    let pause = (held * 2).clamp(
        std::time::Duration::from_millis(1),
        std::time::Duration::from_millis(50),
    );
    std::thread::sleep(pause);
}
/// Samples of a watched gauge kept per world at most (one a report).
pub(super) const HISTORY_MAX: usize = 3_600;

/// What the collector's parts share. Its fields are the crate's own:
/// outside code (the demo, tests, embedders) reads the collector through
/// the methods below, never its parts.
pub struct Shared {
    pub(crate) cfg: CollectorConfig,
    pub(crate) tokens: Tokens,
    pub(crate) metrics: Arc<CollectorMetrics>,
    pub(crate) notifiers: Arc<Notifiers>,
    /// The pager, when a paging policy is configured (set once at start).
    pub(crate) pager: std::sync::OnceLock<Arc<crate::paging::Pager>>,
    pub(crate) store: Arc<Store>,
    /// Operator overrides and mitigations, pushed to the agents.
    pub(crate) overrides: Overrides,
    /// Operator commands on their way to a world's agent.
    pub(crate) relay: Arc<crate::relay::Relay>,
    /// Incidents and their timelines.
    pub(crate) incidents: Arc<crate::incident::Incidents>,
    /// The comms templates (`[comms] templates`, or the shipped ones).
    pub(crate) comms: Arc<crate::comms::Templates>,
    /// Where Discord and forum messages are posted.
    pub(crate) comms_out: Arc<crate::comms::deliver::Outbound>,
    pub(crate) audit: Arc<Audit>,
    /// What happened, for the audit log (first) and every other consumer.
    pub(crate) events: Events,
    /// Rung when a report changes a world's health: evaluate now, not at
    /// the next tick, so a stall pages within one report.
    pub(crate) evaluate_now: Notify,
    /// Gauges read from each report (summed over tag sets): every SLO's
    /// backlog metric, and players online.
    watched: Vec<String>,
    /// The on-call schedule in force (`crate::oncall`), shared with the
    /// pager's roster; swapped whole when `oncall.toml` is reloaded.
    pub(crate) oncall: Arc<arc_swap::ArcSwap<liveops_oncall::Schedule>>,
    /// The hot-reloaded config files and how their last reload went.
    pub(crate) config_files: crate::reload::ConfigFiles,
    /// The incident chat bot (`[chat]`), once its credentials are read.
    pub(crate) chat: Option<crate::chat::Chat>,
    inner: Mutex<Inner>,
}

struct Inner {
    engine: Engine,
    /// Burn-rate candidates per slice of scopes and when each was
    /// computed; empty until the first evaluation. See [`evaluate::BURN_SLICES`].
    burn: Vec<(u64, Vec<Candidate>)>,
    agents: HashMap<String, AgentSeen>,
    worlds: BTreeMap<String, WorldSeen>,
    book: AlertBook,
    /// How long a watched gauge's history is kept: the longest window a
    /// rule looks at, plus slack.
    history_ms: u64,
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
    /// The watched gauges' latest values (players online, backlog).
    #[serde(default)]
    pub gauges: BTreeMap<String, f64>,
    /// Their recent values, (collector ms, value), oldest first.
    #[serde(default, skip_serializing)]
    pub history: BTreeMap<String, VecDeque<(u64, f64)>>,
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
        notifiers: Arc<Notifiers>,
        (store, overrides, audit, incidents): (
            Arc<Store>,
            Overrides,
            Arc<Audit>,
            Arc<crate::incident::Incidents>,
        ),
    ) -> Self {
        let mut watched: Vec<String> = cfg
            .slos
            .iter()
            .filter_map(|s| s.backlog.as_ref().map(|b| b.metric.clone()))
            .chain([liveops_protocol::signal::PLAYERS_ONLINE.to_owned()])
            .collect();
        watched.sort();
        watched.dedup();
        let longest = cfg
            .slos
            .iter()
            .filter_map(|s| s.backlog.as_ref().map(|b| b.window))
            .max()
            .unwrap_or_default();
        let inner = Inner {
            engine: Engine::new(cfg.slos.clone()),
            burn: Vec::new(),
            agents: HashMap::new(),
            worlds: BTreeMap::new(),
            book: AlertBook::new(),
            history_ms: u64::try_from(longest.as_millis())
                .unwrap_or(u64::MAX)
                .saturating_add(5_000),
        };
        Self {
            cfg,
            tokens,
            metrics,
            notifiers,
            pager: std::sync::OnceLock::new(),
            events: Events::new(vec![Arc::new(AuditRecorder {
                audit: audit.clone(),
                store: store.clone(),
            })]),
            store,
            relay: Arc::new(crate::relay::Relay::new(overrides.stopped())),
            incidents,
            comms: Arc::new(crate::comms::Templates::shipped()),
            comms_out: Arc::default(),
            overrides,
            audit,
            evaluate_now: Notify::new(),
            watched,
            oncall: Arc::default(),
            config_files: crate::reload::ConfigFiles::default(),
            chat: None,
            inner: Mutex::new(inner),
        }
    }

    /// The configuration in force (`public_url` resolved).
    pub fn config(&self) -> &CollectorConfig {
        &self.cfg
    }

    /// Speaks with `templates` instead of the shipped comms templates, and
    /// posts Discord and forum messages to `out`.
    pub fn with_comms(
        mut self,
        templates: crate::comms::Templates,
        out: crate::comms::deliver::Outbound,
    ) -> Self {
        self.comms = Arc::new(templates);
        self.comms_out = Arc::new(out);
        self
    }

    /// The pager, if a paging policy is configured.
    pub fn pager(&self) -> Option<&Arc<crate::paging::Pager>> {
        self.pager.get()
    }

    /// The incidents, to read.
    pub fn incidents(&self) -> &crate::incident::Incidents {
        &self.incidents
    }

    /// The domain event stream, to subscribe to.
    pub fn events(&self) -> &Events {
        &self.events
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Accepts one report: de-duplicates by (agent, seq), journals it, and
    /// adds it to the SLO series.
    pub fn accept(&self, report: &Report) -> Result<Accepted, CollectorError> {
        let received_ms = now_ms();
        // What needs no shared state is done before taking the lock: the
        // samples, the watched gauges and the journal entry's bytes.
        let entry = JournalEntry {
            agent: report.agent.clone(),
            seq: report.seq,
            world: report.world.clone(),
            at_ms: report.end_ms.saturating_sub(1),
            received_ms,
            samples: self
                .cfg
                .slos
                .iter()
                .map(|slo| (slo.name.clone(), sample(slo, report)))
                .collect(),
            health: report.health.clone(),
            gauges: self
                .watched
                .iter()
                .filter_map(|name| {
                    let mut found = report.gauges.iter().filter(|g| g.name == *name).peekable();
                    found.peek()?;
                    Some((name.clone(), found.map(|g| g.value).sum()))
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&entry)?;
        // A report that alone crosses an acute failure ratio is evaluated at
        // once rather than at the next tick: a payment outage pages a second
        // sooner.
        let acute_now = self
            .cfg
            .slos
            .iter()
            .zip(&entry.samples)
            .any(|(slo, (_, c))| {
                slo.acute
                    .as_ref()
                    .is_some_and(|a| c.total > 0.0 && c.bad() / c.total > a.ratio)
            });
        let mut inner = self.lock();
        if inner
            .agents
            .get(&report.agent)
            .is_some_and(|a| report.seq <= a.last_seq)
        {
            return Ok(Accepted::Duplicate);
        }
        let position = self.store.journal_bytes(bytes)?;
        // A world seen for the first time is news only when it is unwell:
        // ten thousand healthy worlds joining must not make ten thousand
        // evaluations.
        let h = &report.health;
        let health_changed = match inner.worlds.get(&report.world) {
            Some(w) => w.health.up != h.up || w.health.probe_ok != h.probe_ok,
            None => !h.up || !h.probe_ok || h.stalled,
        };
        apply(&mut inner, entry);
        drop(inner);
        if report.urgent || health_changed || acute_now {
            self.evaluate_now.notify_one();
        }
        Ok(Accepted::New(position))
    }

    /// Every SLO's status, fleet-wide and per world. Blocking (a fleet of
    /// ten thousand worlds takes a while): call it from a blocking thread.
    pub fn status(&self) -> Vec<SloStatus> {
        let mut rows = Vec::new();
        self.status_in_slices(|slice| rows.extend(slice));
        rows
    }

    /// The SLO status, read [`STATUS_SLICE`] worlds per hold of the lock and
    /// handed to `each` a slice at a time, outside it, so that the reports
    /// arriving meanwhile wait for one slice at most.
    pub(crate) fn status_in_slices(&self, mut each: impl FnMut(Vec<SloStatus>)) {
        let now = now_ms();
        let rules = &self.cfg.alerting.burn_rates;
        let fleet = self.lock().engine.status_fleet(now, rules);
        each(fleet);
        let mut after: Option<String> = None;
        let (mut total, mut longest) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        loop {
            let inner = self.lock();
            let taken = std::time::Instant::now();
            let (rows, last) =
                inner
                    .engine
                    .status_worlds(now, rules, after.as_deref(), STATUS_SLICE);
            drop(inner);
            let held = taken.elapsed();
            (total, longest) = (total + held, longest.max(held));
            if last.is_none() {
                tracing::debug!(
                    held_ms = total.as_secs_f64() * 1e3,
                    longest_ms = longest.as_secs_f64() * 1e3,
                    "SLO status read"
                );
                return;
            }
            each(rows);
            after = last;
            let_reports_in(held);
        }
    }

    pub fn alerts(&self) -> Vec<crate::alert::ActiveAlert> {
        self.lock().book.active()
    }

    /// The world's health as last reported, none of it observed: what an
    /// interval whose health part was refused counts as.
    pub fn last_health(&self, world: &str) -> Health {
        let last = self.lock().worlds.get(world).map(|w| w.health.clone());
        Health {
            up_ms: 0,
            observed_ms: 0,
            ..last.unwrap_or_default()
        }
    }

    pub fn worlds(&self) -> BTreeMap<String, WorldSeen> {
        self.lock().worlds.clone()
    }

    /// Each world and whether it is up now (reporting, probe answering,
    /// ticking): what the public status page shows of it.
    pub fn world_health(&self) -> Vec<(String, bool)> {
        let now = now_ms();
        let silent_after = self.cfg.no_data_after.as_millis();
        self.lock()
            .worlds
            .iter()
            .map(|(w, s)| {
                let h = &s.health;
                let silent = u128::from(now.saturating_sub(s.last_report_ms)) > silent_after;
                (w.clone(), !silent && h.up && h.probe_ok && !h.stalled)
            })
            .collect()
    }
}
