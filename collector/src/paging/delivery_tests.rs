//! Delivery reports in the page book: a failed delivery falls back
//! within its step, and the book survives a restart with its timers.

use liveops_protocol::{DeliveryReport, PageAction};

use super::book::{Input, Outcome};
use super::book_tests::*;
use super::event::PageEventKind as K;

fn report(channel: &str, attempt: u32, error: Option<&str>, now: u64) -> Input {
    Input::Report(DeliveryReport {
        page_id: "p-1".into(),
        channel: channel.into(),
        action: PageAction::Trigger,
        attempt,
        error: error.map(str::to_owned),
        at_ms: now,
    })
}

#[test]
fn a_failed_delivery_falls_back_to_the_next_channel_never_twice_through_one() {
    let mut f = Fixture::new();
    f.fire("WorldDown", "w2", t0());
    let fx = f.apply(
        report(
            "pagerduty",
            1,
            Some("receiver answered 500"),
            t0() + 2 * MIN,
        ),
        t0() + 2 * MIN,
    );
    assert_eq!(kinds(&fx), [K::DeliveryFailed, K::FallbackUsed]);
    assert_eq!(sent(&fx), [trig("slack", "alice", 1)]);
    // The same failure told twice changes nothing.
    let dup = f.apply(
        report("pagerduty", 1, Some("again"), t0() + 2 * MIN),
        t0() + 2 * MIN,
    );
    assert!(dup.deliveries.is_empty() && dup.events.is_empty());
    // Slack fails too: the step has no channel left.
    let fx = f.apply(
        report("slack", 1, Some("timeout"), t0() + 3 * MIN),
        t0() + 3 * MIN,
    );
    assert_eq!(kinds(&fx), [K::DeliveryFailed]);
    assert!(
        fx.events[0]
            .reason
            .ends_with("no channel left in this step"),
        "{:?}",
        fx.events
    );
    assert!(fx.deliveries.is_empty());
    let page = f.book.page("p-1").unwrap();
    let mut through: Vec<_> = page
        .sent
        .iter()
        .map(|s| (s.attempt, s.channel.clone()))
        .collect();
    let n = through.len();
    through.sort();
    through.dedup();
    assert_eq!(
        through.len(),
        n,
        "a channel used twice for one delivery: {through:?}"
    );
}

#[test]
fn a_provider_down_for_two_minutes_the_page_arrives_once_through_the_fallback() {
    let mut f = Fixture::new();
    f.fire("WorldDown", "w2", t0());
    // PagerDuty answers 500 for two minutes: the channel's own retries
    // give up and report; Slack carries the page instead.
    f.apply(
        report(
            "pagerduty",
            1,
            Some("500 (after 8 attempts)"),
            t0() + 2 * MIN,
        ),
        t0() + 2 * MIN,
    );
    f.apply(report("pagerduty", 2, None, t0() + 2 * MIN), t0() + 2 * MIN);
    f.apply(
        report("slack", 1, None, t0() + 2 * MIN + 300),
        t0() + 2 * MIN + 300,
    );
    let page = f.book.page("p-1").unwrap();
    let alice: Vec<_> = page
        .sent
        .iter()
        .filter(|s| {
            s.person.as_deref() == Some("alice") && matches!(s.outcome, Outcome::Delivered { .. })
        })
        .map(|s| s.channel.as_str())
        .collect();
    assert_eq!(alice, ["slack"], "arrived once, through the fallback");
    // PagerDuty is back for the escalation.
    let fx = f.tick(t0() + 5 * MIN);
    assert_eq!(sent(&fx), [trig("pagerduty", "bob", 3)]);
    // Resolve follows the channels that carried it, not the failed one.
    let fx = f.end("WorldDown", "w2", t0() + 6 * MIN);
    let to: Vec<_> = sent(&fx)
        .into_iter()
        .map(|(c, p, _, _)| (c, p.unwrap()))
        .collect();
    let want = [
        ("pagerduty", "carol"),
        ("slack", "alice"),
        ("pagerduty", "bob"),
    ]
    .map(|(c, p)| (c.to_owned(), p.to_owned()));
    assert_eq!(to, want);
}

#[test]
fn the_book_survives_a_restart_with_its_timers() {
    let mut f = Fixture::new();
    f.fire("WorldDown", "w2", t0());
    let saved = serde_json::to_string(&f.book).unwrap();
    let mut g = Fixture::new();
    g.book = serde_json::from_str(&saved).unwrap();
    assert_eq!(g.next_due(t0()), Some(t0() + 5 * MIN));
    assert_eq!(sent(&g.tick(t0() + 5 * MIN)), [trig("pagerduty", "bob", 3)]);
    // An alert already firing before the restart is not paged again.
    assert!(
        g.fire("WorldDown", "w2", t0() + 6 * MIN)
            .deliveries
            .is_empty()
    );
}
