//! Player impact, and the severity it earns: pure functions of what the
//! collector knows of an incident's worlds and the fleet (gathered by
//! `Shared::impact_figures`), and of the rules in `[incidents]`.
//!
//! A world is *affected* while it is down (probe failing, not ticking, its
//! agent silent) or any SLO there is outside its objective over the impact
//! window; an incident's world that is neither counts as *mitigated*.

use liveops_config::SeverityRule;
use serde::{Deserialize, Serialize};

use super::model::Sev;
use crate::slo::Counts;

/// One of an incident's worlds, as the collector sees it now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorldFigures {
    pub world: String,
    /// Players online (the `players.online` gauge, its latest value; a
    /// down world keeps its last known count: those players are the ones
    /// locked out).
    pub players: f64,
    pub down: bool,
    /// SLOs outside their objective over the impact window.
    pub outside: Vec<String>,
    /// When the current bad run of those SLOs began, as far as the
    /// per-second buckets reach back.
    pub first_bad_ms: Option<u64>,
    /// The payment and login SLOs' counts over the window.
    pub payments: Counts,
    pub logins: Counts,
}

/// The whole fleet, over the same window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FleetFigures {
    pub players: f64,
    /// Payment attempts fleet-wide.
    pub payments: f64,
}

/// What an incident costs players right now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    pub at_ms: u64,
    /// Worlds affected now, and the incident's worlds that no longer are.
    pub affected: Vec<String>,
    pub mitigated: Vec<String>,
    /// The systems hurting: SLOs outside objective, `down` for a world down.
    pub systems: Vec<String>,
    pub players: f64,
    /// Of the fleet's online players, 0–1.
    pub players_share: f64,
    /// Payments failing per minute in affected worlds (rate × failure ratio).
    pub payments_failing_per_min: f64,
    /// Of the fleet's payments, the share failing in affected worlds.
    pub payments_share: f64,
    /// Share of logins failing in the incident's worlds; `None` without logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logins_failing: Option<f64>,
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        finite(part / whole).min(1.0)
    } else {
        0.0
    }
}

/// The impact of an incident on `worlds`, over a window of `window_ms`.
pub fn measure(worlds: &[WorldFigures], fleet: FleetFigures, window_ms: u64, now: u64) -> Impact {
    let mut i = Impact {
        at_ms: now,
        ..Impact::default()
    };
    let (mut failing, mut logins_bad, mut logins) = (0.0, 0.0, 0.0);
    for w in worlds {
        logins_bad += finite(w.logins.bad());
        logins += finite(w.logins.total);
        if !w.down && w.outside.is_empty() {
            i.mitigated.push(w.world.clone());
            continue;
        }
        i.affected.push(w.world.clone());
        i.players += finite(w.players);
        failing += finite(w.payments.bad());
        if w.down {
            i.systems.push("down".into());
        }
        i.systems.extend(w.outside.iter().cloned());
    }
    i.systems.sort();
    i.systems.dedup();
    i.players_share = share(i.players, finite(fleet.players).max(i.players));
    i.payments_share = share(failing, finite(fleet.payments).max(failing));
    let minutes = window_ms as f64 / 60_000.0;
    i.payments_failing_per_min = if minutes > 0.0 {
        finite(failing / minutes)
    } else {
        0.0
    };
    i.logins_failing = (logins > 0.0).then(|| share(logins_bad, logins));
    i
}

/// The severity `impact` earns under `rules` (worst first), and why.
pub fn rate(impact: &Impact, rules: &[SeverityRule]) -> (Sev, String) {
    let pct = |x: f64| format!("{:.1} %", x * 100.0);
    for r in rules {
        let mut why = Vec::new();
        if let Some(t) = r.players_share
            && impact.players_share >= t
        {
            why.push(format!(
                "{} of online players affected ({:.0}; threshold {})",
                pct(impact.players_share),
                impact.players,
                pct(t)
            ));
        }
        if let Some(t) = r.payments_share
            && impact.payments_share >= t
        {
            why.push(format!(
                "{} of payments failing ({:.1}/min; threshold {})",
                pct(impact.payments_share),
                impact.payments_failing_per_min,
                pct(t)
            ));
        }
        if let (Some(t), Some(l)) = (r.logins_failing, impact.logins_failing)
            && l >= t
        {
            why.push(format!(
                "{} of logins failing (threshold {})",
                pct(l),
                pct(t)
            ));
        }
        if let Some(t) = r.worlds
            && impact.affected.len() >= t as usize
        {
            why.push(format!(
                "{} worlds affected (threshold {t})",
                impact.affected.len()
            ));
        }
        if !why.is_empty() {
            return (r.severity, why.join("; "));
        }
    }
    if impact.affected.is_empty() {
        (
            Sev::Sev4,
            "no world affected: every SLO within objective".into(),
        )
    } else {
        let n = impact.affected.len();
        (
            Sev::Sev3,
            format!(
                "{n} world{} affected ({}), {} of online players, {} of payments failing",
                if n == 1 { "" } else { "s" },
                impact.systems.join(", "),
                pct(impact.players_share),
                pct(impact.payments_share)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(name: &str, players: f64, outside: &[&str]) -> WorldFigures {
        WorldFigures {
            world: name.into(),
            players,
            outside: outside.iter().map(|s| (*s).to_owned()).collect(),
            ..WorldFigures::default()
        }
    }

    #[test]
    fn players_in_affected_worlds_count_and_mitigated_ones_do_not() {
        let mut w2 = world("w2", 700.0, &[]);
        w2.payments = Counts {
            good: 10.0,
            total: 40.0,
        };
        let ws = [world("w1", 300.0, &["error_rate"]), w2];
        let fleet = FleetFigures {
            players: 2000.0,
            payments: 100.0,
        };
        let i = measure(&ws, fleet, 60_000, 5);
        assert_eq!(i.affected, ["w1"]);
        assert_eq!(i.mitigated, ["w2"]);
        assert_eq!(i.players_share, 0.15);
        // w2's failing payments do not count: w2 is within objective.
        assert_eq!(i.payments_share, 0.0);
        let rules = liveops_config::default_collector().incidents.rules;
        let (sev, why) = rate(&i, &rules);
        assert_eq!(sev, Sev::Sev2, "{why}");
        assert!(
            why.starts_with("15.0 % of online players affected (300;"),
            "{why}"
        );
    }

    #[test]
    fn payments_failing_fleet_wide_make_sev1_and_bad_numbers_count_as_nothing() {
        let mut w = world("w1", f64::NAN, &["payment_success"]);
        w.down = true;
        w.payments = Counts {
            good: 10.0,
            total: 60.0,
        };
        w.logins = Counts {
            good: f64::INFINITY,
            total: f64::INFINITY,
        };
        let fleet = FleetFigures {
            players: f64::INFINITY,
            payments: 200.0,
        };
        let i = measure(&[w], fleet, 60_000, 5);
        assert_eq!(i.players, 0.0);
        assert_eq!(i.payments_share, 0.25);
        assert_eq!(i.payments_failing_per_min, 50.0);
        assert_eq!(i.systems, ["down", "payment_success"]);
        let rules = liveops_config::default_collector().incidents.rules;
        assert_eq!(rate(&i, &rules).0, Sev::Sev1);
        let none = measure(&[world("w1", 10.0, &[])], fleet, 60_000, 5);
        assert_eq!(rate(&none, &rules).0, Sev::Sev4);
        assert_eq!(rate(&none, &[]).0, Sev::Sev4);
    }
}
