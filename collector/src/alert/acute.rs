//! Acute alerts: page at once on a total failure, before a burn rate can.
//!
//! Burn rates need a minute of data to move; a world that stops ticking
//! must page within one report. These rules read the agent's own verdict
//! (its health probe and tick heartbeat) and the per-second buckets.
//!
//! Precedence matters: a silent agent says nothing about the world, so
//! `AgentSilent` replaces every other acute alert of that world rather than
//! leaving a stale `WorldDown` (or a stale "all is well") in place.

use std::time::Duration;

use liveops_config::{Severity, SloKind};
use liveops_protocol::Health;

use super::rules::{Candidate, human_ms, percent};
use crate::slo::{Engine, Scope, window_name};

/// What the collector knows of a world right now, from its agent's latest
/// report.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldLive {
    pub world: String,
    /// When the latest report arrived (Unix ms, the collector's clock).
    pub last_report_ms: u64,
    pub health: Health,
}

/// `AgentSilent`, `WorldDown`, `TickStalled` and `HighFailureRatio`
/// candidates for `worlds` at `now_ms`.
pub fn acute_alerts(
    engine: &Engine,
    worlds: &[WorldLive],
    no_data_after: Duration,
    now_ms: u64,
) -> Vec<Candidate> {
    // World-level alerts hang off the first uptime SLO so they reach its
    // owner and runbook; without one they still page, unowned.
    let uptime = engine
        .slos()
        .iter()
        .find(|s| matches!(s.kind, SloKind::Uptime));
    let (slo, owner, runbook) = match uptime {
        Some(s) => (s.name.as_str(), s.owner.as_str(), s.runbook.as_str()),
        None => ("uptime", "", ""),
    };
    let page = |alertname: &str, world: &str, summary: String, description: String| {
        Candidate::new(alertname, world, slo, Severity::Page).annotated(
            summary,
            description,
            runbook,
            owner,
        )
    };

    let mut out = Vec::new();
    for live in worlds {
        let world = live.world.as_str();
        let silent_ms = now_ms.saturating_sub(live.last_report_ms);
        if u128::from(silent_ms) > no_data_after.as_millis() {
            let summary = format!(
                "{world}: no report from its agent for {} (limit {})",
                human_ms(silent_ms as f64),
                human_ms(no_data_after.as_millis() as f64),
            );
            let description = format!(
                "The agent beside {world} stopped reporting. The world itself may be fine: \
                 the agent, its host or the network to the collector may be at fault, and \
                 until reports resume nothing is known about {world}."
            );
            out.push(page("AgentSilent", world, summary, description));
            continue;
        }
        let health = &live.health;
        let detail = health
            .detail
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        if !health.probe_ok {
            let summary = format!("{world} is down: its health probe fails{detail}");
            let description = format!(
                "The agent beside {world} reports that the game's health probe fails. \
                 Players cannot be served until it answers again."
            );
            out.push(page("WorldDown", world, summary, description));
        } else if health.stalled {
            // The tick figures say it all; the agent's detail repeats them.
            let summary = format!("{world} is not ticking: {}", tick_words(health));
            let description = format!(
                "{world}'s simulation has stopped advancing: a deadlock, a long pause or \
                 an overloaded tick. {}",
                probe_words(health)
            );
            out.push(page("TickStalled", world, summary, description));
        }
        out.extend(failure_ratio_alerts(engine, world, now_ms));
    }
    out
}

/// What the health probe says of a stalled world, truthfully: there may
/// be no probe, or it may be failing without having reached "down" yet.
fn probe_words(health: &Health) -> String {
    match (health.probed, health.probe_failures, &health.probe_error) {
        (false, ..) => "The agent has no health endpoint to probe (no `--game`), so whether \
                        its process answers is unknown."
            .to_owned(),
        (true, 0, _) => "Its process still answers the health probe.".to_owned(),
        (true, n, why) => format!(
            "Its last {n} health probe{} failed ({}), not yet enough to call it down.",
            if n == 1 { "" } else { "s" },
            why.as_deref().unwrap_or("no detail")
        ),
    }
}

fn tick_words(health: &Health) -> String {
    let usual = health
        .tick_interval_ms
        .filter(|ms| ms.is_finite() && *ms > 0.0)
        .map(|ms| format!(" (usual interval {})", human_ms(ms)))
        .unwrap_or_default();
    match health.last_tick_age_ms {
        Some(age) => format!("last tick {} ago{usual}", human_ms(age as f64)),
        None => format!("no tick seen yet{usual}"),
    }
}

/// `HighFailureRatio` for every ratio SLO with `acute` on, over the acute
/// window of `world`'s per-second buckets.
fn failure_ratio_alerts(engine: &Engine, world: &str, now_ms: u64) -> Vec<Candidate> {
    let mut out = Vec::new();
    let view = engine.view(Scope::World(world));
    for (i, slo) in engine.slos().iter().enumerate() {
        let Some(acute) = &slo.acute else { continue };
        let c = view.window(i, now_ms, acute.window);
        // Too few events make any ratio meaningless: two failed logins of
        // three is not an incident.
        if c.total < acute.min_events || c.total <= 0.0 {
            continue;
        }
        let ratio = c.bad() / c.total;
        if ratio > acute.ratio {
            let window = window_name(acute.window);
            // For a latency SLO a "failed" event is a slow one.
            let failed = match &slo.kind {
                SloKind::Latency { threshold_ms, .. } => format!("took over {threshold_ms} ms"),
                _ => "failed".to_owned(),
            };
            let summary = format!(
                "{world} {}: {} of {:.0} events {failed} in the last {window} (limit {})",
                slo.name,
                percent(ratio),
                c.total,
                percent(acute.ratio),
            );
            let description = format!(
                "{:.0} of {:.0} {} events {failed} in {world} over the last {window}: a burst \
                 that pages before the burn-rate alerts can. {}",
                c.bad(),
                c.total,
                slo.name,
                slo.description,
            );
            out.push(
                Candidate::new("HighFailureRatio", world, &slo.name, Severity::Page).annotated(
                    summary,
                    description.trim_end().to_string(),
                    &slo.runbook,
                    &slo.owner,
                ),
            );
        }
    }
    out
}

#[cfg(test)]
#[path = "acute_tests.rs"]
mod tests;
