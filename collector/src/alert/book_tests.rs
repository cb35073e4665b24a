//! Tests of [`AlertBook`]: one notification per change, across restarts.

use super::*;
use liveops_config::Severity;

const URL: &str = "https://collector.example/alerts";

fn candidate(world: &str, window: &str, summary: &str) -> Candidate {
    Candidate::new("ErrorBudgetBurn", world, "error_rate", Severity::Page)
        .with_label("window", window.into())
        .annotated(
            summary.into(),
            "description".into(),
            "https://runbook",
            "team",
        )
}

/// (status, world) of each notification.
fn changes(notifications: &[Notification]) -> Vec<(AlertStatus, &str)> {
    notifications
        .iter()
        .map(|n| (n.status, n.label("world").unwrap_or_default()))
        .collect()
}

/// (time, worlds of the candidates, expected notifications).
type Step = (
    u64,
    &'static [&'static str],
    &'static [(AlertStatus, &'static str)],
);

#[test]
fn fires_once_stays_quiet_then_resolves_once() {
    use AlertStatus::{Firing, Resolved};
    let mut book = AlertBook::new();
    let steps: [Step; 6] = [
        (0, &[], &[]),
        (10_000, &["w1"], &[(Firing, "w1")]),
        (20_000, &["w1"], &[]),
        (30_000, &["w1", "w2"], &[(Firing, "w2")]),
        (40_000, &["w2"], &[(Resolved, "w1")]),
        (50_000, &[], &[(Resolved, "w2")]),
    ];
    for (now, worlds, expected) in steps {
        let candidates = worlds
            .iter()
            .map(|w| candidate(w, "1h/5m", "burning"))
            .collect::<Vec<_>>();
        let out = book.reconcile(&candidates, now, URL);
        assert_eq!(changes(&out), expected, "at {now}");
        assert_eq!(book.len(), worlds.len());
    }
}

#[test]
fn notifications_carry_times_and_the_labels_they_fired_with() {
    let mut book = AlertBook::new();
    let fired = book.reconcile(&[candidate("w1", "1h/5m", "52.3×")], 1_700_000_000_000, URL);
    assert_eq!(fired[0].starts_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(
        (fired[0].ends_at.as_deref(), fired[0].generator_url.as_str()),
        (None, URL)
    );

    // The burn moves to another rule and its figures change: same alert,
    // no notification, but the API shows the new figures.
    let later = book.reconcile(
        &[candidate("w1", "6h/30m", "80.1×")],
        1_700_000_060_000,
        URL,
    );
    assert!(later.is_empty());
    let active = book.active();
    assert_eq!(active[0].annotations["summary"], "80.1×");
    assert_eq!(active[0].labels["window"], "1h/5m");
    assert_eq!(
        (active[0].starts_at.as_str(), active[0].status),
        ("2023-11-14T22:13:20.000Z", "firing")
    );

    let resolved = book.reconcile(&[], 1_700_000_120_500, URL);
    assert_eq!(resolved[0].status, AlertStatus::Resolved);
    assert_eq!(resolved[0].labels, fired[0].labels);
    assert_eq!(resolved[0].starts_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(
        resolved[0].ends_at.as_deref(),
        Some("2023-11-14T22:15:20.500Z")
    );
}

#[test]
fn survives_a_serde_round_trip() {
    let mut book = AlertBook::new();
    book.reconcile(
        &[candidate("w1", "1h/5m", "s"), candidate("w2", "1h/5m", "s")],
        1000,
        URL,
    );
    let json = serde_json::to_string(&book).expect("serialise");
    let mut restored: AlertBook = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(restored, book);
    // After a restart, w1 still firing is not re-announced; w2 resolves.
    let out = restored.reconcile(&[candidate("w1", "1h/5m", "s")], 2000, URL);
    assert_eq!(changes(&out), [(AlertStatus::Resolved, "w2")]);
}

#[test]
fn duplicate_candidates_fire_once() {
    let mut book = AlertBook::new();
    let twice = vec![
        candidate("w1", "1h/5m", "first"),
        candidate("w1", "6h/30m", "second"),
    ];
    let out = book.reconcile(&twice, 0, URL);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].annotations["summary"], "first");
}

#[test]
fn fingerprints_are_stable_and_ignore_the_rule_window() {
    let a = candidate("w1", "1h/5m", "x");
    let b = candidate("w1", "6h/30m", "y");
    let other_world = candidate("w2", "1h/5m", "x");
    assert_eq!(fingerprint(&a.labels), fingerprint(&b.labels));
    assert_ne!(fingerprint(&a.labels), fingerprint(&other_world.labels));
    // Pinned: persisted books must keep matching after an upgrade.
    assert_eq!(fingerprint(&a.labels), PINNED);
    assert_eq!(fingerprint(&a.labels).len(), 16);
}

const PINNED: &str = "1f1a463a2128c035";
