//! Multi-window burn-rate alerts (Google SRE workbook, chapter 5).
//!
//! A rule fires when both its long and its short window burn the error
//! budget faster than `factor`: the long window proves the budget is really
//! being spent, the short one that it is still happening, so the alert
//! resolves minutes after a recovery instead of an hour later.

use std::collections::BTreeMap;

use liveops_config::{AlertingConfig, BurnRateRule, Severity, Slo};

use crate::slo::{Engine, burn, window_name};

/// An alert condition that holds now: what the rules want to be firing.
/// The [`AlertBook`](super::AlertBook) turns a stream of these into
/// notifications.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Identity: `alertname`, `world` (or `fleet`), `slo`, `severity`.
    pub labels: BTreeMap<String, String>,
    /// Text for people: `summary`, `description`, `runbook_url`, `owner`.
    pub annotations: BTreeMap<String, String>,
}

impl Candidate {
    /// A candidate about `slo` in `world` (`fleet` for fleet-wide).
    pub fn new(alertname: &str, world: &str, slo: &str, severity: Severity) -> Candidate {
        let labels = [
            ("alertname", alertname),
            ("world", world),
            ("slo", slo),
            ("severity", severity.as_str()),
        ];
        let labels = labels
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Candidate {
            labels,
            annotations: BTreeMap::new(),
        }
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    pub(crate) fn with_label(mut self, key: &str, value: String) -> Candidate {
        self.labels.insert(key.to_string(), value);
        self
    }

    /// Sets the four annotations every candidate carries.
    pub(crate) fn annotated(
        mut self,
        summary: String,
        description: String,
        runbook: &str,
        owner: &str,
    ) -> Candidate {
        for (k, v) in [("summary", summary), ("description", description)] {
            self.annotations.insert(k.to_string(), v);
        }
        self.annotations
            .insert("runbook_url".into(), runbook.to_string());
        self.annotations.insert("owner".into(), owner.to_string());
        self
    }
}

/// A rule that fires, with the burn rates that made it.
struct Firing<'a> {
    rule: &'a BurnRateRule,
    long: f64,
    short: f64,
    events: f64,
}

/// `ErrorBudgetBurn` candidates for every scope (fleet and each world), SLO
/// and severity whose rules fire at `now_ms`.
///
/// When several rules of one severity fire, only the one with the highest
/// long-window burn is emitted: one page per problem, not one per rule.
pub fn burn_rate_alerts(engine: &Engine, alerting: &AlertingConfig, now_ms: u64) -> Vec<Candidate> {
    burn_rate_alerts_where(engine, alerting, now_ms, |_| true)
}

/// [`burn_rate_alerts`] for the scopes whose `world` label `keep` accepts:
/// how the collector spreads this work over several evaluations.
pub fn burn_rate_alerts_where(
    engine: &Engine,
    alerting: &AlertingConfig,
    now_ms: u64,
    keep: impl Fn(&str) -> bool,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for view in engine.views().filter(|v| keep(v.scope().label())) {
        let history = view.history(now_ms);
        for (i, slo) in engine.slos().iter().enumerate() {
            let mut fastest: BTreeMap<Severity, Firing> = BTreeMap::new();
            for rule in &alerting.burn_rates {
                // A window holding less data than the short window is a
                // handful of seconds judged as if they were hours: right after
                // a world (or liveops) starts, one unlucky error would raise a
                // 3-day ticket. Total failures are the acute alerts' job.
                if history < rule.short {
                    continue;
                }
                let long = view.window(i, now_ms, rule.long);
                // A quiet world with 3 events and 1 error burns at 333× a
                // 99.9 % budget; that is noise, not an outage.
                if long.total < alerting.min_events {
                    continue;
                }
                let short = view.window(i, now_ms, rule.short);
                let (Some(long_burn), Some(short_burn)) = (
                    burn::burn_rate(long, slo.objective),
                    burn::burn_rate(short, slo.objective),
                ) else {
                    continue;
                };
                let fires = long_burn > rule.factor && short_burn > rule.factor;
                if fires
                    && fastest
                        .get(&rule.severity)
                        .is_none_or(|f| long_burn > f.long)
                {
                    let firing = Firing {
                        rule,
                        long: long_burn,
                        short: short_burn,
                        events: long.total,
                    };
                    fastest.insert(rule.severity, firing);
                }
            }
            // Page before ticket, so the order of notifications is stable.
            for firing in fastest.into_values().rev() {
                out.push(burn_candidate(view.scope().label(), slo, &firing));
            }
        }
    }
    out
}

fn burn_candidate(world: &str, slo: &Slo, f: &Firing) -> Candidate {
    let (long, short) = (window_name(f.rule.long), window_name(f.rule.short));
    let severity = f.rule.severity.as_str();
    let summary = format!(
        "{world} {} burning error budget {:.1}× ({long}) / {:.1}× ({short}), {severity}",
        slo.name, f.long, f.short
    );
    let description = format!(
        "{world}: SLO {} ({} over {}) is spending its error budget {:.1}× faster than sustainable \
         over the last {long} ({:.0} events) and {:.1}× over the last {short} (threshold {}×). \
         At this rate the whole {} budget lasts {}. {}",
        slo.name,
        percent(slo.objective),
        window_name(slo.period),
        f.long,
        f.events,
        f.short,
        f.rule.factor,
        window_name(slo.period),
        human_ms(slo.period.as_millis() as f64 / f.long),
        slo.description,
    );
    Candidate::new("ErrorBudgetBurn", world, &slo.name, f.rule.severity)
        .with_label("window", format!("{long}/{short}"))
        .annotated(
            summary,
            description.trim_end().to_string(),
            &slo.runbook,
            &slo.owner,
        )
}

/// `0.999` → `99.9%`.
pub(crate) fn percent(share: f64) -> String {
    let p = format!("{:.3}", share * 100.0);
    format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
}

/// A duration for people (shared with the CLI).
pub(crate) use liveops_protocol::time::human_ms;

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
