//! Response times, from the collector's own timestamps: time to detect
//! (first bad signal → alert), to acknowledge (alert → someone on it), to
//! mitigate (first bad signal → every SLO back within objective) and to
//! resolve (first bad signal → resolved).

use serde::Serialize;

use super::book::LIVEOPS;
use super::model::{Incident, State, What};

/// The phases, as `/metrics` labels them.
pub const PHASES: [&str; 4] = ["detect", "acknowledge", "mitigate", "resolve"];

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Times {
    /// The first bad signal, else the alert, else when it was opened.
    pub started_ms: u64,
    pub detected_ms: Option<u64>,
    pub acknowledged_ms: Option<u64>,
    pub mitigated_ms: Option<u64>,
    pub resolved_ms: Option<u64>,
}

impl Times {
    /// Seconds of each phase reached, by [`PHASES`] order.
    pub fn seconds(&self) -> [(&'static str, Option<f64>); 4] {
        let since = |from: u64, to: Option<u64>| to.map(|t| t.saturating_sub(from) as f64 / 1e3);
        let detected = self.detected_ms.unwrap_or(self.started_ms);
        [
            (
                "detect",
                self.detected_ms
                    .and(since(self.started_ms, self.detected_ms)),
            ),
            ("acknowledge", since(detected, self.acknowledged_ms)),
            ("mitigate", since(self.started_ms, self.mitigated_ms)),
            ("resolve", since(self.started_ms, self.resolved_ms)),
        ]
    }
}

pub fn times(inc: &Incident) -> Times {
    let first = |f: &dyn Fn(&What, &str) -> bool| {
        inc.timeline
            .iter()
            .find(|e| f(&e.what, &e.by))
            .map(|e| e.at_ms)
    };
    let detected = first(&|w, _| match w {
        What::Page { .. } => true,
        What::Signal { source, event, .. } => source == "alert" && event == "firing",
        _ => false,
    });
    // A page acknowledged, or a person acting on the incident.
    let acknowledged = first(&|w, by| match w {
        What::Signal { source, event, .. } => source == "page" && event == "acked",
        What::Opened => false,
        _ => by != LIVEOPS,
    });
    let started = match (inc.marks.first_bad_ms, detected) {
        (Some(b), Some(d)) => b.min(d),
        (b, d) => b.or(d).unwrap_or(inc.opened_ms),
    };
    // Marked by hand, or resolved without passing through mitigated.
    let resolved = inc.entered.get(&State::Resolved).copied();
    let by_hand = inc.entered.get(&State::Mitigated).copied().or(resolved);
    let mitigated = match (inc.marks.mitigated_ms, by_hand) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Times {
        started_ms: started,
        detected_ms: detected,
        acknowledged_ms: acknowledged,
        mitigated_ms: mitigated,
        resolved_ms: resolved,
    }
}
