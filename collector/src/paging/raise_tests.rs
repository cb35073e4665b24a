//! A more urgent alert joining an open page, under a controlled clock:
//! the page's severity rises, the new severity's policy applies (its
//! deadline, its extra teams), and it is audited and delivered.

use liveops_protocol::{AlertStatus, Notification, PageAction, Severity};

use super::book::{Input, PageState};
use super::book_tests::{Fixture, MIN, alert, kinds, operator, sent, t0, trig};
use super::event::PageEventKind as K;

/// Payments of `world` failing: routed to engineering as SEV1 by the
/// shipped policy, where other failure ratios are SEV2.
fn payments_failing(world: &str) -> Notification {
    let mut n = alert("HighFailureRatio", world, AlertStatus::Firing);
    n.labels.insert("slo".into(), "payment_success".into());
    n
}

#[test]
fn a_sev1_alert_joining_a_sev2_page_raises_it_and_the_sev1_policy_takes_over() {
    let mut f = Fixture::new();
    // Requests failing in w2: engineering's SEV2, its primary only, 15 minutes.
    let fx = f.fire("HighFailureRatio", "w2", t0());
    assert_eq!(sent(&fx), [trig("pagerduty", "dave", 1)]);
    assert_eq!(fx.deliveries[0].1.severity, Severity::Sev2);
    assert_eq!(f.next_due(t0()), Some(t0() + 15 * MIN));

    // Three minutes in, payments of w2 fail too: same team, same world.
    let fx = f.apply(Input::Alert(payments_failing("w2")), t0() + 3 * MIN);
    assert_eq!(
        kinds(&fx),
        [K::Routed, K::Grouped, K::Raised, K::Paged, K::Paged]
    );
    let raised = &fx.events[2];
    assert_eq!(raised.id.as_deref(), Some("p-1"));
    assert_eq!(raised.severity, Some(Severity::Sev1));
    assert_eq!(raised.reason, "SEV2 → SEV1: HighFailureRatio joined");
    assert_eq!(raised.labels["slo"], "payment_success");
    // SEV1's first step: the primary again (PagerDuty updates the incident
    // it has: same dedup_key, new severity) and community's primary.
    assert_eq!(
        sent(&fx),
        [trig("pagerduty", "dave", 2), trig("pagerduty", "carol", 3)]
    );
    for (_, d) in &fx.deliveries {
        assert_eq!((d.page_id.as_str(), d.severity), ("p-1", Severity::Sev1));
        assert_eq!(d.alert.label("slo"), Some("payment_success"));
        let event = crate::notify::pagerduty::event(d, "K");
        assert_eq!(event["dedup_key"], "p-1");
        assert_eq!(event["event_action"], "trigger");
        assert_eq!(event["payload"]["severity"], "critical");
    }
    let page = f.book.page("p-1").unwrap();
    assert_eq!((page.severity, page.alerts.len()), (Severity::Sev1, 2));
    assert_eq!(f.book.open_pages(), 1);

    // SEV1's 5-minute deadline from the raise, not SEV2's 15 from the open.
    assert_eq!(f.next_due(t0() + 3 * MIN), Some(t0() + 8 * MIN));
    assert!(f.tick(t0() + 8 * MIN - 1).deliveries.is_empty());
    let fx = f.tick(t0() + 8 * MIN);
    assert_eq!(kinds(&fx)[0], K::Escalated);
    // Engineering has no secondary in this roster: the channel's own
    // destination gets it.
    assert_eq!(
        sent(&fx),
        [("pagerduty".into(), None, PageAction::Trigger, 4)]
    );

    // A less urgent alert joining later changes nothing.
    let mut backlog = alert("TickBacklog", "w2", AlertStatus::Firing);
    backlog.labels.insert("slo".into(), "tick_latency".into());
    let fx = f.apply(Input::Alert(backlog), t0() + 9 * MIN);
    assert_eq!(kinds(&fx), [K::Routed, K::Grouped]);
    assert_eq!(f.book.page("p-1").unwrap().severity, Severity::Sev1);
}

#[test]
fn a_raised_acknowledged_page_tells_the_new_teams_but_does_not_escalate() {
    let mut f = Fixture::new();
    f.fire("HighFailureRatio", "w2", t0());
    let ack = Input::Ack {
        id: "p-1".into(),
        actor: operator(),
        reason: "looking".into(),
    };
    f.apply(ack, t0() + MIN);
    let fx = f.apply(Input::Alert(payments_failing("w2")), t0() + 2 * MIN);
    assert_eq!(
        kinds(&fx),
        [K::Routed, K::Grouped, K::Raised, K::Paged, K::Paged]
    );
    assert_eq!(
        sent(&fx),
        [trig("pagerduty", "dave", 2), trig("pagerduty", "carol", 3)]
    );
    let page = f.book.page("p-1").unwrap();
    assert_eq!(page.state, PageState::Acked);
    assert_eq!(page.severity, Severity::Sev1);
    assert_eq!(f.next_due(t0() + 2 * MIN), None);
    assert!(f.tick(t0() + 60 * MIN).deliveries.is_empty());

    // Resolving it reaches everyone told, the newly told included.
    let fx = f.apply(
        Input::Resolve {
            id: "p-1".into(),
            actor: operator(),
            reason: "fixed".into(),
        },
        t0() + 70 * MIN,
    );
    let resolved: Vec<_> = sent(&fx).into_iter().map(|(_, p, a, _)| (p, a)).collect();
    let want = ["dave", "carol"].map(|p| (Some(p.to_owned()), PageAction::Resolve));
    assert_eq!(resolved, want);
}

#[test]
fn another_worlds_or_teams_alert_never_raises_a_page() {
    let mut f = Fixture::new();
    f.fire("HighFailureRatio", "w2", t0());
    // w3's payments: another world, another page.
    let fx = f.apply(Input::Alert(payments_failing("w3")), t0() + MIN);
    assert_eq!(kinds(&fx)[..2], [K::Routed, K::Opened]);
    assert_eq!(f.book.page("p-1").unwrap().severity, Severity::Sev2);
    assert_eq!(f.book.page("p-2").unwrap().severity, Severity::Sev1);
}
