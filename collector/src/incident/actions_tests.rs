use super::*;
use crate::incident::{Draft, State};

const DAY: u64 = 86_400_000;

fn book_with_closed_incident() -> (Book, u64) {
    let mut book = Book::default();
    let d = Draft {
        title: "Payments failing in eu-1".into(),
        ..Draft::default()
    };
    let id = book.open(&d, "ana", 0).unwrap().id;
    book.status(id, State::Closed, "", "ana", DAY).unwrap();
    (book, id)
}

#[test]
fn items_are_added_to_closed_incidents_numbered_across_them_and_done_once() {
    let (mut book, id) = book_with_closed_incident();
    let a = book
        .add_action(id, "Alert on provider 5xx", "bo", 10 * DAY, "ana", 2 * DAY)
        .unwrap();
    assert_eq!((a.name(), a.owner.as_str()), ("A-1".into(), "bo"));
    let other = book.open(
        &Draft {
            title: "Lag".into(),
            ..Draft::default()
        },
        "ana",
        3 * DAY,
    );
    let other = other.unwrap().id;
    let b = book
        .add_action(other, "Cap the tick queue", "cy", 5 * DAY, "ana", 3 * DAY)
        .unwrap();
    assert_eq!(b.id, 2);
    assert_eq!(book.action_incident(2), Some(other));
    assert_eq!(book.done_action(1, "alert added", "bo", 4 * DAY), Ok(id));
    assert_eq!(
        book.done_action(1, "again", "bo", 4 * DAY),
        Err(IncidentError::ActionDone(1))
    );
    assert_eq!(
        book.done_action(9, "x", "bo", 4 * DAY),
        Err(IncidentError::UnknownAction(9))
    );
    assert!(
        book.done_action(2, " ", "bo", 4 * DAY).is_err(),
        "a note is required"
    );
    let inc = book.get(id).unwrap();
    let last = inc.timeline.last().unwrap();
    assert_eq!(
        last.what,
        What::Action {
            action: 1,
            done: true
        }
    );
    assert_eq!(
        (last.by.as_str(), last.text.as_str()),
        ("bo", "alert added")
    );
    // Bad input changes nothing.
    assert!(book.add_action(id, "", "bo", 0, "ana", 0).is_err());
    assert!(book.add_action(id, "t", "b o", 0, "ana", 0).is_err());
    assert_eq!(
        book.add_action(77, "t", "bo", 0, "ana", 0).unwrap_err(),
        IncidentError::Unknown(77)
    );
    assert_eq!(book.actions().len(), 2);
}

#[test]
fn overdue_items_are_counted_and_told_once_then_taken_back_when_done() {
    let (mut book, id) = book_with_closed_incident();
    book.add_action(id, "Runbook for 502s", "bo", 10 * DAY, "ana", 2 * DAY)
        .unwrap();
    book.add_action(id, "Load test", "cy", 20 * DAY, "ana", 2 * DAY)
        .unwrap();
    assert_eq!(
        book.action_counts(10 * DAY),
        (2, 0),
        "due at the instant: not late"
    );
    assert!(book.action_notices(10 * DAY).is_empty());
    assert_eq!(book.action_counts(10 * DAY + 1), (2, 1));
    let n = book.action_notices(10 * DAY + 1);
    assert_eq!(n.len(), 1);
    assert!(n[0].firing);
    assert_eq!(
        (n[0].incident.as_str(), n[0].action.name()),
        ("INC-1", "A-1".into())
    );
    assert!(book.action_notices(11 * DAY).is_empty(), "told once");
    book.done_action(1, "written", "bo", 12 * DAY).unwrap();
    let n = book.action_notices(12 * DAY);
    assert_eq!((n.len(), n[0].firing), (1, false));
    assert_eq!(book.action_counts(12 * DAY), (1, 0));
    assert_eq!(parse_action_id("A-12"), Some(12));
    assert_eq!(parse_action_id("12"), Some(12));
    assert_eq!(parse_action_id("INC-1"), None);
}
