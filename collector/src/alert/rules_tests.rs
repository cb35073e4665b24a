//! Tests of the burn-rate rules, on per-second reports as agents send them.

use super::*;
use crate::slo::test_support::{ratio_bad_slo, requests_report, workbook_alerting};

/// Feeds one-second reports of `world` for `secs` seconds from `from_s`.
fn feed(engine: &mut Engine, world: &str, from_s: u64, secs: u64, ok: f64, error: f64) {
    for s in from_s..from_s + secs {
        engine.ingest(&requests_report(world, s * 1000, ok, error));
    }
}

fn pages(candidates: &[Candidate]) -> Vec<(&str, &str)> {
    candidates
        .iter()
        .filter(|c| c.label("severity") == Some("page"))
        .map(|c| {
            (
                c.label("world").unwrap_or_default(),
                c.label("window").unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn workbook_example_total_outage_pages_after_about_52_seconds() {
    // 99.9 % over 30 days, page at 14.4× over 1 h and 5 min. A world at
    // 100 events/s goes from all good to all failing at t0: the 1 h burn is
    // t / 3600 s / 0.001, past 14.4 at t = 51.84 s. Seven hours of history,
    // or the 6h/30m rule (6×) would page a young world sooner.
    let alerting = workbook_alerting();
    let mut engine = Engine::new(vec![ratio_bad_slo(&[])]);
    let t0 = 7 * 3600;
    feed(&mut engine, "w1", 0, t0, 100.0, 0.0);
    let mut fired_at = None;
    for t in 1..=120 {
        feed(&mut engine, "w1", t0 + t - 1, 1, 0.0, 100.0);
        let candidates = burn_rate_alerts(&engine, &alerting, (t0 + t) * 1000);
        if !pages(&candidates).is_empty() {
            fired_at = Some((t, candidates));
            break;
        }
    }
    let (t, candidates) = fired_at.expect("the outage pages");
    assert!((50..=55).contains(&t), "paged after {t} s");
    // The only world is the whole fleet.
    assert_eq!(pages(&candidates), [("fleet", "1h/5m"), ("w1", "1h/5m")]);
    let page = candidates
        .iter()
        .find(|c| c.label("world") == Some("w1") && c.label("severity") == Some("page"));
    let page = page.expect("w1 page");
    assert_eq!(page.label("alertname"), Some("ErrorBudgetBurn"));
    assert_eq!(page.label("slo"), Some("error_rate"));
    let summary = &page.annotations["summary"];
    assert!(
        summary.starts_with("w1 error_rate burning error budget 14.4× (1h) / "),
        "{summary}"
    );
    assert!(summary.ends_with("× (5m), page"), "{summary}");
    for key in ["description", "runbook_url", "owner"] {
        assert!(!page.annotations[key].is_empty(), "{key}");
    }
}

#[test]
fn min_events_gate_keeps_a_quiet_world_quiet() {
    let mut engine = Engine::new(vec![ratio_bad_slo(&[])]);
    // Seven hours of history, then three events, one of them failed: a
    // 333× burn on paper.
    feed(&mut engine, "quiet", 0, 1, 0.0, 0.0);
    feed(&mut engine, "quiet", 7 * 3600, 1, 2.0, 1.0);
    let now = (7 * 3600 + 60) * 1000;
    let cases = [(10.0, 0), (3.0, 4)];
    for (min_events, expected) in cases {
        let alerting = AlertingConfig {
            min_events,
            ..workbook_alerting()
        };
        let candidates = burn_rate_alerts(&engine, &alerting, now);
        // Gate open: page and ticket, for the world and the fleet.
        assert_eq!(candidates.len(), expected, "min_events {min_events}");
    }
}

#[test]
fn one_candidate_per_scope_slo_and_severity() {
    // Seven hours of total outage from the start: every rule fires, at 1000×.
    let mut engine = Engine::new(vec![ratio_bad_slo(&[])]);
    feed(&mut engine, "w1", 0, 7 * 3600, 0.0, 10.0);
    let candidates = burn_rate_alerts(&engine, &workbook_alerting(), 7 * 3_600_000);
    let keys: Vec<(&str, &str, &str)> = candidates
        .iter()
        .map(|c| {
            let l = |k| c.label(k).unwrap_or_default();
            (l("world"), l("severity"), l("window"))
        })
        .collect();
    // Equal burns: the first rule of a severity in config order speaks.
    let expected = [
        ("fleet", "page", "1h/5m"),
        ("fleet", "ticket", "3d/6h"),
        ("w1", "page", "1h/5m"),
        ("w1", "ticket", "3d/6h"),
    ];
    assert_eq!(keys, expected);
}

#[test]
fn a_rule_waits_until_the_data_covers_its_short_window() {
    // One hour of total outage: the 1h/5m page fires; the 3d/6h ticket
    // does not, because an hour of data is no basis for a 3-day verdict.
    let mut engine = Engine::new(vec![ratio_bad_slo(&[])]);
    feed(&mut engine, "w1", 0, 3600, 0.0, 10.0);
    let cases = [
        (240_000, vec![]),
        (3_600_000, vec![("fleet", "1h/5m"), ("w1", "1h/5m")]),
    ];
    for (now, want) in cases {
        let candidates = burn_rate_alerts(&engine, &workbook_alerting(), now);
        assert_eq!(pages(&candidates), want, "at {now} ms");
        assert!(
            candidates
                .iter()
                .all(|c| c.label("severity") == Some("page"))
        );
    }
}

#[test]
fn fleet_burns_on_the_sum_of_its_worlds() {
    // w1 fails 2 % (20×), w2 not at all: the fleet burns at 10×, under the
    // 1h/5m page threshold but over the 6h/30m one.
    let mut engine = Engine::new(vec![ratio_bad_slo(&[])]);
    feed(&mut engine, "w1", 0, 3600, 49.0, 1.0);
    feed(&mut engine, "w2", 0, 3600, 50.0, 0.0);
    let candidates = burn_rate_alerts(&engine, &workbook_alerting(), 3_600_000);
    assert_eq!(pages(&candidates), [("fleet", "6h/30m"), ("w1", "1h/5m")]);
    let fleet = candidates
        .iter()
        .find(|c| c.label("world") == Some("fleet"))
        .expect("fleet page");
    assert!(
        fleet.annotations["summary"].contains("10.0× (6h)"),
        "{:?}",
        fleet.annotations
    );
}

#[test]
fn words_for_people() {
    let percents = [
        (0.999, "99.9%"),
        (0.5, "50%"),
        (0.625, "62.5%"),
        (0.9995, "99.95%"),
    ];
    for (share, text) in percents {
        assert_eq!(percent(share), text);
    }
    let durations = [
        (100.0, "100 ms"),
        (1200.0, "1.2 s"),
        (90_000.0, "1.5 min"),
        (49_680_000.0, "13.8 h"),
        (216_000_000.0, "2.5 days"),
    ];
    for (ms, text) in durations {
        assert_eq!(human_ms(ms), text);
    }
}

#[test]
fn scopes_evaluated_in_slices_give_what_one_pass_gives() {
    // The collector spreads burn-rate work over several evaluations by
    // scope; the slices together must be exactly the whole.
    let mut engine = Engine::new(vec![ratio_bad_slo(&[])]);
    for (i, world) in ["w1", "w2", "w3", "w4", "w5", "w6"].iter().enumerate() {
        feed(&mut engine, world, 0, 3600, 49.0 - i as f64, 1.0 + i as f64);
    }
    let alerting = workbook_alerting();
    let whole = burn_rate_alerts(&engine, &alerting, 3_600_000);
    assert!(whole.len() > 6, "every world and the fleet burn: {whole:?}");
    let in_slices: Vec<Candidate> = (0..3u8)
        .flat_map(|n| {
            let slice = move |w: &str| w.bytes().last().is_some_and(|b| b % 3 == n);
            burn_rate_alerts_where(&engine, &alerting, 3_600_000, slice)
        })
        .collect();
    let key = |c: &Candidate| format!("{:?}", c.labels);
    let mut a: Vec<String> = whole.iter().map(key).collect();
    let mut b: Vec<String> = in_slices.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}
