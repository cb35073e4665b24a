//! The collector's live state and the three things done to it: accept a
//! report, evaluate alerts, checkpoint to disk.
//!
//! One `std::sync::Mutex` guards the engine, the live worlds, the agents'
//! sequence numbers and the alert book. It is never held across an
//! `.await`: handlers lock, update, unlock, then do their I/O.
//!
//! - `persist.rs`: journal entries, checkpoints, restoring at start.
//! - `gauges.rs`: the SLO and alert gauges of `/metrics`.

mod gauges;
mod persist;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use liveops_config::{CollectorConfig, Severity};
use liveops_protocol::{Health, Notification, Report};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::alert::{
    AlertBook, Candidate, WorldLive, acute_alerts, backlog_alert, burn_rate_alerts,
    burn_rate_alerts_where, notifier_failing,
};
use crate::audit::{Audit, AuditRecorder};
use crate::auth::Tokens;
use crate::events::Events;
use crate::notify::Notifiers;
use crate::overrides::Overrides;
use crate::slo::{Engine, SloStatus, sample};
use crate::store::{ALERTS, Store};
use crate::telemetry::CollectorMetrics;
use crate::{CollectorError, now_ms};
use persist::{JournalEntry, apply};

/// How often burn-rate rules are recomputed. Their windows are 5 minutes
/// and longer, so a few seconds change nothing a pager would notice, while
/// summing those windows for every world (and the fleet) each second was
/// the collector's largest steady cost. Acute and no-data alerts are still
/// evaluated every time.
const BURN_EVERY_MS: u64 = 5_000;
/// Burn-rate work is split into this many slices of scopes (by a hash of
/// the name), one coming due every `BURN_EVERY_MS / BURN_SLICES`: with ten
/// thousand worlds, one pass over all of them held the state long enough
/// to time reports out.
const BURN_SLICES: usize = 5;
/// Worlds whose acute rules one hold of the lock evaluates (their seconds
/// only: a few milliseconds).
const EVAL_SLICE: usize = 1_000;
/// Worlds whose SLO status one hold of the lock reads: every window up to
/// the whole period, about ten times an acute rule's work.
const STATUS_SLICE: usize = 100;

/// Lets the reports waiting for the lock have it between two slices of a
/// fleet-wide read. Unlocking alone does not: the reader, still running,
/// takes the lock again before a waiting worker is even scheduled, and
/// the slices add up to one long hold (130 ms for a checkpoint's cut of
/// ten thousand worlds).
fn let_reports_in() {
    std::thread::sleep(std::time::Duration::from_millis(1));
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
    inner: Mutex<Inner>,
}

struct Inner {
    engine: Engine,
    /// Burn-rate candidates per slice of scopes and when each was
    /// computed; empty until the first evaluation. See [`BURN_SLICES`].
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
        (store, overrides, audit): (Arc<Store>, Overrides, Arc<Audit>),
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
            overrides,
            audit,
            evaluate_now: Notify::new(),
            watched,
            oncall: Arc::default(),
            config_files: crate::reload::ConfigFiles::default(),
            inner: Mutex::new(inner),
        }
    }

    /// The configuration in force (`public_url` resolved).
    pub fn config(&self) -> &CollectorConfig {
        &self.cfg
    }

    /// The pager, if a paging policy is configured.
    pub fn pager(&self) -> Option<&Arc<crate::paging::Pager>> {
        self.pager.get()
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

    /// Evaluates every alert rule, updates the alert book, and
    /// returns the notifications to deliver. Blocking: the loop runs it
    /// on a thread of its own.
    ///
    /// Every report waits for the same lock, so it is never held for the
    /// whole fleet at once: the worlds' acute and backlog rules are read
    /// [`EVAL_SLICE`] worlds at a time, letting the reports queued
    /// meanwhile in between. (Held throughout, an evaluation of ten
    /// thousand worlds stalled every report for 16 ms each second.) Each
    /// world is read whole under one hold; worlds read a moment apart is
    /// no loss for rules that look back minutes.
    pub fn evaluate(&self) -> Vec<Notification> {
        let started = std::time::Instant::now();
        let now = now_ms();
        let alerting = &self.cfg.alerting;
        let live: Vec<WorldLive> = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            refresh_burn(&mut inner.burn, &inner.engine, alerting, now);
            inner
                .worlds
                .iter()
                .map(|(w, s)| WorldLive {
                    world: w.clone(),
                    last_report_ms: s.last_report_ms,
                    health: s.health.clone(),
                })
                .collect()
        };
        let mut candidates = Vec::new();
        for (i, slice) in live.chunks(EVAL_SLICE).enumerate() {
            if i > 0 {
                let_reports_in();
            }
            let inner = self.lock();
            candidates.extend(acute_alerts(
                &inner.engine,
                slice,
                self.cfg.no_data_after,
                now,
            ));
            for l in slice {
                let Some(seen) = inner.worlds.get(&l.world) else {
                    continue;
                };
                for slo in &self.cfg.slos {
                    let Some(rule) = &slo.backlog else { continue };
                    if let Some(samples) = seen.history.get(&rule.metric) {
                        candidates.extend(backlog_alert(slo, rule, &l.world, samples, now));
                    }
                }
            }
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        // `Collector::start` resolved it (`crate::public_url`).
        let public_url = self.cfg.public_url.as_deref().unwrap_or_default();
        if let Some(why) = self.audit.check() {
            candidates.push(audit_broken(&inner.engine, public_url, why));
        }
        for f in self.notifiers.failing() {
            let owner = platform_owner(&inner.engine);
            candidates.push(notifier_failing(
                &f.channel,
                f.failures,
                &f.last_error,
                owner,
                public_url,
            ));
        }
        let burning = inner.burn.iter().flat_map(|(_, c)| c);
        let notes = inner
            .book
            .reconcile(burning.chain(&candidates), now, public_url);
        if !notes.is_empty()
            && let Err(e) = self.store.put(ALERTS, &inner.book)
        {
            tracing::error!(error = %e, "cannot persist alert state");
        }
        drop(guard);
        self.metrics
            .evaluation
            .record(started.elapsed().as_secs_f64());
        notes
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
        loop {
            let (rows, last) =
                self.lock()
                    .engine
                    .status_worlds(now, rules, after.as_deref(), STATUS_SLICE);
            if last.is_none() {
                return;
            }
            each(rows);
            after = last;
            let_reports_in();
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
}

/// Recomputes the burn-rate slices that are due. The first call computes
/// them all (so alerts restored from a checkpoint are not resolved for want
/// of a candidate) and staggers them, so that afterwards one slice comes
/// due at a time.
fn refresh_burn(
    burn: &mut Vec<(u64, Vec<Candidate>)>,
    engine: &Engine,
    alerting: &liveops_config::AlertingConfig,
    now: u64,
) {
    if burn.is_empty() {
        let mut slices = vec![Vec::new(); BURN_SLICES];
        for c in burn_rate_alerts(engine, alerting, now) {
            slices[burn_slice(c.label("world").unwrap_or_default())].push(c);
        }
        let step = BURN_EVERY_MS / BURN_SLICES as u64;
        *burn = (0u64..)
            .zip(slices)
            .map(|(i, c)| (now.saturating_sub(i * step), c))
            .collect();
        return;
    }
    for (i, (at, candidates)) in burn.iter_mut().enumerate() {
        if now.saturating_sub(*at) >= BURN_EVERY_MS {
            *candidates = burn_rate_alerts_where(engine, alerting, now, |w| burn_slice(w) == i);
            *at = now;
        }
    }
}

/// Which burn-rate slice a scope (its `world` label) belongs to: FNV-1a,
/// stable for the collector's lifetime whatever else joins the fleet.
fn burn_slice(world: &str) -> usize {
    let h = world.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (h % BURN_SLICES as u64) as usize
}

/// `AuditChainBroken`: liveops' own alert, to the owner of the first
/// uptime SLO (the platform team by default), with the audit runbook.
fn audit_broken(engine: &Engine, public_url: &str, why: String) -> Candidate {
    let owner = platform_owner(engine);
    Candidate::new("AuditChainBroken", "fleet", "audit", Severity::Page).annotated(
        "the audit log was replaced or edited: operator changes are refused".into(),
        format!(
            "{why}. Mitigations and overrides answer 503 until an admin checks the log (`liveops audit verify`) and reseals it (`liveops audit reseal --reason …`)."
        ),
        &format!("{public_url}/runbooks/audit"),
        owner,
    )
}

/// Who owns liveops itself: the owner of the first uptime SLO.
fn platform_owner(engine: &Engine) -> &str {
    engine
        .slos()
        .iter()
        .find(|s| matches!(s.kind, liveops_config::SloKind::Uptime))
        .map_or("", |s| s.owner.as_str())
}
