//! Table tests under a controlled clock: every instant is written out.

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A schedule of team `t` with people a, b, c, d (all reachable) and a
/// primary rotation; `extra` is appended (overrides, coverage, …).
fn schedule(zone: &str, handoff: &str, shift: &str, start: &str, extra: &str) -> Schedule {
    let text = format!(
        r#"
[team.t]
[person.a]
zone = "UTC"
email = "a@example.com"
[person.b]
zone = "UTC"
email = "b@example.com"
[person.c]
zone = "UTC"
email = "c@example.com"
[person.d]
zone = "UTC"
email = "d@example.com"
[rotation.t-primary]
team = "t"
role = "primary"
members = ["a", "b"]
shift = "{shift}"
handoff = "{handoff}"
zone = "{zone}"
start = "{start}"
{extra}
"#
    );
    Schedule::new(liveops_config::parse_oncall("t.toml", &text).unwrap())
}

/// `(person, from, until)` of whoever is primary at `at`.
fn primary_at(s: &Schedule, at: &str) -> (String, String, String) {
    let who = s.who(ts(at), Some("t"));
    let p = who
        .iter()
        .find(|o| o.role == Role::Primary)
        .unwrap_or_else(|| panic!("nobody at {at}: {who:?}"));
    (p.person.clone(), p.from.to_string(), p.until.to_string())
}

#[test]
fn handoffs_across_dst_switches() {
    struct Case {
        what: &'static str,
        zone: &'static str,
        handoff: &'static str,
        shift: &'static str,
        start: &'static str,
        at: &'static str,
        want: (&'static str, &'static str, &'static str),
    }
    let cases = [
        Case {
            what: "EU spring forward: 02:30 does not exist on 29 March, the handoff is at 03:30 CEST",
            zone: "Europe/Berlin",
            handoff: "02:30",
            shift: "1d",
            start: "2026-03-27",
            at: "2026-03-29T01:29:59Z",
            want: ("b", "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z"),
        },
        Case {
            what: "EU spring forward: the day after the gap is 23 hours long",
            zone: "Europe/Berlin",
            handoff: "02:30",
            shift: "1d",
            start: "2026-03-27",
            at: "2026-03-29T01:30:00Z",
            want: ("a", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"),
        },
        Case {
            what: "EU fall back: 02:30 happens twice on 25 October, the handoff is the first (CEST)",
            zone: "Europe/Berlin",
            handoff: "02:30",
            shift: "1d",
            start: "2026-10-23",
            at: "2026-10-25T00:30:00Z",
            want: ("a", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"),
        },
        Case {
            what: "US spring forward: 02:30 on 8 March is 03:30 EDT",
            zone: "America/New_York",
            handoff: "02:30",
            shift: "1w",
            start: "2026-03-01",
            at: "2026-03-08T07:30:00Z",
            want: ("b", "2026-03-08T07:30:00Z", "2026-03-15T06:30:00Z"),
        },
        Case {
            what: "US fall back: 01:30 on 1 November is the first, EDT",
            zone: "America/New_York",
            handoff: "01:30",
            shift: "1w",
            start: "2026-10-25",
            at: "2026-11-01T05:29:59Z",
            want: ("a", "2026-10-25T05:30:00Z", "2026-11-01T05:30:00Z"),
        },
        Case {
            what: "a weekly shift over the EU switch keeps its wall-clock end (09:00), so it is 167 hours",
            zone: "Europe/Berlin",
            handoff: "09:00",
            shift: "1w",
            start: "2026-03-23",
            at: "2026-03-25T12:00:00Z",
            want: ("a", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"),
        },
        Case {
            what: "a twelve-hour shift over the US fall-back switch ends at 08:00 EST, 13 hours on",
            zone: "America/New_York",
            handoff: "08:00",
            shift: "12h",
            start: "2026-10-31",
            at: "2026-11-01T06:00:00Z",
            want: ("b", "2026-11-01T00:00:00Z", "2026-11-01T13:00:00Z"),
        },
        Case {
            what: "a daily rotation in New York hands off at 10:00 EDT in summer",
            zone: "America/New_York",
            handoff: "10:00",
            shift: "1d",
            start: "2026-01-05",
            at: "2026-07-01T13:59:59Z",
            want: ("a", "2026-06-30T14:00:00Z", "2026-07-01T14:00:00Z"),
        },
        Case {
            what: "... and at 10:00 EST in winter",
            zone: "America/New_York",
            handoff: "10:00",
            shift: "1d",
            start: "2026-01-05",
            at: "2026-12-01T15:00:00Z",
            want: ("a", "2026-12-01T15:00:00Z", "2026-12-02T15:00:00Z"),
        },
        Case {
            what: "a daily rotation in Tokyo (no DST) hands off at 09:00 JST, midnight UTC",
            zone: "Asia/Tokyo",
            handoff: "09:00",
            shift: "1d",
            start: "2026-01-01",
            at: "2026-01-02T23:59:59Z",
            want: ("b", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"),
        },
    ];
    for c in cases {
        let s = schedule(c.zone, c.handoff, c.shift, c.start, "");
        let got = primary_at(&s, c.at);
        let want = (
            c.want.0.to_owned(),
            c.want.1.to_owned(),
            c.want.2.to_owned(),
        );
        assert_eq!(got, want, "{}", c.what);
    }
}

#[test]
fn nobody_is_on_call_before_the_rotation_starts() {
    let s = schedule("UTC", "09:00", "1d", "2026-01-05", "");
    assert!(s.who(ts("2026-01-05T08:59:59Z"), None).is_empty());
    assert_eq!(primary_at(&s, "2026-01-05T09:00:00Z").0, "a");
}

const OVERRIDES: &str = r#"
[[override]]
team = "t"
role = "primary"
person = "c"
from = "2026-01-07T00:00:00Z"
until = "2026-01-09T00:00:00Z"
reason = "a is at a conference"
[[override]]
team = "t"
role = "primary"
person = "d"
from = "2026-01-08T00:00:00Z"
until = "2026-01-08T12:00:00Z"
"#;

#[test]
fn overrides_cut_a_shift_and_the_later_one_wins() {
    let s = schedule("UTC", "09:00", "1w", "2026-01-05", OVERRIDES);
    let got: Vec<(String, String, String, &str)> = s
        .shifts(ts("2026-01-05T09:00:00Z"), ts("2026-01-12T09:00:00Z"), None)
        .into_iter()
        .map(|p| {
            let kind = p.source.kind();
            (p.person, p.from.to_string(), p.until.to_string(), kind)
        })
        .collect();
    let row = |p: &str, f: &str, u: &str, k| (p.to_owned(), f.to_owned(), u.to_owned(), k);
    assert_eq!(
        got,
        [
            row(
                "a",
                "2026-01-05T09:00:00Z",
                "2026-01-07T00:00:00Z",
                "rotation"
            ),
            row(
                "c",
                "2026-01-07T00:00:00Z",
                "2026-01-08T00:00:00Z",
                "override"
            ),
            row(
                "d",
                "2026-01-08T00:00:00Z",
                "2026-01-08T12:00:00Z",
                "override"
            ),
            row(
                "c",
                "2026-01-08T12:00:00Z",
                "2026-01-09T00:00:00Z",
                "override"
            ),
            row(
                "a",
                "2026-01-09T00:00:00Z",
                "2026-01-12T09:00:00Z",
                "rotation"
            ),
        ]
    );
    // Asking at one instant gives the same piece as the listing.
    assert_eq!(
        primary_at(&s, "2026-01-08T06:00:00Z"),
        (
            "d".into(),
            "2026-01-08T00:00:00Z".into(),
            "2026-01-08T12:00:00Z".into()
        )
    );
    let h: Vec<(String, Option<String>, String)> = s
        .handoffs(ts("2026-01-05T09:00:00Z"), ts("2026-01-12T09:00:01Z"))
        .into_iter()
        .map(|h| (h.at.to_string(), h.from_person, h.to_person))
        .collect();
    let hand =
        |at: &str, f: Option<&str>, t: &str| (at.to_owned(), f.map(str::to_owned), t.to_owned());
    assert_eq!(
        h,
        [
            hand("2026-01-05T09:00:00Z", None, "a"),
            hand("2026-01-07T00:00:00Z", Some("a"), "c"),
            hand("2026-01-08T00:00:00Z", Some("c"), "d"),
            hand("2026-01-08T12:00:00Z", Some("d"), "c"),
            hand("2026-01-09T00:00:00Z", Some("c"), "a"),
            hand("2026-01-12T09:00:00Z", Some("a"), "b"),
        ]
    );
}

const LAUNCH: &str = r#"
[coverage.launch]
team = "t"
role = "primary"
people = ["c"]
from = "2026-01-09 18:00"
until = "2026-01-12 09:00"
zone = "Europe/Berlin"
[coverage.launch-layer]
team = "t"
role = "primary"
members = ["d", "c"]
shift = "1d"
handoff = "12:00"
zone = "UTC"
from = "2026-01-10T00:00:00Z"
until = "2026-01-11T18:00:00Z"
"#;

#[test]
fn a_coverage_window_adds_a_second_primary() {
    let s = schedule("UTC", "09:00", "1w", "2026-01-05", LAUNCH);
    let names = |at| -> Vec<(String, &'static str)> {
        s.who(ts(at), Some("t"))
            .into_iter()
            .map(|o| (o.person, o.source.kind()))
            .collect()
    };
    let n = |p: &str, k| (p.to_owned(), k);
    assert_eq!(names("2026-01-09T16:59:59Z"), [n("a", "rotation")]);
    assert_eq!(
        names("2026-01-09T17:00:00Z"),
        [n("a", "rotation"), n("c", "coverage")]
    );
    // The layer's first shift is cut to the window: 00:00 to 12:00.
    assert_eq!(
        names("2026-01-10T06:00:00Z"),
        [n("a", "rotation"), n("c", "coverage"), n("d", "coverage")]
    );
    let late = s.who(ts("2026-01-11T17:00:00Z"), None);
    let d = late
        .iter()
        .find(|o| o.person == "d")
        .expect("the layer's last shift");
    let bounds = (d.from.to_string(), d.until.to_string());
    assert_eq!(
        bounds,
        ("2026-01-11T12:00:00Z".into(), "2026-01-11T18:00:00Z".into())
    );
    assert_eq!(
        names("2026-01-12T07:59:59Z"),
        [n("a", "rotation"), n("c", "coverage")]
    );
    assert_eq!(names("2026-01-12T08:00:00Z"), [n("a", "rotation")]);
}

#[test]
fn check_finds_gaps_double_roles_missing_contacts_and_stray_overrides() {
    let text = r#"
[team.t]
[team.quiet]
[person.a]
zone = "UTC"
email = "a@example.com"
[person.b]
zone = "UTC"
[rotation.p]
team = "t"
role = "primary"
members = ["a", "b"]
shift = "1d"
handoff = "00:00"
zone = "UTC"
start = "2026-01-02"
[rotation.s]
team = "t"
role = "secondary"
members = ["a"]
shift = "1w"
handoff = "00:00"
zone = "UTC"
start = "2026-01-01"
[[override]]
team = "quiet"
role = "primary"
person = "a"
from = "2026-01-03T00:00:00Z"
until = "2026-01-04T00:00:00Z"
[[override]]
team = "t"
role = "primary"
person = "b"
from = "2025-12-31T00:00:00Z"
until = "2026-01-02T12:00:00Z"
"#;
    let s = Schedule::new(liveops_config::parse_oncall("c.toml", text).unwrap());
    let got: Vec<String> = check(&s, ts("2026-01-01T00:00:00Z"), 1)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        [
            "double role: a is both primary and secondary of t from 2026-01-02T12:00:00Z until 2026-01-03T00:00:00Z",
            "double role: a is both primary and secondary of t from 2026-01-04T00:00:00Z until 2026-01-05T00:00:00Z",
            "double role: a is both primary and secondary of t from 2026-01-06T00:00:00Z until 2026-01-07T00:00:00Z",
            "gap: quiet has no primary from 2026-01-01T00:00:00Z until 2026-01-03T00:00:00Z",
            "gap: quiet has no primary from 2026-01-04T00:00:00Z until 2026-01-08T00:00:00Z",
            "no contact: b has no pagerduty, email, slack or discord to be paged at",
            "stray override: override #1 (a as quiet primary) is outside any rotation: quiet has no primary rotation",
            "stray override: override #2 (b as t primary) is outside its rotation: it starts at 2025-12-31T00:00:00Z but rotation `p` begins at 2026-01-02T00:00:00Z",
        ]
    );
}

#[test]
fn the_shipped_schedule_has_no_problems() {
    let cfg = liveops_config::parse_oncall("oncall.toml", liveops_config::DEFAULT_ONCALL_TOML);
    let s = Schedule::new(cfg.unwrap());
    // Across the launch weekend, the holidays and New Year's Eve.
    let problems = check(&s, ts("2026-12-01T00:00:00Z"), 6);
    assert!(problems.is_empty(), "{problems:#?}");
    let who = s.who(ts("2026-12-12T12:00:00Z"), Some("engineering"));
    let names: Vec<&str> = who.iter().map(|o| o.person.as_str()).collect();
    assert_eq!(
        names,
        ["alice", "erin", "bob"],
        "two primaries, then the secondary"
    );
    assert_eq!(
        s.person("alice").and_then(|p| p.contact("slack")),
        Some("U0EXAMPLE01")
    );
}

#[test]
fn ical_uids_are_stable_across_exports() {
    let s = schedule("UTC", "09:00", "1w", "2026-01-05", OVERRIDES);
    let uids = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("UID:"))
            .map(str::to_owned)
            .collect()
    };
    let a = ical::export(
        &s,
        ts("2026-01-05T09:00:00Z"),
        ts("2026-01-12T09:00:00Z"),
        ts("2026-01-01T00:00:00Z"),
    );
    let b = ical::export(
        &s,
        ts("2026-01-06T00:00:00Z"),
        ts("2026-01-12T09:00:00Z"),
        ts("2026-01-02T00:00:00Z"),
    );
    assert_eq!(uids(&a), uids(&b));
    assert_eq!(uids(&a).len(), 5);
    assert!(
        a.contains(
            "DTSTART:20260107T000000Z\r\nDTEND:20260108T000000Z\r\nSUMMARY:t primary: c\r\n"
        ),
        "{a}"
    );
    assert!(a.contains("DESCRIPTION:override: a is at a conference\r\n"));
    assert!(a.ends_with("END:VCALENDAR\r\n"));
}

#[test]
fn the_json_of_a_piece_is_rfc3339() {
    let s = schedule("UTC", "09:00", "1w", "2026-01-05", OVERRIDES);
    let who = s.who(ts("2026-01-07T12:00:00Z"), None);
    let json = serde_json::to_value(&who).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{
            "team": "t", "role": "primary", "person": "c",
            "from": "2026-01-07T00:00:00Z", "until": "2026-01-08T00:00:00Z",
            "source": {"kind": "override", "reason": "a is at a conference"}
        }])
    );
}

#[test]
fn a_new_override_moves_the_people_it_swaps() {
    let old = schedule("UTC", "09:00", "1w", "2026-01-05", "");
    let new = schedule("UTC", "09:00", "1w", "2026-01-05", OVERRIDES);
    let moved = moved(
        &old,
        &new,
        ts("2026-01-05T09:00:00Z"),
        ts("2026-01-19T09:00:00Z"),
    );
    let people: Vec<(&str, usize, usize)> = moved
        .iter()
        .map(|m| (m.person.as_str(), m.gained.len(), m.lost.len()))
        .collect();
    // a loses the whole week and gains the two pieces around the overrides.
    assert_eq!(people, [("a", 2, 1), ("c", 2, 0), ("d", 1, 0)]);
    assert!(
        crate::moved(
            &new,
            &new,
            ts("2026-01-05T09:00:00Z"),
            ts("2026-01-19T09:00:00Z")
        )
        .is_empty()
    );
}
