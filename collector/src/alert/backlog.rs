//! `TickBacklog`: a world that still ticks but falls behind. Its overdue
//! scheduled work (the `tick.backlog` gauge) stays above a threshold for a
//! whole window and is larger at the end than at the start. A brief spike
//! that drains, or a high but shrinking backlog (the world catching up
//! after a stall), does not page.

use std::collections::VecDeque;

use liveops_config::{BacklogAlert, Severity, Slo};

use super::Candidate;
use super::rules::human_ms;

/// Newest sample older than this: the data is stale, say nothing (a silent
/// agent has its own alert).
const STALE_MS: u64 = 5_000;

/// The candidate for one world and one SLO's backlog rule, if it fires.
/// `samples` are (collector ms, value), oldest first.
pub fn backlog_alert(
    slo: &Slo,
    rule: &BacklogAlert,
    world: &str,
    samples: &VecDeque<(u64, f64)>,
    now_ms: u64,
) -> Option<Candidate> {
    let window = u64::try_from(rule.window.as_millis()).unwrap_or(u64::MAX);
    let start = now_ms.saturating_sub(window);
    let &(last_at, last) = samples.back()?;
    if now_ms.saturating_sub(last_at) > STALE_MS {
        return None;
    }
    // The window must be covered: a sample at or before its start (with a
    // report interval of slack), so a world seen for two seconds cannot
    // have "grown for 20 s".
    let covered = samples.front().is_some_and(|(t, _)| *t <= start + 1_000);
    let in_window: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| *t >= start)
        .map(|(_, v)| *v)
        .collect();
    let first = *in_window.first()?;
    let above = in_window.iter().all(|v| *v > rule.threshold);
    if !(covered && above && last > first) {
        return None;
    }
    let summary = format!(
        "{world} is falling behind: {} overdue events, up from {} {} ago (threshold {})",
        last.round(),
        first.round(),
        human_ms(window as f64),
        rule.threshold
    );
    let description = format!(
        "{world} still ticks, but scheduled work (`{}`) piles up faster than its ticks \
         resolve it: marches and battles land late for players. Every sample of the \
         last {} was above {}.",
        rule.metric,
        human_ms(window as f64),
        rule.threshold
    );
    let runbook = rule.runbook.as_deref().unwrap_or(&slo.runbook);
    Some(
        Candidate::new("TickBacklog", world, &slo.name, Severity::Page).annotated(
            summary,
            description,
            runbook,
            &slo.owner,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rule() -> BacklogAlert {
        BacklogAlert {
            metric: "tick.backlog".into(),
            threshold: 50.0,
            window: Duration::from_secs(20),
            runbook: Some("http://c/runbooks/tick-backlog".into()),
        }
    }

    fn slo() -> Slo {
        let mut s = crate::slo::test_support::uptime_slo();
        s.name = "tick_latency".into();
        s
    }

    const NOW: u64 = 1_000_000;

    /// One sample a second for the last `values.len()` seconds.
    fn series(values: &[f64]) -> VecDeque<(u64, f64)> {
        let n = values.len() as u64;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (NOW - (n - 1 - i as u64) * 1000, *v))
            .collect()
    }

    #[test]
    fn pages_only_when_above_the_threshold_and_growing_over_a_covered_window() {
        let growing: Vec<f64> = (0..25).map(|i| 60.0 + 10.0 * i as f64).collect();
        let shrinking: Vec<f64> = growing.iter().rev().copied().collect();
        let mut dipped = growing.clone();
        dipped[15] = 10.0;
        type Case = (&'static str, VecDeque<(u64, f64)>, u64, bool);
        let cases: [Case; 6] = [
            ("growing for 25 s", series(&growing), NOW, true),
            ("catching up", series(&shrinking), NOW, false),
            ("dipped under the threshold", series(&dipped), NOW, false),
            ("seen for 5 s only", series(&growing[20..]), NOW, false),
            ("flat", series(&[80.0; 25]), NOW, false),
            ("stale", series(&growing), NOW + 6_000, false),
        ];
        for (what, samples, now, fires) in cases {
            let got = backlog_alert(&slo(), &rule(), "w2", &samples, now);
            assert_eq!(got.is_some(), fires, "{what}");
        }
        let c = backlog_alert(&slo(), &rule(), "w2", &series(&growing), NOW).unwrap();
        assert_eq!(
            c.annotations["summary"],
            "w2 is falling behind: 300 overdue events, up from 100 20.0 s ago (threshold 50)"
        );
        assert_eq!(
            c.annotations["runbook_url"],
            "http://c/runbooks/tick-backlog"
        );
        assert_eq!(c.label("slo"), Some("tick_latency"));
    }
}
