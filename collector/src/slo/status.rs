//! The status API's rows: every SLO fleet-wide and in every world, with its
//! SLI, error budget and burn rates. Computed on request (`/api/v1/slos`,
//! `/metrics`), never by the alert rules.

use std::time::Duration;

use liveops_config::{BurnRateRule, SloKind};
use serde::Serialize;

use super::{Engine, Scope, burn, window_name};

/// One row of the status API: an SLO in one world or fleet-wide.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SloStatus {
    /// `None` for fleet-wide.
    pub world: Option<String>,
    pub slo: String,
    pub kind: &'static str,
    pub objective: f64,
    pub period_seconds: u64,
    /// Over the whole period; `None` without events.
    pub sli: Option<f64>,
    /// Events (seconds, for uptime) over the period.
    pub events: f64,
    pub error_budget_remaining: Option<f64>,
    /// Every distinct window of the burn-rate rules, shortest first.
    pub burn_rates: Vec<WindowBurn>,
    pub owner: String,
    pub runbook: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowBurn {
    /// Short form such as `5m`, `1h`, `3d`.
    pub window: String,
    pub burn_rate: Option<f64>,
}

impl Engine {
    /// Every SLO fleet-wide and in every world, with burn rates over every
    /// window that `rules` use.
    pub fn status(&self, now_ms: u64, rules: &[BurnRateRule]) -> Vec<SloStatus> {
        let windows = windows(rules);
        let mut rows = Vec::new();
        for scope in self.scopes() {
            self.scope_status(scope, &windows, now_ms, &mut rows);
        }
        rows
    }

    /// The fleet-wide rows: the first part of a status read in slices.
    pub fn status_fleet(&self, now_ms: u64, rules: &[BurnRateRule]) -> Vec<SloStatus> {
        let mut rows = Vec::new();
        self.scope_status(Scope::Fleet, &windows(rules), now_ms, &mut rows);
        rows
    }

    /// The rows of at most `limit` worlds after `after` in name order, and
    /// the last world read (`None` once past the last): a status read in
    /// slices, so that no caller holds the collector's lock for a whole
    /// fleet. A world that joins meanwhile is read if its name comes later.
    pub fn status_worlds(
        &self,
        now_ms: u64,
        rules: &[BurnRateRule],
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<SloStatus>, Option<String>) {
        use std::ops::Bound::{Excluded, Unbounded};
        let windows = windows(rules);
        let from = after.map_or(Unbounded, Excluded);
        let mut rows = Vec::new();
        let mut last = None;
        for (world, _) in self.worlds.range::<str, _>((from, Unbounded)).take(limit) {
            self.scope_status(Scope::World(world), &windows, now_ms, &mut rows);
            last = Some(world.clone());
        }
        (rows, last)
    }

    fn scope_status(
        &self,
        scope: Scope<'_>,
        windows: &[Duration],
        now_ms: u64,
        rows: &mut Vec<SloStatus>,
    ) {
        for (i, slo) in self.slos.iter().enumerate() {
            let period = self.window(scope, i, now_ms, slo.period);
            let burn_rates = windows
                .iter()
                .map(|w| WindowBurn {
                    window: window_name(*w),
                    burn_rate: burn::burn_rate(self.window(scope, i, now_ms, *w), slo.objective),
                })
                .collect();
            rows.push(SloStatus {
                world: match scope {
                    Scope::World(w) => Some(w.to_string()),
                    Scope::Fleet => None,
                },
                slo: slo.name.clone(),
                kind: kind_name(&slo.kind),
                objective: slo.objective,
                period_seconds: slo.period.as_secs(),
                sli: burn::sli(period),
                events: period.total,
                error_budget_remaining: burn::budget_remaining(period, slo.objective),
                burn_rates,
                owner: slo.owner.clone(),
                runbook: slo.runbook.clone(),
            });
        }
    }
}

/// Every distinct window of the burn-rate rules, shortest first.
fn windows(rules: &[BurnRateRule]) -> Vec<Duration> {
    let mut windows: Vec<Duration> = rules.iter().flat_map(|r| [r.long, r.short]).collect();
    windows.sort();
    windows.dedup();
    windows
}

fn kind_name(kind: &SloKind) -> &'static str {
    match kind {
        SloKind::Uptime => "uptime",
        SloKind::Ratio { .. } => "ratio",
        SloKind::Latency { .. } => "latency",
    }
}
