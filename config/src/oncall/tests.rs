use super::*;

#[test]
fn the_shipped_schedule_is_valid() {
    let cfg = parse("oncall.toml", crate::DEFAULT_ONCALL_TOML).unwrap();
    let teams: Vec<&str> = cfg.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(teams, ["engineering", "ops", "community"]);
    assert_eq!(cfg.rotations.len(), 6);
    assert_eq!(cfg.overrides.len(), 2);
    assert_eq!(cfg.coverage.len(), 2);
    let alice = cfg.people.iter().find(|p| p.name == "alice").unwrap();
    assert_eq!(alice.zone_name(), "Europe/Berlin");
    assert_eq!(alice.contact("email"), Some("alice@example.com"));
    assert_eq!(alice.contact("discord"), None);
    // A local time in the override's zone: 18:00 in Berlin is 17:00 UTC.
    assert_eq!(
        cfg.overrides[0].from.to_string(),
        "2026-12-24T17:00:00Z",
        "{:?}",
        cfg.overrides[0]
    );
    let CoverageWho::Layer(l) = &cfg.coverage[1].who else {
        panic!("the community coverage is a layer")
    };
    assert_eq!(l.first.to_string(), "2026-12-11T10:00:00");
    assert_eq!(l.shift_minutes, 12 * 60);
}

const BAD: &str = r#"
[team.engineering]

[person.alice]
zone = "Europe/Berlín"
pagerduty = "R0UT1NG KEY"
email = "alice"

[person.bob]
zone = "UTC"

[rotation.eng-primary]
team = "enginering"
role = "primary"
members = []
shift = "1w"
handoff = "25:00"
zone = "UTC"
start = "2026-01-05"

[rotation.eng-secondary]
team = "engineering"
role = "backup"
members = ["bob", "mallory", "bob"]
shift = "10m"
handoff = "09:00"
zone = "Mars/Olympus"
start = "2026-13-01"

[[override]]
team = "engineering"
role = "primary"
person = "bob"
from = "2026-12-24T18:00:00+01:00"
until = "2026-12-24T09:00:00+01:00"

[[override]]
team = "engineering"
role = "primary"
person = "bob"
from = "2026-12-24 18:00"
until = "2026-12-25T09:00:00Z"

[coverage.launch]
team = "engineering"
role = "primary"
from = "2026-12-11T18:00:00Z"
until = "2026-12-14T09:00:00Z"

[[override]]
colour = "red"
"#;

#[test]
fn every_error_at_once_with_its_position() {
    let errors = parse("oncall.toml", BAD).unwrap_err().to_string();
    let want = [
        "oncall.toml:5:8: zone: `Europe/Berlín` is not a time zone of the IANA database; write e.g. \"Europe/Berlin\", \"America/New_York\" or \"UTC\"",
        "oncall.toml:6:13: pagerduty: this value must not contain spaces",
        "oncall.toml:7:9: email: `alice` is not an address (no `@`)",
        "oncall.toml:13:8: unknown team `enginering` (known: engineering)",
        "oncall.toml:15:11: `members` is empty: name at least one person",
        "oncall.toml:17:11: handoff must be a time of day as \"HH:MM\" (00:00 to 23:59), e.g. \"09:00\"",
        "oncall.toml:23:8: unknown role `backup`, expected `primary` or `secondary`",
        "oncall.toml:24:19: unknown person `mallory` (known: alice, bob)",
        "oncall.toml:24:30: `bob` is listed twice in `members`",
        "oncall.toml:25:9: shift: `10m` is not a shift length of whole minutes from 1h to 366d; write e.g. \"1w\", \"1d\", \"12h\"",
        "oncall.toml:27:8: zone: `Mars/Olympus` is not a time zone of the IANA database; write e.g. \"Europe/Berlin\", \"America/New_York\" or \"UTC\"",
        "oncall.toml:28:9: start must be a date as \"YYYY-MM-DD\", e.g. \"2026-01-05\"",
        "oncall.toml:35:9: until (2026-12-24T08:00:00Z) must be after from (2026-12-24T17:00:00Z)",
        "oncall.toml:41:8: from: `2026-12-24 18:00` has no UTC offset; add one (e.g. \"2026-12-24 18:00+01:00\") or set `zone` in this table",
        "oncall.toml:44:1: missing `people` (each on call for the whole window) or `members` with `shift`, `handoff` and `zone` (an extra layer taking turns)",
        "oncall.toml:51:1: unknown field `colour`, expected one of `team`, `role`, `person`, `from`, `until`, `zone`, `reason`",
    ];
    let got: Vec<&str> = errors.lines().collect();
    assert_eq!(got, want, "\n{errors}");
    // A routing key is a secret: never echoed, even when it is wrong.
    assert!(!errors.contains("R0UT1NG"));
}

#[test]
fn a_second_rotation_for_one_team_and_role_is_refused() {
    let text = r#"
[team.ops]
[person.dave]
zone = "UTC"
email = "dave@example.com"
[rotation.a]
team = "ops"
role = "primary"
members = ["dave"]
shift = "1d"
handoff = "08:00"
zone = "UTC"
start = "2026-01-05"
[rotation.b]
team = "ops"
role = "primary"
members = ["dave"]
shift = "1d"
handoff = "08:00"
zone = "UTC"
start = "2026-01-05"
"#;
    let e = parse("s.toml", text).unwrap_err().to_string();
    assert_eq!(
        e,
        "s.toml:16:8: team `ops` already has a primary rotation (`a`): one rotation per team and role; use [[override]] or a [coverage.NAME] window for exceptions"
    );
}

#[test]
fn duplicate_names_and_an_empty_file_are_errors() {
    let dup = "[team.ops]\n[person.dave]\nzone = \"UTC\"\n[person.dave]\nzone = \"UTC\"\n";
    let e = parse("d.toml", dup).unwrap_err().to_string();
    assert!(e.starts_with("d.toml:4:"), "{e}");
    let e = parse("e.toml", "").unwrap_err().to_string();
    assert!(e.starts_with("e.toml:1:1: no teams"), "{e}");
}
