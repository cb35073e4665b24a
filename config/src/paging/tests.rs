use std::collections::BTreeMap;

use super::*;

const CHANNELS: &[&str] = &["pagerduty", "slack", "email", "tickets"];

fn teams() -> Vec<String> {
    ["engineering", "ops", "community"]
        .map(String::from)
        .to_vec()
}

/// The shipped schedule's names.
fn shipped() -> (Vec<String>, Vec<String>) {
    let o = crate::parse_oncall("oncall.toml", crate::DEFAULT_ONCALL_TOML).unwrap();
    (
        o.teams.iter().map(|t| t.name.clone()).collect(),
        o.people.iter().map(|p| p.name.clone()).collect(),
    )
}

fn known<'a>(teams: &'a [String], people: &'a [String]) -> Option<ScheduleNames<'a>> {
    Some(ScheduleNames { teams, people })
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ms(rfc3339: &str) -> u64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond() as u64
}

#[test]
fn the_shipped_policy_is_valid_and_says_what_the_issue_asks() {
    let (teams, people) = shipped();
    let p = crate::parse_paging(
        "paging.toml",
        crate::DEFAULT_PAGING_TOML,
        CHANNELS,
        known(&teams, &people),
    )
    .unwrap();
    assert_eq!(p.flap_window, Duration::from_secs(300));
    let sev1 = p.policy(Severity::Sev1);
    assert_eq!(sev1.steps[0].ack_deadline, Duration::from_secs(300));
    assert_eq!(
        p.policy(Severity::Sev2).steps[0].ack_deadline,
        Duration::from_secs(900)
    );
    assert!(sev1.steps[0].notify.contains(&Target::OnCall {
        team: Some("community".into()),
        role: Role::Primary
    }));
    assert_eq!(
        sev1.steps[1].notify,
        [Target::OnCall {
            team: None,
            role: Role::Secondary
        }]
    );
    assert_eq!(sev1.steps[2].notify, [Target::Person("erin".into())]);
    assert!(p.policy(Severity::Sev3).working_hours);
    assert_eq!(p.policy(Severity::Sev3).outside_hours, OutsideHours::Hold);
    assert_eq!(
        p.policy(Severity::Sev4).outside_hours,
        OutsideHours::Channel("tickets".into())
    );
    let down = labels(&[("alertname", "WorldDown"), ("world", "w2")]);
    let stall = labels(&[("alertname", "TickStalled"), ("world", "w2")]);
    let rule = &p.inhibit[0];
    assert!(rule.source.matches(&down) && rule.target.matches(&stall));
    assert!(!rule.target.matches(&down));
    let first = p.routes.iter().find(|r| r.matchers.matches(&down)).unwrap();
    assert_eq!(
        first.to,
        RouteTo {
            team: Some("ops".into()),
            severity: Severity::Sev1
        }
    );
}

#[test]
fn every_error_comes_at_once_with_its_position() {
    let text = r#"
[paging]
flap_window = "soon"

[[route]]
match_re = { alertname = "World(" }
severity = "SEV9"

[policy.SEV1]
[[policy.SEV1.step]]
notify = [{ role = "tertiary" }, { team = "marketing", role = "primary" }]
channels = ["pagerduty", "sms"]
ack_deadline = "5m"

[policy.SEV2]
[[policy.SEV2.step]]
notify = [{ person = "lead" }]
channels = ["slack"]

[working_hours.ops]
zone = "Mars/Olympus"
days = ["mon", "funday"]
from = "18:00"
until = "09:00"

[[maintenance]]
match = { world = "w3" }
from = "tomorrow"
until = "2026-12-24T08:00:00Z"
"#;
    let err = parse(
        "p.toml",
        text,
        Some(CHANNELS),
        known(&teams(), &["erin".to_owned()]),
    )
    .unwrap_err()
    .to_string();
    let want = [
        "p.toml:3:15: flap_window: `soon` is not a duration",
        "p.toml:6:26: `alertname`: not a regular expression",
        "p.toml:7:12: unknown severity `SEV9`, expected SEV1, SEV2, SEV3 or SEV4",
        "p.toml:11:20: unknown role `tertiary`, expected `primary` or `secondary`",
        "p.toml:11:43: unknown team `marketing`: the on-call schedule has `engineering`, `ops`, `community`",
        "p.toml:12:26: unknown channel `sms`: the collector's [[notifier]] channels are `pagerduty`, `slack`, `email`, `tickets`",
        "p.toml:17:10: missing `ack_deadline` for this step",
        "p.toml:21:8: unknown time zone `Mars/Olympus`",
        "p.toml:22:16: unknown day `funday`",
        "p.toml:24:9: `until` must be later than `from` on the same day",
        ": missing `reason`",
        "p.toml:28:8: from: `tomorrow` is not an RFC 3339 time",
        "no policy for SEV3, SEV4",
        "unknown person `lead`: not in the on-call schedule's people",
    ];
    for w in want {
        assert!(err.contains(w), "missing {w:?} in:\n{err}");
    }
}

#[test]
fn teams_are_only_checked_once_a_schedule_names_them() {
    let text = crate::DEFAULT_PAGING_TOML.replace("team = \"ops\"", "team = \"platform\"");
    assert!(parse("p.toml", &text, Some(CHANNELS), None).is_ok());
    let err = parse(
        "p.toml",
        &text,
        Some(CHANNELS),
        known(&teams(), &["erin".to_owned()]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown team `platform`"), "{err}");
    let unknown = parse("p.toml", "[pagin]\n", None, None)
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("p.toml:1:2: unknown section `pagin`"),
        "{unknown}"
    );
}

#[test]
fn regexes_are_anchored_and_a_missing_label_is_empty() {
    let text = format!(
        "{}\n[[route]]\nmatch_re = {{ alertname = \"Tick.*\" }}\nmatch = {{ world = \"\" }}\nseverity = \"SEV2\"\n",
        crate::DEFAULT_PAGING_TOML
    );
    let p = parse("p.toml", &text, Some(CHANNELS), None).unwrap();
    let r = p.routes.last().unwrap();
    assert!(r.matchers.matches(&labels(&[("alertname", "TickBacklog")])));
    assert!(
        !r.matchers
            .matches(&labels(&[("alertname", "NoTickBacklog")]))
    );
    assert!(
        !r.matchers
            .matches(&labels(&[("alertname", "TickBacklog"), ("world", "w1")]))
    );
}

#[test]
fn working_hours_follow_the_zone_across_a_dst_switch() {
    let hours = WorkingHours {
        zone: jiff::tz::TimeZone::get("Europe/Berlin").unwrap(),
        days: [true, true, true, true, true, false, false],
        from: jiff::civil::Time::new(9, 0, 0, 0).unwrap(),
        until: jiff::civil::Time::new(18, 0, 0, 0).unwrap(),
    };
    // Europe went from CEST to CET on Sunday 2026-10-25.
    let cases = [
        // Friday evening before the switch: Monday 09:00 CET = 08:00 UTC.
        ("2026-10-23T17:30:00Z", "2026-10-26T08:00:00Z"),
        // Friday 08:00 CEST is before 09:00 local: 07:00 UTC that day.
        ("2026-10-23T06:00:00Z", "2026-10-23T07:00:00Z"),
        // Inside the hours: now.
        ("2026-10-26T12:00:00Z", "2026-10-26T12:00:00Z"),
        // 17:59:59 CET inside, 18:00 CET outside.
        ("2026-10-26T16:59:59Z", "2026-10-26T16:59:59Z"),
        ("2026-10-26T17:00:00Z", "2026-10-27T08:00:00Z"),
    ];
    for (at, want) in cases {
        assert_eq!(hours.next_start(ms(at)), Some(ms(want)), "from {at}");
    }
    assert!(!hours.contains(ms("2026-10-25T10:00:00Z")), "a Sunday");
    let never = WorkingHours {
        days: [false; 7],
        ..hours
    };
    assert_eq!(never.next_start(ms("2026-10-25T10:00:00Z")), None);
}
