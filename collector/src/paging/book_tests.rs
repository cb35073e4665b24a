//! The page book under a controlled clock: every test states `now`, none
//! sleeps.

use std::collections::BTreeMap;

use liveops_config::paging::Paging;
use liveops_protocol::{AlertStatus, Delivery, DeliveryReport, Notification, PageAction, Severity};

use super::book::{Actor, Book, Ctx, Effects, Input, Outcome, PageError, PageState};
use super::dispatch::Dispatch;
use super::event::PageEventKind as K;
use super::roster::FixedRoster;
use super::route::Suppressed;
use super::silence::SilenceDraft;

pub(super) const MIN: u64 = 60_000;

/// Tuesday 2026-10-27 12:00 UTC: inside every shipped team's hours.
pub(super) fn t0() -> u64 {
    at("2026-10-27T12:00:00Z")
}

fn at(rfc3339: &str) -> u64 {
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
