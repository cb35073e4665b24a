use liveops_protocol::AlertStatus;

use super::*;
use crate::incident::impact::Impact;
use crate::incident::response::times;
use crate::incident::{Draft, PageOpened, State, What};

const S: u64 = 1_000;
const MIN: u64 = 60 * S;

fn rules() -> Vec<SeverityRule> {
    liveops_config::default_collector().incidents.rules
}

fn rating(rules: &[SeverityRule]) -> Rating<'_> {
    Rating {
        rules,
        settle_ms: 5 * MIN,
        window_ms: MIN,
    }
}

/// `share` of the fleet's players affected in eu-1, or none affected.
fn impact(at_ms: u64, share: f64) -> Impact {
    let affected = share > 0.0;
    Impact {
        at_ms,
        affected: if affected {
            vec!["eu-1".into()]
        } else {
            vec![]
        },
        mitigated: if affected {
            vec![]
        } else {
            vec!["eu-1".into()]
        },
        systems: if affected {
            vec!["error_rate".into()]
        } else {
            vec![]
        },
        players: share * 1000.0,
        players_share: share,
        payments_failing_per_min: if affected { 6.0 } else { 0.0 },
        ..Impact::default()
    }
}

fn paged(book: &mut Book, at: u64) -> u64 {
    let p = PageOpened {
        page: 1,
        team: "gameplay".into(),
        world: "eu-1".into(),
        summary: "HighFailureRatio on eu-1".into(),
        incident: None,
    };
    book.page(&p, 10 * MIN, at).0
}

fn severities(book: &Book, id: u64) -> Vec<(u64, Sev, Sev)> {
    let inc = book.get(id).unwrap();
    inc.timeline
        .iter()
        .filter_map(|e| match e.what {
            What::Severity { from, to } => Some((e.at_ms, from, to)),
            _ => None,
        })
        .collect()
}

#[test]
fn severity_rises_at_once_and_falls_only_after_the_settle_time() {
    let rules = rules();
    let mut book = Book::default();
    let id = paged(&mut book, 10 * S);
    // 8 % of players: SEV2 at the first measurement.
    let ch = book.assess(id, impact(11 * S, 0.08), Some(7 * S), rating(&rules));
    let (from, to, why) = ch.unwrap();
    assert_eq!((from, to), (Sev::Sev3, Sev::Sev2));
    assert!(
        why.starts_with("8.0 % of online players affected (80;"),
        "{why}"
    );
    // 25 %: SEV1 at once.
    let ch = book.assess(id, impact(16 * S, 0.25), None, rating(&rules));
    assert_eq!(ch.map(|c| c.1), Some(Sev::Sev1));
    // Back to 8 %: held at SEV1 until that has lasted 5 minutes.
    assert!(
        book.assess(id, impact(21 * S, 0.08), None, rating(&rules))
            .is_none()
    );
    let almost = 21 * S + 5 * MIN - 1;
    assert!(
        book.assess(id, impact(almost, 0.08), None, rating(&rules))
            .is_none()
    );
    // A blip back up restarts the hold.
    assert!(
        book.assess(id, impact(almost + S, 0.3), None, rating(&rules))
            .is_none()
    );
    let t = almost + 2 * S;
    assert!(
        book.assess(id, impact(t, 0.08), None, rating(&rules))
            .is_none()
    );
    let ch = book.assess(id, impact(t + 5 * MIN, 0.08), None, rating(&rules));
    assert_eq!(ch.map(|c| (c.0, c.1)), Some((Sev::Sev1, Sev::Sev2)));
    assert_eq!(
        severities(&book, id),
        [
            (11 * S, Sev::Sev3, Sev::Sev2),
            (16 * S, Sev::Sev2, Sev::Sev1),
            (t + 5 * MIN, Sev::Sev1, Sev::Sev2)
        ]
    );
    let rec = book.get(id).unwrap().impact.clone().unwrap();
    assert_eq!((rec.peak_players, rec.peak_players_share), (300.0, 0.3));
    // The first bad signal is kept.
    assert_eq!(book.get(id).unwrap().marks.first_bad_ms, Some(7 * S));
}

#[test]
fn a_human_severity_wins_and_the_computed_one_is_kept_beside_it() {
    let rules = rules();
    let mut book = Book::default();
    let id = paged(&mut book, 0);
    book.set_severity(id, Sev::Sev1, "the tournament final is on", "ana", S)
        .unwrap();
    assert!(
        book.assess(id, impact(2 * S, 0.08), None, rating(&rules))
            .is_none()
    );
    let inc = book.get(id).unwrap();
    assert_eq!(inc.severity.current(), Sev::Sev1);
    assert_eq!(inc.severity.computed, Some(Sev::Sev2));
}

#[test]
fn recovery_marks_mitigation_and_payments_lost_add_up() {
    let rules = rules();
    let mut book = Book::default();
    let id = paged(&mut book, 0);
    for k in 1..=4 {
        book.assess(id, impact(k * 30 * S, 0.08), None, rating(&rules));
    }
    // Three intervals of 30 s at 6 failing a minute; a gap longer than the
    // window counts as the window only.
    book.assess(id, impact(10 * MIN, 0.08), None, rating(&rules));
    book.assess(id, impact(10 * MIN + 30 * S, 0.0), None, rating(&rules));
    let inc = book.get(id).unwrap();
    assert_eq!(inc.impact.as_ref().unwrap().payments_failed, 9.0 + 6.0);
    assert_eq!(inc.marks.mitigated_ms, Some(10 * MIN + 30 * S));
    let last = inc.timeline.last().unwrap();
    assert!(
        matches!(&last.what, What::Signal { source, event, .. } if source == "impact" && event == "mitigated"),
        "{last:?}"
    );
    // Only once.
    book.assess(id, impact(11 * MIN, 0.0), None, rating(&rules));
    assert_eq!(
        book.get(id).unwrap().marks.mitigated_ms,
        Some(10 * MIN + 30 * S)
    );
}

#[test]
fn response_times_come_from_the_collectors_own_timestamps() {
    let rules = rules();
    let mut book = Book::default();
    let id = paged(&mut book, 10 * S);
    book.assess(id, impact(11 * S, 0.08), Some(4 * S), rating(&rules));
    book.signal(Some(1), Some("eu-1"), "page", "acked", "p-1 acked", 70 * S);
    book.assess(id, impact(5 * MIN, 0.0), None, rating(&rules));
    book.status(id, State::Resolved, "", "ana", 10 * MIN)
        .unwrap();
    let t = times(book.get(id).unwrap());
    assert_eq!(
        t.seconds().map(|(_, s)| s),
        [Some(6.0), Some(60.0), Some(296.0), Some(596.0)]
    );
    // Opened by hand, nothing measured: no detection; the first person
    // acting acknowledges; resolving mitigates.
    let draft = Draft {
        title: "Odd trades".into(),
        ..Draft::default()
    };
    let id = book.open(&draft, "ana", 0).unwrap().id;
    book.assign(id, crate::incident::Role::Commander, "bo", "bo", 30 * S)
        .unwrap();
    book.status(id, State::Resolved, "", "bo", 90 * S).unwrap();
    let t = times(book.get(id).unwrap());
    assert_eq!(
        t.seconds().map(|(_, s)| s),
        [None, Some(30.0), Some(90.0), Some(90.0)]
    );
}

#[test]
fn severity_changes_fire_and_resolve_one_alert_each_through_the_policy() {
    let rules = rules();
    let mut book = Book::default();
    let id = paged(&mut book, 0);
    assert!(book.notices().is_empty(), "never rated: nothing to tell");
    book.assess(id, impact(S, 0.25), None, rating(&rules));
    let n = book.notices();
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].sev, n[0].status), (Sev::Sev1, AlertStatus::Firing));
    let alert = crate::incident::notify::alert(&n[0], "https://liveops.example", 2 * S);
    assert_eq!(alert.label("alertname"), Some("IncidentSeverity"));
    assert_eq!(alert.label("incident"), Some("INC-1"));
    assert_eq!(alert.label("incident_severity"), Some("SEV1"));
    assert_eq!(alert.label("severity"), Some("page"));
    assert_eq!(alert.label("world"), Some("eu-1"), "groups into the page");
    assert_eq!(alert.annotations["owner"], "gameplay");
    assert_eq!(alert.generator_url, "https://liveops.example/incidents/1");
    assert!(
        alert.annotations["description"].contains("25.0 % of online players"),
        "{:?}",
        alert.annotations
    );
    assert!(book.notices().is_empty(), "told once");
    // Recovered: taken back, so the page can resolve; hurting again: told again.
    book.assess(id, impact(2 * S, 0.0), None, rating(&rules));
    let n = book.notices();
    assert_eq!((n[0].sev, n[0].status), (Sev::Sev1, AlertStatus::Resolved));
    book.assess(id, impact(2 * S + 1, 0.25), None, rating(&rules));
    assert_eq!(book.notices()[0].status, AlertStatus::Firing);
    book.set_severity(id, Sev::Sev3, "only the tutorial island", "ana", 3 * S)
        .unwrap();
    let n = book.notices();
    let told: Vec<_> = n.iter().map(|n| (n.sev, n.status)).collect();
    assert_eq!(
        told,
        [
            (Sev::Sev1, AlertStatus::Resolved),
            (Sev::Sev3, AlertStatus::Firing)
        ]
    );
    let ticket = crate::incident::notify::alert(&n[1], "", 3 * S);
    assert_eq!(ticket.label("severity"), Some("ticket"));
    book.status(id, State::Resolved, "", "ana", 4 * S).unwrap();
    let n = book.notices();
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].sev, n[0].status), (Sev::Sev3, AlertStatus::Resolved));
    assert!(
        crate::incident::notify::alert(&n[0], "", 5 * S)
            .ends_at
            .is_some()
    );
}
