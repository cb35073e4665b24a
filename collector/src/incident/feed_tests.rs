use std::collections::BTreeMap;

use liveops_protocol::{AlertStatus, Notification};

use super::*;
use crate::events::Action;
use crate::incident::{State, What};

const MIN: u64 = 60_000;

fn stamped(at_ms: u64, event: Event) -> Stamped {
    Stamped {
        seq: 1,
        at_ms,
        event,
    }
}

fn page_event(kind: PageEventKind, n: u64, world: &str, at_ms: u64) -> Stamped {
    let mut p = PageEvent::new(kind, at_ms);
    p.id = Some(format!("p-{n}"));
    p.team = Some("payments".into());
    p.world = Some(world.into());
    p.alertname = Some("PaymentSuccessBurn".into());
    stamped(at_ms, Event::Page(p))
}

fn alert(status: AlertStatus, world: &str) -> Event {
    Event::Alert(Notification {
        status,
        labels: BTreeMap::from([
            ("alertname".to_owned(), "TickStalled".to_owned()),
            ("world".to_owned(), world.to_owned()),
        ]),
        annotations: BTreeMap::from([("summary".to_owned(), "ticks stopped".to_owned())]),
        starts_at: "2026-12-04T00:00:00Z".into(),
        ends_at: None,
        generator_url: String::new(),
    })
}

fn mitigation(scope: &str) -> Event {
    Event::Action(Action {
        actor: "ana".into(),
        role: "responder".into(),
        action: "mitigate",
        id: "m-1".into(),
        subject: "payments-off".into(),
        scope: scope.into(),
        reason: "provider down".into(),
        before: serde_json::Value::Null,
        after: serde_json::Value::Null,
    })
}

fn signals(book: &Book, id: u64) -> Vec<(String, String)> {
    book.get(id)
        .unwrap()
        .timeline
        .iter()
        .filter_map(|e| match &e.what {
            What::Signal { source, event, .. } => Some((source.clone(), event.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_page_opens_an_incident_and_what_follows_lands_on_it() {
    let mut book = Book::default();
    let w = 10 * MIN;
    apply(
        &mut book,
        &page_event(PageEventKind::Opened, 1, "eu-1", 0),
        w,
    );
    // A second world of the same team pages: the same incident.
    apply(
        &mut book,
        &page_event(PageEventKind::Opened, 2, "eu-2", MIN),
        w,
    );
    apply(
        &mut book,
        &page_event(PageEventKind::Acked, 1, "eu-1", 2 * MIN),
        w,
    );
    apply(
        &mut book,
        &stamped(3 * MIN, alert(AlertStatus::Firing, "eu-2")),
        w,
    );
    apply(&mut book, &stamped(4 * MIN, mitigation("world eu-1")), w);
    // Another world's alert, a player-scoped action and an incident's own
    // audit action concern it not.
    apply(
        &mut book,
        &stamped(5 * MIN, alert(AlertStatus::Firing, "us-9")),
        w,
    );
    apply(&mut book, &stamped(5 * MIN, mitigation("player p1")), w);
    let mut own = mitigation("world eu-1");
    if let Event::Action(a) = &mut own {
        a.action = "incident";
    }
    apply(&mut book, &stamped(5 * MIN, own), w);
    // A fleet-wide mitigation concerns every active incident.
    apply(&mut book, &stamped(6 * MIN, mitigation("fleet")), w);
    apply(
        &mut book,
        &page_event(PageEventKind::Resolved, 2, "eu-2", 7 * MIN),
        w,
    );

    assert!(book.get(2).is_none(), "one incident for both pages");
    let inc = book.get(1).unwrap();
    assert_eq!(inc.title, "PaymentSuccessBurn on eu-1");
    assert_eq!(inc.team.as_deref(), Some("payments"));
    assert_eq!(inc.pages.len(), 2);
    assert_eq!(
        signals(&book, 1),
        [
            ("page".into(), "acked".into()),
            ("alert".into(), "firing".into()),
            ("action".into(), "mitigate".into()),
            ("action".into(), "mitigate".into()),
            ("page".into(), "resolved".into()),
        ]
    );
    let times: Vec<u64> = inc.timeline.iter().map(|e| e.at_ms).collect();
    assert!(times.windows(2).all(|p| p[0] <= p[1]), "{times:?}");
    assert_eq!(book.take_dirty().len(), 1);
}

#[test]
fn a_resolved_incident_still_hears_its_pages_but_not_new_alerts() {
    let mut book = Book::default();
    let w = 10 * MIN;
    apply(
        &mut book,
        &page_event(PageEventKind::Opened, 1, "eu-1", 0),
        w,
    );
    book.status(1, State::Resolved, "", "ana", MIN).unwrap();
    apply(
        &mut book,
        &page_event(PageEventKind::Resolved, 1, "eu-1", 2 * MIN),
        w,
    );
    apply(
        &mut book,
        &stamped(3 * MIN, alert(AlertStatus::Firing, "eu-1")),
        w,
    );
    assert_eq!(
        signals(&book, 1),
        [("page".to_owned(), "resolved".to_owned())]
    );
    // Its world pages again: a new incident, not the resolved one.
    apply(
        &mut book,
        &page_event(PageEventKind::Opened, 3, "eu-1", 4 * MIN),
        w,
    );
    assert!(book.get(2).is_some_and(|i| i.pages.contains(&3)));
}

#[test]
fn a_page_reopened_within_the_flap_window_reopens_its_resolved_incident() {
    let mut book = Book::default();
    let w = 10 * MIN;
    apply(
        &mut book,
        &page_event(PageEventKind::Opened, 1, "eu-1", 0),
        w,
    );
    book.status(1, State::Resolved, "", "ana", MIN).unwrap();
    apply(
        &mut book,
        &page_event(PageEventKind::Reopened, 1, "eu-1", 2 * MIN),
        w,
    );
    let inc = book.get(1).unwrap();
    assert_eq!(inc.state, State::Investigating);
    let last = inc.timeline.last().unwrap();
    assert_eq!(last.by, "liveops");
    assert!(
        last.text.starts_with("reopened by liveops: p-1 reopened"),
        "{last:?}"
    );
    // A closed one stays closed.
    book.status(1, State::Closed, "", "ana", 3 * MIN).unwrap();
    apply(
        &mut book,
        &page_event(PageEventKind::Reopened, 1, "eu-1", 4 * MIN),
        w,
    );
    assert_eq!(book.get(1).unwrap().state, State::Closed);
}
