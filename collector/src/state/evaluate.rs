//! The evaluation loop's work: every alert rule over the fleet, read a
//! slice of worlds per hold of the state lock, then the alert book.

use liveops_config::Severity;
use liveops_protocol::Notification;

use super::{Shared, let_reports_in};
use crate::alert::{
    Candidate, WorldLive, acute_alerts, backlog_alert, burn_rate_alerts, burn_rate_alerts_where,
    notifier_failing,
};
use crate::now_ms;
use crate::slo::Engine;
use crate::store::ALERTS;

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
pub(super) const BURN_SLICES: usize = 5;
/// Worlds whose acute rules one hold of the lock evaluates (their seconds
/// only: a few milliseconds).
const EVAL_SLICE: usize = 1_000;

impl Shared {
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
        let mut held = std::time::Duration::ZERO;
        for (i, slice) in live.chunks(EVAL_SLICE).enumerate() {
            if i > 0 {
                let_reports_in(held);
            }
            let inner = self.lock();
            let taken = std::time::Instant::now();
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
            drop(inner);
            held = taken.elapsed();
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
