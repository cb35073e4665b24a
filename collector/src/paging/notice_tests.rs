//! Handoff and moved-shift notices under a controlled clock, over a real
//! schedule resolved by `liveops-oncall`.

use std::sync::Arc;

use arc_swap::ArcSwap;
use liveops_config::paging::Paging;
use liveops_oncall::Schedule;
use liveops_protocol::{AlertStatus, Delivery, Notice, PageAction};

use super::book::{Book, Ctx, Effects, Input};
use super::book_tests::alert;
use super::dispatch::Dispatch;
use super::event::PageEventKind as K;
use super::roster::{Roster, ScheduleRoster, shift_changes};

/// Daily ops handoffs at 09:00 UTC (the file says who holds which day).
const SCHEDULE: &str = include_str!("../../../oncall/testdata/daily-ops.toml");

fn at(rfc3339: &str) -> u64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond() as u64
}

fn schedule(extra: &str) -> Schedule {
    let text = format!("{SCHEDULE}\n{extra}");
    Schedule::new(liveops_config::parse_oncall("oncall.toml", &text).unwrap())
}

struct Channels;

impl Dispatch for Channels {
    fn deliver(&self, _: &str, _: Delivery) -> bool {
        true
    }

    fn kind(&self, channel: &str) -> Option<String> {
        match channel {
            "pagerduty" | "slack" | "email" => Some(channel.into()),
            "tickets" => Some("webhook".into()),
            _ => None,
        }
    }
}

struct Fixture {
    book: Book,
    policy: Paging,
    roster: ScheduleRoster,
}

impl Fixture {
    fn new(now: u64) -> Fixture {
        let channels = ["pagerduty", "slack", "email", "tickets"];
        let text = liveops_config::DEFAULT_PAGING_TOML;
        let policy = liveops_config::parse_paging("paging.toml", text, &channels, None).unwrap();
        let mut book = Book::default();
        book.announce_handoffs_from(now);
        let roster = ScheduleRoster(Arc::new(ArcSwap::from_pointee(schedule(""))));
        Fixture {
            book,
            policy,
            roster,
        }
    }

    fn apply(&mut self, input: Input, now: u64) -> Effects {
        let cx = Ctx {
            policy: &self.policy,
            roster: &self.roster,
            channels: &Channels,
            public_url: "http://collector.test",
        };
        self.book.apply(&cx, input, now).unwrap()
    }
}

fn notices(fx: &Effects) -> Vec<&(String, Delivery)> {
    fx.deliveries
        .iter()
        .filter(|(_, d)| d.action == PageAction::Notify)
        .collect()
}

#[test]
fn the_incoming_person_hears_once_what_is_firing_for_their_team() {
    let before = at("2026-12-07T08:58:00Z");
    let mut f = Fixture::new(before);
    f.apply(
        Input::Alert(alert("WorldDown", "w1", AlertStatus::Firing)),
        before,
    );
    assert_eq!(
        f.book.next_due(&f.policy, &f.roster, before + 60_000),
        Some(at("2026-12-07T09:00:00Z")),
        "the task wakes for the handoff (the SEV1 deadline is later)"
    );
    assert!(notices(&f.apply(Input::Tick, before + 60_000)).is_empty());

    let fx = f.apply(Input::Tick, at("2026-12-07T09:00:30Z"));
    let sent = notices(&fx);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let (channel, d) = sent[0];
    // Slack is the first channel of the policy that shows a message and
    // knows ana.
    assert_eq!(channel, "slack");
    let to = d.to.as_ref().unwrap();
    assert_eq!(
        (to.person.as_str(), to.address.as_deref()),
        ("ana", Some("U0ANA"))
    );
    assert_eq!(d.team, "ops");
    assert_eq!(d.severity.as_str(), "SEV1");
    let Some(Notice::Handoff {
        role,
        from_person,
        firing,
        at: when,
    }) = &d.notice
    else {
        panic!("{d:?}");
    };
    assert_eq!(
        (role.as_str(), from_person.as_deref()),
        ("primary", Some("ben"))
    );
    assert_eq!(when, "2026-12-07T09:00:00.000Z");
    assert_eq!(firing.len(), 1);
    assert_eq!(firing[0].alertname, "WorldDown");
    assert_eq!(firing[0].world.as_deref(), Some("w1"));
    assert_eq!(firing[0].url, "http://collector.test/api/v1/pages/p-1");
    let text = &d.alert.annotations["description"];
    assert!(text.contains("SEV1 WorldDown w1"), "{text}");
    assert!(
        fx.events
            .iter()
            .any(|e| e.kind == K::Notified && e.person.as_deref() == Some("ana"))
    );

    // Announced once.
    assert!(notices(&f.apply(Input::Tick, at("2026-12-07T09:01:00Z"))).is_empty());
    assert_eq!(
        f.book
            .next_due(&f.policy, &f.roster, at("2026-12-07T09:01:00Z")),
        Some(at("2026-12-07T09:03:00Z")),
        "next: the page's deadline (opened 08:58, 5 min), before tomorrow's handoff"
    );
}

#[test]
fn a_handoff_missed_for_long_is_not_announced_late() {
    let mut f = Fixture::new(at("2026-12-06T08:00:00Z"));
    // Down over Dec 6 09:00; back at 11:00.
    assert!(notices(&f.apply(Input::Tick, at("2026-12-06T11:00:00Z"))).is_empty());
    let fx = f.apply(Input::Tick, at("2026-12-07T09:00:00Z"));
    assert_eq!(notices(&fx).len(), 1);
}

#[test]
fn a_new_override_tells_both_people_it_moves() {
    let now = at("2026-12-07T12:00:00Z");
    let mut f = Fixture::new(now);
    let old = schedule("");
    let new = schedule(
        r#"
[[override]]
team = "ops"
role = "primary"
person = "ana"
from = "2026-12-08T09:00:00Z"
until = "2026-12-09T09:00:00Z"
reason = "ben is away"
"#,
    );
    let from = "2026-12-07T12:00:00Z".parse().unwrap();
    let until = "2027-01-04T12:00:00Z".parse().unwrap();
    let changes = shift_changes(liveops_oncall::moved(&old, &new, from, until));
    let fx = f.apply(Input::ShiftsMoved(changes), now);
    let sent = notices(&fx);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let (channel, d) = sent
        .iter()
        .find(|(_, d)| d.to.as_ref().unwrap().person == "ben")
        .unwrap();
    // ben has no Slack: email is the first channel that knows him.
    assert_eq!(channel, "email");
    let Some(Notice::ShiftsMoved { gained, lost }) = &d.notice else {
        panic!("{d:?}");
    };
    assert!(gained.is_empty());
    assert_eq!(lost.len(), 1);
    assert_eq!(
        (lost[0].from.as_str(), lost[0].until.as_str()),
        ("2026-12-08T09:00:00Z", "2026-12-09T09:00:00Z")
    );
    let (_, d) = sent
        .iter()
        .find(|(_, d)| d.to.as_ref().unwrap().person == "ana")
        .unwrap();
    let Some(Notice::ShiftsMoved { gained, lost }) = &d.notice else {
        panic!("{d:?}");
    };
    assert_eq!((gained.len(), lost.len()), (1, 0));
    assert!(d.alert.annotations["description"].contains("+ ops primary 2026-12-08T09:00:00Z"));
    // The same schedule again moves nobody.
    assert!(liveops_oncall::moved(&new, &new, from, until).is_empty());
    assert_eq!(f.roster.handoffs(0, 1), vec![]);
}

fn failed(d: &Delivery, channel: &str, now: u64) -> Input {
    Input::Report(liveops_protocol::DeliveryReport {
        page_id: d.page_id.clone(),
        channel: channel.to_owned(),
        action: d.action,
        attempt: d.attempt,
        error: Some(format!("{channel} answered 500")),
        at_ms: now,
    })
}

#[test]
fn a_notice_that_fails_goes_out_through_the_next_channel_until_none_is_left() {
    let t = at("2026-12-07T09:00:30Z");
    let mut f = Fixture::new(at("2026-12-07T08:58:00Z"));
    let first = notices(&f.apply(Input::Tick, t))[0].clone();
    assert_eq!(first.0, "slack");

    // Slack fails: then email (ana's address), then the tickets webhook.
    let fx = f.apply(failed(&first.1, "slack", t + 1), t + 1);
    let second = notices(&fx)[0].clone();
    assert_eq!((second.0.as_str(), second.1.attempt), ("email", 2));
    let to = second.1.to.as_ref().unwrap();
    assert_eq!(
        (to.person.as_str(), to.address.as_deref()),
        ("ana", Some("ana@example.com"))
    );
    assert!(
        fx.events
            .iter()
            .any(|e| e.kind == K::DeliveryFailed && e.reason.contains("falling back to email"))
    );
    // A stale report (the first attempt's, again) changes nothing.
    assert!(notices(&f.apply(failed(&first.1, "slack", t + 2), t + 2)).is_empty());

    let third = notices(&f.apply(failed(&second.1, "email", t + 3), t + 3))[0].clone();
    assert_eq!(third.0, "tickets");
    let fx = f.apply(failed(&third.1, "tickets", t + 4), t + 4);
    assert!(notices(&fx).is_empty());
    let undelivered: Vec<_> = fx
        .events
        .iter()
        .filter(|e| e.kind == K::NoticeUndelivered)
        .collect();
    assert_eq!(undelivered.len(), 1, "{:#?}", fx.events);
    assert_eq!(undelivered[0].person.as_deref(), Some("ana"));
    assert!(f.book.notices.is_empty());
}

#[test]
fn a_delivered_notice_is_done_with() {
    let t = at("2026-12-07T09:00:30Z");
    let mut f = Fixture::new(at("2026-12-07T08:58:00Z"));
    let (channel, d) = notices(&f.apply(Input::Tick, t))[0].clone();
    assert_eq!(f.book.notices.len(), 1);
    let mut ok = liveops_protocol::DeliveryReport {
        page_id: d.page_id.clone(),
        channel,
        action: d.action,
        attempt: d.attempt,
        error: None,
        at_ms: t + 1,
    };
    f.apply(Input::Report(ok.clone()), t + 1);
    assert!(f.book.notices.is_empty());
    ok.error = Some("late failure".into());
    let fx = f.apply(Input::Report(ok), t + 2);
    assert!(fx.deliveries.is_empty() && fx.events.is_empty());
}
