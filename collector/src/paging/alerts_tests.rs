//! Grouping, flap windows, inhibition, silences, maintenance and working
//! hours in the page book, under a controlled clock.

use liveops_protocol::{AlertStatus, PageAction};

use super::book::{Input, PageError};
use super::book_tests::*;
use super::event::PageEventKind as K;
use super::route::Suppressed;
use super::silence::SilenceDraft;

#[test]
fn within_the_flap_window_the_same_page_reopens_after_it_a_new_one_opens() {
    let mut f = Fixture::new();
    f.fire("WorldDown", "w2", t0());
    f.end("WorldDown", "w2", t0() + MIN);
    let fx = f.fire("WorldDown", "w2", t0() + 6 * MIN);
    assert_eq!(kinds(&fx)[..2], [K::Routed, K::Reopened]);
    assert_eq!(fx.deliveries[0].1.page_id, "p-1");
    assert_eq!(f.book.page("p-1").unwrap().reopened, 1);
    // Acknowledged before, escalating again now.
    assert_eq!(f.next_due(t0() + 6 * MIN), Some(t0() + 11 * MIN));

    f.end("WorldDown", "w2", t0() + 7 * MIN);
    let fx = f.fire("WorldDown", "w2", t0() + 12 * MIN + 1);
    assert_eq!(kinds(&fx)[..2], [K::Routed, K::Opened]);
    assert_eq!(fx.deliveries[0].1.page_id, "p-2");
}

#[test]
fn a_world_going_down_pages_once_and_inhibits_its_symptoms() {
    let mut f = Fixture::new();
    // The stall is seen first, WorldDown a second later: one page.
    let first = f.fire("TickStalled", "w2", t0());
    assert_eq!(first.deliveries.len(), 2);
    let fx = f.fire("WorldDown", "w2", t0() + 1_000);
    assert_eq!(kinds(&fx), [K::Routed, K::Grouped]);
    assert!(fx.deliveries.is_empty());
    // Requests fail too: another team's alert, but inhibited by WorldDown.
    let fx = f.fire("HighFailureRatio", "w2", t0() + 2_000);
    assert_eq!(kinds(&fx), [K::Routed, K::Inhibited]);
    assert!(fx.deliveries.is_empty());
    let hfr = super::book_tests::alert("HighFailureRatio", "w2", AlertStatus::Firing);
    let why = f.book.suppression(&hfr.labels).cloned();
    assert_eq!(
        why,
        Some(Suppressed::Inhibited {
            alertname: "WorldDown".into()
        })
    );
    // Another world is another page.
    assert_eq!(
        f.fire("TickStalled", "w3", t0() + 3_000).deliveries[0]
            .1
            .page_id,
        "p-2"
    );
    assert_eq!(f.book.open_pages(), 2);
    // WorldDown ends while requests still fail: now that pages.
    let fx = f.end("WorldDown", "w2", t0() + 60_000);
    assert_eq!(kinds(&fx), [K::Opened, K::Paged]);
    assert_eq!(sent(&fx), [trig("pagerduty", "dave", 1)]);
}

#[test]
fn silences_and_maintenance_record_an_alert_without_paging_it() {
    let mut f = Fixture::with(
        "[[maintenance]]\nmatch = { world = \"w3\" }\nfrom = \"2026-10-27T11:00:00Z\"\nuntil = \"2026-10-27T13:00:00Z\"\nreason = \"db migration\"\n",
    );
    let draft = SilenceDraft {
        matchers: [("world".to_owned(), "w2".to_owned())].into(),
        duration_ms: 120 * MIN,
        reason: "load test".into(),
    };
    let fx = f.apply(
        Input::Silence {
            draft,
            actor: operator(),
        },
        t0(),
    );
    let s = fx.silence.clone().unwrap();
    assert_eq!((s.id.as_str(), s.until_ms), ("s-1", t0() + 120 * MIN));
    assert_eq!(kinds(&fx), [K::SilenceAdded]);

    let fx = f.fire("WorldDown", "w2", t0() + MIN);
    assert_eq!(kinds(&fx), [K::Routed, K::Silenced]);
    assert!(fx.deliveries.is_empty());
    let fx = f.fire("WorldDown", "w3", t0() + MIN);
    assert_eq!(fx.events[1].reason, "maintenance: db migration");
    assert!(fx.deliveries.is_empty());
    assert_eq!(f.next_due(t0() + MIN), Some(at("2026-10-27T13:00:00Z")));
    // The window ends: w3 pages; expiring the silence by hand: w2 pages.
    let fx = f.tick(at("2026-10-27T13:00:00Z"));
    assert_eq!(fx.deliveries[0].1.alert.label("world"), Some("w3"));
    let expire = Input::Expire {
        id: "s-1".into(),
        actor: operator(),
        reason: "done".into(),
    };
    let fx = f.apply(expire, at("2026-10-27T13:01:00Z"));
    assert_eq!(kinds(&fx)[..2], [K::SilenceExpired, K::Opened]);
    assert_eq!(fx.deliveries[0].1.alert.label("world"), Some("w2"));
    let again = Input::Expire {
        id: "s-1".into(),
        actor: operator(),
        reason: "x".into(),
    };
    assert!(matches!(
        f.try_apply(again, at("2026-10-27T13:02:00Z")),
        Err(PageError::Conflict(_))
    ));
}

#[test]
fn sev3_outside_working_hours_is_held_until_they_start_across_a_dst_switch() {
    let route = "[[route]]\nmatch = { alertname = \"Slow\" }\nteam = \"engineering\"\nseverity = \"SEV3\"\n\
                 [[route]]\nmatch = { alertname = \"Meh\" }\nteam = \"engineering\"\nseverity = \"SEV4\"\n";
    // Routes are first-match: these come before the shipped ones.
    let mut f = Fixture::first(route);

    // Friday 19:30 in Berlin (CEST); Europe leaves summer time on Sunday.
    let friday = at("2026-10-23T17:30:00Z");
    let fx = f.fire("Slow", "w1", friday);
    assert_eq!(kinds(&fx), [K::Routed, K::Opened, K::HeldForWorkingHours]);
    assert!(fx.deliveries.is_empty());
    // Monday 09:00 CET is 08:00 UTC (it was 07:00 UTC before the switch).
    let monday = at("2026-10-26T08:00:00Z");
    assert_eq!(f.next_due(friday), Some(monday));
    assert!(f.tick(monday - 1).deliveries.is_empty());
    let fx = f.tick(monday);
    assert_eq!(sent(&fx), [trig("slack", "dave", 1)]);
    // SEV4 outside hours goes to the ticket channel at once, unescalated.
    let fx = f.fire("Meh", "w5", friday);
    assert_eq!(
        sent(&fx),
        [("tickets".into(), None, PageAction::Trigger, 1)]
    );
    assert_eq!(f.book.page("p-2").unwrap().due_ms, None);
}
