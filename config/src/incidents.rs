//! The collector file's `[incidents]` section: how pages join incidents and
//! how an incident's severity follows its player impact.
//!
//! ```toml
//! [incidents]
//! join_window = "10m"
//! impact_window = "1m"
//! settle = "5m"
//! payments_slo = "payment_success"
//! logins_slo = "auth_latency"
//!
//! [[incidents.severity]]
//! severity = "SEV1"
//! players_share = 0.20
//! payments_share = 0.20
//! ```

use std::time::Duration;

use liveops_protocol::Severity;
use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use crate::document::decode;
use crate::error::Sink;
use crate::values;

/// How incidents are joined and rated.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentsConfig {
    /// A page within this long of an incident's newest page (same team)
    /// joins it instead of opening another.
    pub join_window: Duration,
    /// Player impact is measured over this trailing window.
    pub impact_window: Duration,
    /// A computed severity falls only once the lower impact has held this
    /// long (it rises at once): players drifting around a threshold must
    /// not flap the severity and its notifications.
    pub settle: Duration,
    /// An SLO needs this many events in the impact window to call a world
    /// affected by it (two failed logins of three say nothing).
    pub min_events: f64,
    /// The SLO whose failures are payments at risk; `None`: no payment
    /// figure.
    pub payments_slo: Option<String>,
    /// The SLO whose failures are logins failing.
    pub logins_slo: Option<String>,
    /// Worst first; the first rule any of whose thresholds is reached sets
    /// the severity. None reached: SEV3 while any world is affected, SEV4
    /// once none is.
    pub rules: Vec<SeverityRule>,
}

/// One severity and the impact that reaches it (any one threshold).
#[derive(Clone, Debug, PartialEq)]
pub struct SeverityRule {
    pub severity: Severity,
    /// Share of the fleet's online players in affected worlds, 0–1.
    pub players_share: Option<f64>,
    /// Share of the fleet's payments that fail in affected worlds, 0–1.
    pub payments_share: Option<f64>,
    /// Share of logins failing in the incident's worlds, 0–1.
    pub logins_failing: Option<f64>,
    /// Worlds affected at once.
    pub worlds: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIncidents {
    join_window: Option<Spanned<String>>,
    impact_window: Option<Spanned<String>>,
    settle: Option<Spanned<String>>,
    min_events: Option<Spanned<f64>>,
    payments_slo: Option<Spanned<String>>,
    logins_slo: Option<Spanned<String>>,
    severity: Option<Vec<Spanned<RawRule>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    severity: Spanned<String>,
    players_share: Option<Spanned<f64>>,
    payments_share: Option<Spanned<f64>>,
    logins_failing: Option<Spanned<f64>>,
    worlds: Option<Spanned<i64>>,
}

/// The SLO names the section refers to, checked once every SLO is read.
pub(crate) struct SloRefs {
    pub(crate) payments: Option<Spanned<String>>,
    pub(crate) logins: Option<Spanned<String>>,
}

/// The defaults: the shipped file's values.
pub(crate) fn defaults() -> IncidentsConfig {
    IncidentsConfig {
        join_window: Duration::from_secs(600),
        impact_window: Duration::from_secs(60),
        settle: Duration::from_secs(300),
        min_events: 10.0,
        payments_slo: Some("payment_success".into()),
        logins_slo: Some("auth_latency".into()),
        rules: vec![
            SeverityRule {
                severity: Severity::Sev1,
                players_share: Some(0.20),
                payments_share: Some(0.20),
                logins_failing: None,
                worlds: None,
            },
            SeverityRule {
                severity: Severity::Sev2,
                players_share: Some(0.05),
                payments_share: Some(0.05),
                logins_failing: Some(0.25),
                worlds: Some(3),
            },
        ],
    }
}

fn share(v: &Option<Spanned<f64>>, what: &str, sink: &mut Sink<'_>) -> Option<f64> {
    let v = v.as_ref()?;
    let x = *v.get_ref();
    if !(x.is_finite() && x > 0.0 && x <= 1.0) {
        sink.at(
            v.span(),
            format!("{what} is a share in (0, 1], e.g. 0.2, not {x}"),
        );
        return None;
    }
    Some(x)
}

/// Checks an `[incidents]` table and applies what it sets; returns the SLO
/// names it gives, for [`check_slos`].
pub(crate) fn apply(
    value: Spanned<DeValue<'_>>,
    cfg: &mut IncidentsConfig,
    sink: &mut Sink<'_>,
) -> SloRefs {
    let none = SloRefs {
        payments: None,
        logins: None,
    };
    let Some(raw) = decode::<RawIncidents>(value, sink) else {
        return none;
    };
    for (v, what, slot) in [
        (&raw.join_window, "join_window", &mut cfg.join_window),
        (&raw.impact_window, "impact_window", &mut cfg.impact_window),
        (&raw.settle, "settle", &mut cfg.settle),
    ] {
        if let Some(d) = v.as_ref().and_then(|d| values::duration(d, what, sink)) {
            *slot = d;
        }
    }
    if let Some(w) = &raw.impact_window
        && cfg.impact_window > Duration::from_secs(6 * 3600)
    {
        sink.at(w.span(), "impact_window must be at most 6h");
    }
    if let Some(m) = &raw.min_events {
        let x = *m.get_ref();
        if x.is_finite() && x >= 0.0 {
            cfg.min_events = x;
        } else {
            sink.at(m.span(), format!("min_events must be 0 or more, not {x}"));
        }
    }
    // `""` turns a figure off.
    let slo = |v: &Option<Spanned<String>>, slot: &mut Option<String>| {
        if let Some(s) = v {
            *slot = Some(s.get_ref().clone()).filter(|s| !s.is_empty());
        }
    };
    slo(&raw.payments_slo, &mut cfg.payments_slo);
    slo(&raw.logins_slo, &mut cfg.logins_slo);
    if let Some(rules) = raw.severity {
        cfg.rules = rules.into_iter().filter_map(|r| rule(r, sink)).collect();
        cfg.rules.sort_by_key(|r| r.severity);
        for pair in cfg.rules.windows(2) {
            if pair[0].severity == pair[1].severity {
                sink.at(
                    0..0,
                    format!(
                        "[[incidents.severity]]: {} has two rules; give it one",
                        pair[0].severity
                    ),
                );
            }
        }
    }
    SloRefs {
        payments: raw.payments_slo.filter(|s| !s.get_ref().is_empty()),
        logins: raw.logins_slo.filter(|s| !s.get_ref().is_empty()),
    }
}

fn rule(r: Spanned<RawRule>, sink: &mut Sink<'_>) -> Option<SeverityRule> {
    let span = r.span();
    let r = r.into_inner();
    let severity = Severity::parse(r.severity.get_ref());
    if severity.is_none() {
        sink.at(
            r.severity.span(),
            format!(
                "unknown severity `{}`, expected SEV1, SEV2, SEV3 or SEV4",
                r.severity.get_ref()
            ),
        );
    }
    let worlds = match &r.worlds {
        Some(w) => match u32::try_from(*w.get_ref()) {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                sink.at(
                    w.span(),
                    format!("worlds must be 1 or more, not {}", w.get_ref()),
                );
                None
            }
        },
        None => None,
    };
    let out = SeverityRule {
        severity: severity?,
        players_share: share(&r.players_share, "players_share", sink),
        payments_share: share(&r.payments_share, "payments_share", sink),
        logins_failing: share(&r.logins_failing, "logins_failing", sink),
        worlds,
    };
    let given = [&r.players_share, &r.payments_share, &r.logins_failing]
        .iter()
        .any(|v| v.is_some())
        || r.worlds.is_some();
    if !given {
        sink.at(
            span,
            "a severity rule needs a threshold: players_share, payments_share, logins_failing or worlds",
        );
    }
    Some(out)
}

/// The named SLOs must be SLOs of the file, of a kind with failures.
pub(crate) fn check_slos(refs: SloRefs, slos: &[crate::Slo], sink: &mut Sink<'_>) {
    for (r, what) in [(refs.payments, "payments_slo"), (refs.logins, "logins_slo")] {
        let Some(r) = r else { continue };
        if !slos.iter().any(|s| s.name == *r.get_ref()) {
            let names: Vec<&str> = slos.iter().map(|s| s.name.as_str()).collect();
            sink.at(
                r.span(),
                format!(
                    "{what} `{}` is not an SLO of this file (SLOs: {}; \"\" turns it off)",
                    r.get_ref(),
                    names.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "incidents_tests.rs"]
mod tests;
