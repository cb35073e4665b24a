//! Tests of [`Engine`]: per-world and fleet sums, status rows, pruning and
//! persistence.

use super::test_support::{
    ChunkStore, DAY, HOUR, MIN, latency_slo, ratio_bad_slo, report, requests_report, uptime_slo,
    workbook_alerting,
};
use super::*;

fn engine() -> Engine {
    Engine::new(vec![
        uptime_slo(),
        ratio_bad_slo(&[]),
        latency_slo(250.0, &[]),
    ])
}

/// Ten seconds of `w1` fully up with 9 ok / 1 error a second, and of `w2`
/// up a quarter of the time with 10 ok.
fn two_worlds() -> Engine {
    let mut e = engine();
    for sec in 0..10 {
        e.ingest(&requests_report("w1", sec * 1000, 9.0, 1.0));
        let mut r = requests_report("w2", sec * 1000, 10.0, 0.0);
        r.health.up_ms = 250;
        e.ingest(&r);
    }
    e
}

#[test]
fn windows_per_world_and_fleet_wide() {
    let e = two_worlds();
    let w = Duration::from_secs(60);
    let cases = [
        // (scope, SLO, good, total); fleet uptime is up seconds over
        // observed seconds of all worlds together.
        (Scope::World("w1"), 0, 10.0, 10.0),
        (Scope::World("w2"), 0, 2.5, 10.0),
        (Scope::Fleet, 0, 12.5, 20.0),
        (Scope::World("w1"), 1, 90.0, 100.0),
        (Scope::Fleet, 1, 190.0, 200.0),
        (Scope::Fleet, 2, 0.0, 0.0),
        (Scope::World("nowhere"), 1, 0.0, 0.0),
        (Scope::Fleet, 7, 0.0, 0.0),
    ];
    for (scope, slo, good, total) in cases {
        assert_eq!(
            e.window(scope, slo, 10_000, w),
            Counts { good, total },
            "{scope:?} SLO {slo}"
        );
    }
    assert_eq!(e.worlds().collect::<Vec<_>>(), ["w1", "w2"]);
}

#[test]
fn status_has_a_row_per_scope_and_slo_with_every_rule_window() {
    let e = two_worlds();
    let rows = e.status(10_000, &workbook_alerting().burn_rates);
    assert_eq!(rows.len(), 3 * 3);
    let fleet_errors = &rows[1];
    assert_eq!(
        (fleet_errors.world.as_deref(), fleet_errors.slo.as_str()),
        (None, "error_rate")
    );
    assert_eq!(fleet_errors.kind, "ratio");
    assert_eq!(fleet_errors.period_seconds, 30 * 86_400);
    assert_eq!(fleet_errors.events, 200.0);
    assert_eq!(fleet_errors.sli, Some(0.95));
    let windows: Vec<&str> = fleet_errors
        .burn_rates
        .iter()
        .map(|b| b.window.as_str())
        .collect();
    assert_eq!(windows, ["5m", "30m", "1h", "6h", "3d"]);
    // 5 % errors against a 0.1 % budget, in every window.
    for b in &fleet_errors.burn_rates {
        let rate = b.burn_rate.expect("events");
        assert!((rate - 50.0).abs() < 1e-9, "{}: {rate}", b.window);
    }
    let budget = fleet_errors.error_budget_remaining.expect("events");
    assert!((budget + 49.0).abs() < 1e-9);
    let w2_uptime = rows
        .iter()
        .find(|r| r.world.as_deref() == Some("w2") && r.slo == "uptime");
    assert_eq!(w2_uptime.and_then(|r| r.sli), Some(0.25));
    // No latency events anywhere: no SLI rather than a perfect one.
    assert!(
        rows.iter()
            .filter(|r| r.kind == "latency")
            .all(|r| r.sli.is_none())
    );
}

#[test]
fn reports_are_recorded_just_before_their_end() {
    let mut e = engine();
    // Covers [59 s, 60 s): belongs to the first minute, not the second.
    e.ingest(&requests_report("w1", 59_000, 1.0, 0.0));
    let w = Duration::from_secs(60);
    assert_eq!(e.window(Scope::World("w1"), 1, 60_000, w).total, 1.0);
    assert_eq!(e.window(Scope::World("w1"), 1, 120_000, w).total, 0.0);
}

#[test]
fn prune_forgets_worlds_silent_for_a_whole_period() {
    let mut e = engine();
    e.ingest(&report("gone", 0, 1000));
    e.ingest(&report("alive", 0, 1000));
    let later = 31 * DAY.as_millis() as u64;
    e.ingest(&report("alive", later - 1000, later));
    e.prune(later);
    assert_eq!(e.worlds().collect::<Vec<_>>(), ["alive"]);
}

#[test]
fn a_checkpoint_slice_ages_and_forgets_only_its_own_worlds() {
    let mut e = engine();
    for w in ["a", "b", "c", "d"] {
        e.ingest(&report(w, 0, 1000));
    }
    let later = 31 * DAY.as_millis() as u64;
    for w in ["a", "c"] {
        e.ingest(&report(w, later - 1000, later));
    }
    // Slices of two: `a` and the stale `b`, then `c` and the stale `d`.
    let (ops, last) = e.checkpoint_slice(None, 2, later);
    assert_eq!(last.as_deref(), Some("b"));
    assert_eq!(e.worlds().collect::<Vec<_>>(), ["a", "c", "d"]);
    let deleted = |ops: &[persist::StoreOp], w: &str| {
        ops.iter().any(|op| {
            matches!(op, persist::StoreOp::Delete(from, _) if from.ends_with(format!("{w}\0").as_bytes()))
        })
    };
    assert!(deleted(&ops, "b") && !deleted(&ops, "d"));
    let (ops, last) = e.checkpoint_slice(last.as_deref(), 2, later);
    assert_eq!(last.as_deref(), Some("d"));
    assert_eq!(e.worlds().collect::<Vec<_>>(), ["a", "c"]);
    assert!(deleted(&ops, "d") && !deleted(&ops, "b"));
    assert_eq!(
        e.checkpoint_slice(last.as_deref(), 2, later),
        (vec![], None)
    );
}

#[test]
fn chunks_round_trip_and_unconfigured_slos_are_told() {
    let mut e = engine();
    for sec in 0..(2 * HOUR.as_secs()) {
        e.ingest(&requests_report("w1", sec * 1000, 99.0, 1.0));
    }
    let now = 2 * HOUR.as_millis() as u64;
    let mut store = ChunkStore::default();
    store.checkpoint(&mut e);

    // Restarted with the error-rate SLO only, in another position.
    let mut back = Engine::new(vec![latency_slo(100.0, &[]), ratio_bad_slo(&[])]);
    let mut unconfigured = 0;
    for (k, v) in &store.0 {
        match back.load_chunk(k, v) {
            Ok(persist::Loaded::Added) => {}
            Ok(persist::Loaded::Unconfigured) => unconfigured += 1,
            Err(e) => panic!("{e}"),
        }
    }
    back.finish_load();
    assert!(unconfigured > 0, "the uptime SLO's chunks are told apart");
    for w in [5 * MIN, HOUR, DAY] {
        let before = e.window(Scope::World("w1"), 1, now, w);
        let after = back.window(Scope::World("w1"), 1, now, w);
        assert!((before.total - after.total).abs() < 1e-6, "{w:?}");
        assert!((before.good - after.good).abs() < 1e-6, "{w:?}");
    }
    // The restored world counts as seen recently, so it is not pruned, and
    // what was just loaded is not written again.
    back.prune(now);
    assert_eq!(back.worlds().collect::<Vec<_>>(), ["w1"]);
    assert_eq!(back.take_chunks(), []);
    assert_eq!(
        back.load_chunk(b"series/w1", &[]),
        Err(persist::BadKey::Shape)
    );
}

#[test]
fn a_checkpoint_of_the_earlier_format_is_imported_and_then_chunked() {
    // As a collector before chunked series wrote it.
    let legacy = r#"{"series":[{"world":"w1","slo":"error_rate","state":{
        "minutes":{"start_ms":60000,"total":[10.0,20.0],"bad":[1.0,0.0]},
        "hours":{"start_ms":0,"total":[30.0],"bad":[1.0]}}}]}"#;
    let mut e = Engine::new(vec![ratio_bad_slo(&[])]);
    e.import(serde_json::from_str(legacy).expect("the earlier format"));
    let now = 3 * MIN.as_millis() as u64;
    assert_eq!(e.window(Scope::World("w1"), 0, now, 5 * MIN).total, 30.0);
    let mut store = ChunkStore::default();
    assert!(store.checkpoint(&mut e) >= 2, "written as chunks next time");
    let back = store.restore(vec![ratio_bad_slo(&[])]);
    assert_eq!(back.window(Scope::World("w1"), 0, now, 5 * MIN).total, 30.0);
}

#[test]
fn window_names() {
    let cases = [
        (Duration::from_secs(300), "5m"),
        (Duration::from_secs(90), "1m30s"),
        (HOUR, "1h"),
        (6 * HOUR, "6h"),
        (3 * DAY, "3d"),
        (DAY + HOUR, "1d1h"),
        (Duration::from_secs(30), "30s"),
        (Duration::from_millis(500), "500ms"),
    ];
    for (d, name) in cases {
        assert_eq!(window_name(d), name);
    }
}

#[test]
fn add_samples_replays_counts_by_slo_position() {
    let mut e = engine();
    let c = |good, total| Counts { good, total };
    // One count too few, then one too many: neither is an error.
    e.add_samples("w1", 999, &[c(1.0, 1.0), c(9.0, 10.0)]);
    e.add_samples(
        "w1",
        1999,
        &[c(1.0, 1.0), c(5.0, 5.0), c(3.0, 4.0), c(7.0, 7.0)],
    );
    let w = Duration::from_secs(10);
    let got: Vec<Counts> = (0..3)
        .map(|i| e.window(Scope::World("w1"), i, 2000, w))
        .collect();
    assert_eq!(got, [c(2.0, 2.0), c(14.0, 15.0), c(3.0, 4.0)]);
}
