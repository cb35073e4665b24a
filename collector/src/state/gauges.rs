//! SLO, world, alert and override gauges for `/metrics`, computed when
//! scraped.

use std::collections::BTreeMap;
use std::time::SystemTime;

use liveops_telemetry::text::Gauges;

use super::Shared;
use crate::now_ms;

/// The `scope` label of the overrides gauge: a scope's kind, never its id.
const SCOPE_KINDS: [&str; 5] = ["fleet", "world", "village", "account", "player"];

impl Shared {
    /// Renders `/metrics`: the registry, then the SLO and world gauges.
    /// Done at scrape time (every 15 s or so), not at every evaluation:
    /// SLO status for every world is the most expensive thing the
    /// collector computes, and only a scrape reads it. Blocking: at ten
    /// thousand worlds a scrape is 480,000 series, so it runs on a
    /// blocking thread and reads the SLOs a slice of worlds per hold of
    /// the lock (see [`Shared::status_in_slices`]).
    pub fn render_metrics(&self) -> String {
        use liveops_telemetry::names::*;
        let now = now_ms();
        let m = &self.metrics;
        // Per world and SLO: written as text, not kept in the registry
        // (see `liveops_telemetry::text`).
        let mut g = Gauges::new();
        self.status_in_slices(|rows| {
            for s in &rows {
                let world = s.world.as_deref().unwrap_or("fleet");
                let l = [("world", world), ("slo", s.slo.as_str())];
                g.set(SLO_OBJECTIVE, &l, s.objective);
                g.set(SLO_EVENTS, &l, s.events);
                if let Some(v) = s.sli {
                    g.set(SLO_SLI, &l, v);
                }
                if let Some(v) = s.error_budget_remaining {
                    g.set(SLO_BUDGET_REMAINING, &l, v);
                }
                for b in &s.burn_rates {
                    let l = [
                        ("world", world),
                        ("slo", s.slo.as_str()),
                        ("window", b.window.as_str()),
                    ];
                    g.set(SLO_BURN_RATE, &l, b.burn_rate.unwrap_or(0.0));
                }
            }
        });
        // Copied under the lock, written after: formatting ten thousand
        // worlds' gauges under it, on this low-priority thread, kept every
        // report waiting.
        let inner = self.lock();
        let worlds: Vec<(String, bool, bool, Option<f64>)> = inner
            .worlds
            .iter()
            .map(|(world, w)| {
                let silent = now.saturating_sub(w.last_report_ms) as u128
                    > self.cfg.no_data_after.as_millis();
                let backlog = w.gauges.get(liveops_protocol::signal::TICK_BACKLOG);
                (
                    world.clone(),
                    w.health.up && !silent,
                    silent,
                    backlog.copied(),
                )
            })
            .collect();
        let agents = inner.agents.len();
        let active = inner.book.active();
        drop(inner);
        for (world, up, silent, backlog) in &worlds {
            let l = [("world", world.as_str())];
            g.set(COLLECTOR_WORLD_UP, &l, if *up { 1.0 } else { 0.0 });
            g.set(COLLECTOR_AGENT_SILENT, &l, if *silent { 1.0 } else { 0.0 });
            if let Some(b) = backlog {
                g.set(COLLECTOR_WORLD_TICK_BACKLOG, &l, *b);
            }
        }
        m.set(COLLECTOR_AGENTS, &[], agents as f64);
        let mut firing: BTreeMap<(String, String), f64> = BTreeMap::new();
        for a in active {
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
        self.set_override_gauges();
        let mut text = m.render();
        g.write_to(&mut text);
        text
    }

    /// Overrides in force by scope kind and mitigations in force by bundle,
    /// from the committed book; zeros included, so a dashboard shows 0
    /// rather than no data.
    fn set_override_gauges(&self) {
        use liveops_telemetry::names::*;
        let book = self.overrides.book();
        let now = SystemTime::now();
        let m = &self.metrics;
        let mut by_scope: BTreeMap<&str, f64> = SCOPE_KINDS.iter().map(|k| (*k, 0.0)).collect();
        for o in book.overrides().iter().filter(|o| o.active(now)) {
            *by_scope.entry(o.scope.specificity().as_str()).or_default() += 1.0;
        }
        for (kind, n) in by_scope {
            m.set(COLLECTOR_OVERRIDES, &[("scope", kind.to_owned())], n);
        }
        let now_ms = now_ms();
        for name in self.overrides.mitigation_names() {
            let n = book
                .applications()
                .iter()
                .filter(|a| &a.mitigation == name && a.expires_ms.is_none_or(|t| now_ms <= t))
                .count();
            m.set(
                COLLECTOR_MITIGATIONS,
                &[("mitigation", name.clone())],
                n as f64,
            );
        }
    }
}
