use super::*;
use crate::incident::PageOpened;

const MIN: u64 = 60_000;

fn draft(title: &str) -> Draft {
    Draft {
        title: title.into(),
        worlds: vec!["eu-1".into()],
        sev: None,
    }
}

fn opened(book: &mut Book) -> u64 {
    book.open(&draft("Payments failing in eu-1"), "ana", 1_000)
        .unwrap()
        .id
}

#[test]
fn an_incident_opened_by_hand_starts_in_triage_with_one_entry() {
    let mut book = Book::default();
    let inc = book.open(&draft("  Logins slow  "), "ana", 5).unwrap();
    assert_eq!(
        (inc.id, inc.name(), inc.title.as_str()),
        (1, "INC-1".into(), "Logins slow")
    );
    assert_eq!(inc.state, State::Triage);
    assert_eq!(inc.severity.current(), Sev::Sev3);
    assert_eq!(inc.timeline.len(), 1);
    assert_eq!(inc.timeline[0].what, What::Opened);
    let with_sev = Draft {
        sev: Some(Sev::Sev1),
        ..draft("Everything down")
    };
    let inc = book.open(&with_sev, "ana", 6).unwrap();
    assert_eq!((inc.id, inc.severity.current()), (2, Sev::Sev1));
    assert_eq!(book.take_dirty().len(), 2);
    assert!(book.take_dirty().is_empty());
}

#[test]
fn bad_drafts_are_refused_and_change_nothing() {
    let mut book = Book::default();
    for (d, want) in [
        (draft(""), "a title must be"),
        (draft(&"x".repeat(TITLE_MAX + 1)), "a title must be"),
        (draft("bell\u{7}"), "a title must be"),
        (
            Draft {
                worlds: vec!["eu 1".into()],
                ..draft("ok")
            },
            "world",
        ),
    ] {
        let err = book.open(&d, "ana", 1).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
    assert!(book.list().next().is_none());
    assert!(book.take_dirty().is_empty());
}

#[test]
fn the_lifecycle_moves_forward_freely_and_back_only_with_a_reason() {
    use State::*;
    let mut book = Book::default();
    let id = opened(&mut book);
    // (to, note, expected error or None)
    let steps: &[(State, &str, Option<&str>)] = &[
        (Investigating, "", None),
        (Investigating, "", Some("already investigating")),
        (Mitigated, "", None), // skipping identified is fine
        (Identified, "", Some("needs a reason")),
        (
            Identified,
            "the flag did not help; the cause is the deploy",
            None,
        ),
        (Resolved, "", None),
        (Investigating, "it came back", None),
        (Resolved, "", None),
        (Closed, "", None),
        (Investigating, "again", Some("nothing changes it")),
    ];
    let mut now = 2_000;
    for (to, note, want) in steps {
        now += MIN;
        let got = book.status(id, *to, note, "ana", now);
        match want {
            None => assert_eq!(got.map(|i| i.state).ok(), Some(*to), "{to:?}"),
            Some(want) => {
                let err = got.unwrap_err().to_string();
                assert!(err.contains(want), "{to:?}: {err}");
            }
        }
    }
    let inc = book.get(id).unwrap();
    // The first time each state was entered is kept, for response times.
    assert_eq!(inc.entered[&Investigating], 2_000 + MIN);
    assert_eq!(inc.entered[&Resolved], 2_000 + 6 * MIN);
    let states: Vec<_> = inc
        .timeline
        .iter()
        .filter_map(|e| match e.what {
            What::State { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            Investigating,
            Mitigated,
            Identified,
            Resolved,
            Investigating,
            Resolved,
            Closed
        ]
    );
}

#[test]
fn cancelling_needs_a_reason_and_is_final() {
    let mut book = Book::default();
    let id = opened(&mut book);
    let err = book
        .status(id, State::Cancelled, " ", "ana", 2)
        .unwrap_err();
    assert_eq!(err, IncidentError::CancelNeedsReason(id));
    book.status(id, State::Cancelled, "false alarm: a test world", "ana", 3)
        .unwrap();
    for err in [
        book.note(id, NoteKind::Observation, "late", "ana", 4)
            .unwrap_err(),
        book.assign(id, Role::Scribe, "bo", "ana", 4).unwrap_err(),
        book.set_severity(id, Sev::Sev1, "why", "ana", 4)
            .unwrap_err(),
    ] {
        assert!(matches!(err, IncidentError::Final { .. }), "{err}");
    }
    assert_eq!(
        book.status(99, State::Resolved, "", "ana", 5).unwrap_err(),
        IncidentError::Unknown(99)
    );
}

#[test]
fn timestamps_never_go_back_within_an_incident() {
    let mut book = Book::default();
    let id = opened(&mut book); // at 1,000
    book.note(id, NoteKind::Observation, "graphs flat", "ana", 50_000)
        .unwrap();
    // The collector's clock stepped back (NTP): the entry is stamped at the
    // newest one, so the timeline stays in order.
    book.status(id, State::Investigating, "", "ana", 10_000)
        .unwrap();
    let inc = book.get(id).unwrap();
    let times: Vec<u64> = inc.timeline.iter().map(|e| e.at_ms).collect();
    assert_eq!(times, [1_000, 50_000, 50_000]);
    assert_eq!(inc.entered[&State::Investigating], 50_000);
}

#[test]
fn a_human_severity_needs_a_reason_and_the_computed_one_is_kept() {
    let mut book = Book::default();
    let id = opened(&mut book);
    assert!(
        book.compute_severity(id, Sev::Sev2, "12 % of players", 2)
            .unwrap()
    );
    assert!(
        !book
            .compute_severity(id, Sev::Sev2, "13 % of players", 3)
            .unwrap()
    );
    assert_eq!(
        book.set_severity(id, Sev::Sev1, "  ", "ana", 4)
            .unwrap_err(),
        IncidentError::SeverityNeedsReason
    );
    book.set_severity(id, Sev::Sev1, "payments of the whale tier", "ana", 5)
        .unwrap();
    // While the human's stands, a new computed severity changes nothing in
    // force, and says so by adding no entry.
    assert!(
        !book
            .compute_severity(id, Sev::Sev3, "4 % of players", 6)
            .unwrap()
    );
    let inc = book.get(id).unwrap();
    assert_eq!(inc.severity.current(), Sev::Sev1);
    assert_eq!(inc.severity.computed, Some(Sev::Sev3));
    let sevs: Vec<_> = inc
        .timeline
        .iter()
        .filter_map(|e| match &e.what {
            What::Severity { from, to } => Some((*from, *to, e.by.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        sevs,
        [
            (Sev::Sev3, Sev::Sev2, "liveops"),
            (Sev::Sev2, Sev::Sev1, "ana")
        ]
    );
}

#[test]
fn roles_and_notes_land_on_the_timeline() {
    let mut book = Book::default();
    let id = opened(&mut book);
    book.assign(id, Role::Commander, "ana", "ana", 2).unwrap();
    book.assign(id, Role::Commander, "bo", "ana", 3).unwrap();
    assert!(book.assign(id, Role::Comms, "c d", "ana", 3).is_err());
    book.note(id, NoteKind::Decision, "roll back build 812", "bo", 4)
        .unwrap();
    assert!(book.note(id, NoteKind::Link, "", "bo", 5).is_err());
    let inc = book.get(id).unwrap();
    assert_eq!(inc.roles[&Role::Commander], "bo");
    assert_eq!(inc.timeline.len(), 4);
    assert_eq!(
        inc.timeline[3].what,
        What::Note {
            note: NoteKind::Decision
        }
    );
    assert_eq!(inc.timeline[3].text, "roll back build 812");
}

fn page(n: u64, team: &str, world: &str) -> PageOpened {
    PageOpened {
        page: n,
        team: team.into(),
        world: world.into(),
        summary: format!("PaymentSuccessBurn on {world}"),
        incident: None,
    }
}

#[test]
fn related_pages_within_the_window_join_one_incident() {
    let mut book = Book::default();
    let window = 10 * MIN;
    assert_eq!(
        book.page(&page(1, "payments", "eu-1"), window, 0),
        (1, true)
    );
    // Another world of the same team, 4 minutes later: the same incident.
    assert_eq!(
        book.page(&page(2, "payments", "eu-2"), window, 4 * MIN),
        (1, false)
    );
    // The window runs from the newest page: 13 minutes after the first.
    assert_eq!(
        book.page(&page(3, "payments", "us-1"), window, 13 * MIN),
        (1, false)
    );
    // Another team's page is another incident.
    assert_eq!(
        book.page(&page(4, "gameplay", "eu-1"), window, 14 * MIN),
        (2, true)
    );
    // Past the window: a new one.
    assert_eq!(
        book.page(&page(5, "payments", "eu-1"), window, 30 * MIN),
        (3, true)
    );
    let inc = book.get(1).unwrap();
    assert_eq!(inc.pages.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        inc.worlds.iter().map(String::as_str).collect::<Vec<_>>(),
        ["eu-1", "eu-2", "us-1"]
    );
    assert_eq!(inc.title, "PaymentSuccessBurn on eu-1");
    // A resolved incident takes no new pages.
    book.status(3, State::Resolved, "", "ana", 31 * MIN)
        .unwrap();
    assert_eq!(
        book.page(&page(6, "payments", "eu-1"), window, 32 * MIN),
        (4, true)
    );
}

#[test]
fn names_parse_both_ways() {
    assert_eq!(super::super::model::parse_id("INC-12"), Some(12));
    assert_eq!(super::super::model::parse_id("12"), Some(12));
    assert_eq!(super::super::model::parse_id("INC-x"), None);
    for s in State::ALL {
        assert_eq!(State::parse(s.as_str()), Some(s));
    }
    assert_eq!(Sev::parse("sev2"), Some(Sev::Sev2));
    assert_eq!(Sev::parse("SEV5"), None);
}

#[test]
fn counts_cover_every_pair_of_open_state_and_severity() {
    let mut book = Book::default();
    let a = opened(&mut book);
    let b = opened(&mut book);
    book.set_severity(b, Sev::Sev1, "payments", "ana", 2)
        .unwrap();
    let c = opened(&mut book);
    book.status(c, State::Cancelled, "duplicate", "ana", 2)
        .unwrap();
    let counts = book.counts();
    assert_eq!(counts.len(), 5 * 4, "five open states × four severities");
    let n = |st: &str, sev: &str| {
        counts
            .iter()
            .find(|(s, v, _)| *s == st && *v == sev)
            .map(|c| c.2)
    };
    assert_eq!(n("triage", "SEV3"), Some(1));
    assert_eq!(n("triage", "SEV1"), Some(1));
    assert_eq!(n("mitigated", "SEV2"), Some(0));
    assert_eq!(
        counts.iter().map(|c| c.2).sum::<usize>(),
        2,
        "the cancelled one is not counted"
    );
    let _ = a;
}
