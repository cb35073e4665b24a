//! Tests of the acute alerts: precedence of the world-level ones and the
//! failure-burst rule.

use super::*;
use crate::slo::test_support::{ratio_bad_slo, ratio_good_slo, requests_report, uptime_slo};

const NO_DATA_AFTER: Duration = Duration::from_secs(60);
const NOW: u64 = 1_000_000;

fn engine() -> Engine {
    Engine::new(vec![uptime_slo(), ratio_bad_slo(&[]), ratio_good_slo(&[])])
}

fn live(world: &str, ago_ms: u64, probe_ok: bool, stalled: bool) -> WorldLive {
    let mut health = requests_report(world, 0, 0.0, 0.0).health;
    health.probe_ok = probe_ok;
    health.stalled = stalled;
    health.up = probe_ok && !stalled;
    health.last_tick_age_ms = Some(1200);
    WorldLive {
        world: world.into(),
        last_report_ms: NOW - ago_ms,
        health,
    }
}

fn names(candidates: &[Candidate]) -> Vec<&str> {
    candidates
        .iter()
        .filter_map(|c| c.label("alertname"))
        .collect()
}

#[test]
fn agent_silent_hides_world_down_and_tick_stalled() {
    let cases = [
        // (ms since last report, probe ok, stalled, alerts)
        (5_000, true, false, vec![]),
        (5_000, false, false, vec!["WorldDown"]),
        (5_000, true, true, vec!["TickStalled"]),
        // A failing probe says more than a missing tick.
        (5_000, false, true, vec!["WorldDown"]),
        (60_000, true, false, vec![]),
        (60_001, true, false, vec!["AgentSilent"]),
        (61_000, false, true, vec!["AgentSilent"]),
    ];
    let engine = engine();
    for (ago, probe_ok, stalled, expected) in cases {
        let worlds = [live("w2", ago, probe_ok, stalled)];
        let candidates = acute_alerts(&engine, &worlds, NO_DATA_AFTER, NOW);
        assert_eq!(
            names(&candidates),
            expected,
            "{ago} ms ago, probe {probe_ok}, stalled {stalled}"
        );
        for c in &candidates {
            assert_eq!(
                (c.label("world"), c.label("slo")),
                (Some("w2"), Some("uptime"))
            );
            assert_eq!(c.label("severity"), Some("page"));
            assert_eq!(c.annotations["owner"], "team-game");
        }
    }
}

#[test]
fn summaries_say_what_is_wrong_in_plain_words() {
    let engine = engine();
    let mut down = live("w1", 0, false, false);
    down.health.detail = Some("health endpoint answered 503".into());
    let worlds = [
        live("w0", 150_000, true, false),
        down,
        live("w2", 0, true, true),
    ];
    let candidates = acute_alerts(&engine, &worlds, NO_DATA_AFTER, NOW);
    let summaries: Vec<&str> = candidates
        .iter()
        .map(|c| c.annotations["summary"].as_str())
        .collect();
    assert_eq!(
        summaries,
        [
            "w0: no report from its agent for 2.5 min (limit 1.0 min)",
            "w1 is down: its health probe fails: health endpoint answered 503",
            "w2 is not ticking: last tick 1.2 s ago (usual interval 100 ms)",
        ]
    );
}

#[test]
fn without_an_uptime_slo_world_alerts_still_page() {
    let engine = Engine::new(vec![ratio_bad_slo(&[])]);
    let worlds = [live("w1", 0, false, false)];
    let candidates = acute_alerts(&engine, &worlds, NO_DATA_AFTER, NOW);
    assert_eq!(names(&candidates), ["WorldDown"]);
    assert_eq!(candidates[0].label("slo"), Some("uptime"));
    assert_eq!(candidates[0].annotations["owner"], "");
}

#[test]
fn high_failure_ratio_needs_enough_events_and_a_high_ratio() {
    // Acute window 30 s, at least 20 events, more than 50 % failing.
    let cases = [
        // (ok/s, error/s, seconds of reports, fires)
        (1.0, 1.0, 30, false), // exactly 50 %
        (0.0, 1.0, 10, false), // 10 events: too few
        (0.0, 1.0, 30, true),
        (2.0, 3.0, 30, true),
        (2.0, 3.0, 300, true), // only the last 30 s count
        (0.0, 0.0, 30, false),
    ];
    for (ok, error, secs, fires) in cases {
        let mut engine = engine();
        for s in 0..secs {
            engine.ingest(&requests_report("w1", NOW - (secs - s) * 1000, ok, error));
        }
        let candidates = acute_alerts(&engine, &[live("w1", 0, true, false)], NO_DATA_AFTER, NOW);
        // Only the error-rate SLO has `acute` on; the other sees the same
        // failures and stays quiet.
        let expected: &[&str] = if fires { &["HighFailureRatio"] } else { &[] };
        assert_eq!(
            names(&candidates),
            expected,
            "{ok} ok + {error} errors/s for {secs} s"
        );
        if let Some(c) = candidates.first() {
            assert_eq!(c.label("slo"), Some("error_rate"));
        }
    }
}

#[test]
fn high_failure_ratio_summary_and_silence() {
    let mut engine = engine();
    for s in 0..30 {
        engine.ingest(&requests_report("w1", NOW - (30 - s) * 1000, 2.0, 3.0));
    }
    let candidates = acute_alerts(&engine, &[live("w1", 0, true, false)], NO_DATA_AFTER, NOW);
    assert_eq!(
        candidates[0].annotations["summary"],
        "w1 error_rate: 60% of 150 events failed in the last 30s (limit 50%)"
    );
    // The same buckets seen from a silent agent: nothing is known.
    let candidates = acute_alerts(
        &engine,
        &[live("w1", 90_000, true, false)],
        NO_DATA_AFTER,
        NOW,
    );
    assert_eq!(names(&candidates), ["AgentSilent"]);
}

#[test]
fn a_stalled_world_is_described_by_what_its_probe_really_says() {
    let engine = engine();
    let stalled = |probed: bool, failures: u32, error: Option<&str>| {
        let mut w = live("w2", 0, true, true);
        w.health.probed = probed;
        w.health.probe_failures = failures;
        w.health.probe_error = error.map(str::to_owned);
        let c = acute_alerts(&engine, &[w], NO_DATA_AFTER, NOW);
        c[0].annotations["description"].clone()
    };
    let cases = [
        (false, 0, None, "no health endpoint to probe"),
        (true, 0, None, "still answers the health probe"),
        (
            true,
            1,
            Some("HTTP 503"),
            "last 1 health probe failed (HTTP 503)",
        ),
    ];
    for (probed, failures, error, want) in cases {
        let d = stalled(probed, failures, error);
        assert!(d.contains(want), "{probed} {failures}: {d}");
        if failures > 0 || !probed {
            assert!(!d.contains("still answers"), "{d}");
        }
    }
}
