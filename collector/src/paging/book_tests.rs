//! The page book under a controlled clock: every test states `now`, none
//! sleeps.

use std::collections::BTreeMap;

use liveops_config::paging::Paging;
use liveops_protocol::{AlertStatus, Delivery, Notification, PageAction, Severity};

use super::book::{Actor, Book, Ctx, Effects, Input, PageError, PageState};
use super::dispatch::Dispatch;
use super::event::PageEventKind as K;
use super::roster::FixedRoster;

pub(super) const MIN: u64 = 60_000;

/// Tuesday 2026-10-27 12:00 UTC: inside every shipped team's hours.
pub(super) fn t0() -> u64 {
    at("2026-10-27T12:00:00Z")
}

pub(super) fn at(rfc3339: &str) -> u64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond() as u64
}

struct Channels;

impl Dispatch for Channels {
    fn deliver(&self, _: &str, _: Delivery) -> bool {
        true
    }

    fn kind(&self, channel: &str) -> Option<String> {
        let kind = match channel {
            "pagerduty" => "pagerduty",
            "slack" => "slack",
            "email" => "email",
            "tickets" => "webhook",
            _ => return None,
        };
        Some(kind.into())
    }
}

pub(super) struct Fixture {
    pub book: Book,
    policy: Paging,
    roster: FixedRoster,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with("")
    }

    /// The shipped policy with `extra` TOML appended.
    pub fn with(extra: &str) -> Fixture {
        Fixture::from_text(&format!("{}\n{extra}", liveops_config::DEFAULT_PAGING_TOML))
    }

    /// The shipped policy with `routes` before its own.
    pub fn first(routes: &str) -> Fixture {
        Fixture::from_text(&format!(
            "{routes}\n{}",
            liveops_config::DEFAULT_PAGING_TOML
        ))
    }

    fn from_text(text: &str) -> Fixture {
        let channels = ["pagerduty", "slack", "email", "tickets"];
        let policy = liveops_config::parse_paging("paging.toml", text, &channels, None).unwrap();
        let roster = FixedRoster::default()
            .on("ops", "primary", "alice")
            .on("ops", "secondary", "bob")
            .on("community", "primary", "carol")
            .on("engineering", "primary", "dave")
            .contact("alice", "pagerduty", "routing-key-alice");
        Fixture {
            book: Book::default(),
            policy,
            roster,
        }
    }

    pub fn try_apply(&mut self, input: Input, now: u64) -> Result<Effects, PageError> {
        let cx = Ctx {
            policy: &self.policy,
            roster: &self.roster,
            channels: &Channels,
            public_url: "http://collector.test",
        };
        self.book.apply(&cx, input, now)
    }

    pub fn apply(&mut self, input: Input, now: u64) -> Effects {
        self.try_apply(input, now).unwrap()
    }

    pub fn fire(&mut self, name: &str, world: &str, now: u64) -> Effects {
        self.apply(Input::Alert(alert(name, world, AlertStatus::Firing)), now)
    }

    pub fn end(&mut self, name: &str, world: &str, now: u64) -> Effects {
        self.apply(Input::Alert(alert(name, world, AlertStatus::Resolved)), now)
    }

    pub fn tick(&mut self, now: u64) -> Effects {
        self.apply(Input::Tick, now)
    }

    pub fn next_due(&self, now: u64) -> Option<u64> {
        self.book.next_due(&self.policy, &self.roster, now)
    }
}

pub(super) fn alert(name: &str, world: &str, status: AlertStatus) -> Notification {
    let slo = if name == "HighFailureRatio" {
        "error_rate"
    } else {
        "uptime"
    };
    let labels: BTreeMap<String, String> = [
        ("alertname", name),
        ("world", world),
        ("slo", slo),
        ("severity", "page"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    let annotations = [
        ("summary", format!("{name} in {world}")),
        ("owner", "platform-oncall".to_owned()),
        (
            "runbook_url",
            "http://collector.test/runbooks/uptime".to_owned(),
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .into();
    Notification {
        status,
        labels,
        annotations,
        starts_at: "2026-10-27T12:00:00Z".into(),
        ends_at: (status == AlertStatus::Resolved).then(|| "2026-10-27T12:30:00Z".into()),
        generator_url: "http://collector.test/api/v1/alerts".into(),
    }
}

pub(super) fn operator() -> Actor {
    Actor {
        name: "oncall-alice".into(),
        role: "responder".into(),
    }
}

/// (channel, person, action, attempt) of each delivery.
pub(super) fn sent(fx: &Effects) -> Vec<(String, Option<String>, PageAction, u32)> {
    fx.deliveries
        .iter()
        .map(|(c, d)| {
            (
                c.clone(),
                d.to.as_ref().map(|t| t.person.clone()),
                d.action,
                d.attempt,
            )
        })
        .collect()
}

pub(super) fn kinds(fx: &Effects) -> Vec<K> {
    fx.events.iter().map(|e| e.kind).collect()
}

pub(super) fn trig(
    channel: &str,
    person: &str,
    attempt: u32,
) -> (String, Option<String>, PageAction, u32) {
    (
        channel.into(),
        Some(person.into()),
        PageAction::Trigger,
        attempt,
    )
}

#[test]
fn an_unacknowledged_sev1_reaches_the_secondary_at_exactly_its_deadline() {
    let mut f = Fixture::new();
    let fx = f.fire("WorldDown", "w2", t0());
    assert_eq!(kinds(&fx), [K::Routed, K::Opened, K::Paged, K::Paged]);
    assert_eq!(
        sent(&fx),
        [trig("pagerduty", "alice", 1), trig("pagerduty", "carol", 2)]
    );
    let (_, d) = &fx.deliveries[0];
    assert_eq!(
        (d.page_id.as_str(), d.severity, d.team.as_str()),
        ("p-1", Severity::Sev1, "ops")
    );
    assert_eq!(
        d.to.as_ref().unwrap().address.as_deref(),
        Some("routing-key-alice")
    );
    assert_eq!(d.page_url, "http://collector.test/api/v1/pages/p-1");
    assert_eq!(d.summary(), "WorldDown in w2");
    assert_eq!(f.next_due(t0()), Some(t0() + 5 * MIN));

    assert!(
        f.tick(t0() + 5 * MIN - 1).deliveries.is_empty(),
        "1 ms early"
    );
    let fx = f.tick(t0() + 5 * MIN);
    assert_eq!(sent(&fx), [trig("pagerduty", "bob", 3)]);
    assert_eq!(kinds(&fx), [K::Escalated, K::Paged]);
    // Then the named lead, then once around again, then nothing more.
    assert_eq!(
        sent(&f.tick(t0() + 10 * MIN)),
        [trig("pagerduty", "erin", 4)]
    );
    let again = f.tick(t0() + 15 * MIN);
    assert_eq!(kinds(&again)[0], K::Repeated);
    assert_eq!(
        sent(&again),
        [trig("pagerduty", "alice", 5), trig("pagerduty", "carol", 6)]
    );
    assert_eq!(
        sent(&f.tick(t0() + 20 * MIN)),
        [trig("pagerduty", "bob", 7)]
    );
    assert_eq!(
        sent(&f.tick(t0() + 25 * MIN)),
        [trig("pagerduty", "erin", 8)]
    );
    let last = f.tick(t0() + 30 * MIN);
    assert!(last.deliveries.is_empty());
    assert_eq!(kinds(&last), [K::Exhausted]);
    assert_eq!(f.next_due(t0() + 30 * MIN), None);
}

#[test]
fn an_acknowledged_page_never_escalates_and_the_ack_reaches_the_pager() {
    let mut f = Fixture::new();
    f.fire("WorldDown", "w2", t0());
    let ack = |f: &mut Fixture, now| {
        let reason = "looking".to_owned();
        f.try_apply(
            Input::Ack {
                id: "p-1".into(),
                actor: operator(),
                reason,
            },
            now,
        )
    };
    let fx = ack(&mut f, t0() + 4 * MIN).unwrap();
    assert_eq!(kinds(&fx), [K::Acked]);
    assert_eq!(fx.events[0].actor, "oncall-alice");
    let acks = sent(&fx);
    assert_eq!(
        acks,
        [
            (
                "pagerduty".into(),
                Some("alice".into()),
                PageAction::Acknowledge,
                1
            ),
            (
                "pagerduty".into(),
                Some("carol".into()),
                PageAction::Acknowledge,
                2
            )
        ]
    );
    for later in [5 * MIN, 10 * MIN, 24 * 60 * MIN] {
        assert!(f.tick(t0() + later).deliveries.is_empty());
    }
    assert_eq!(f.next_due(t0()), None);
    assert!(
        matches!(ack(&mut f, t0() + 6 * MIN), Err(PageError::Conflict(m)) if m.contains("oncall-alice"))
    );
    let missing = f.try_apply(
        Input::Ack {
            id: "p-9".into(),
            actor: operator(),
            reason: "x".into(),
        },
        t0(),
    );
    assert_eq!(
        missing.unwrap_err(),
        PageError::NotFound("no page `p-9`".into())
    );
}

#[test]
fn a_resolved_alert_resolves_its_page_at_every_channel_told() {
    let mut f = Fixture::new();
    f.fire("WorldDown", "w2", t0());
    f.tick(t0() + 5 * MIN);
    let fx = f.end("WorldDown", "w2", t0() + 6 * MIN);
    assert_eq!(kinds(&fx), [K::Resolved]);
    let resolved: Vec<_> = sent(&fx)
        .into_iter()
        .map(|(c, p, a, _)| (c, p.unwrap(), a))
        .collect();
    let want = ["alice", "carol", "bob"]
        .map(|p| ("pagerduty".to_owned(), p.to_owned(), PageAction::Resolve));
    assert_eq!(resolved, want);
    assert_eq!(f.book.page("p-1").unwrap().state, PageState::Resolved);
    assert!(f.tick(t0() + 60 * MIN).deliveries.is_empty());
}
