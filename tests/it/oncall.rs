//! The on-call schedule as operators use it: `liveops oncall who`, `export
//! --ical` read back by Python's `icalendar`, `oncall check`, a bad
//! schedule refused by `check-config` and by the collector, and the
//! collector's `/oncall` page in a real headless browser (`browser.rs`),
//! and hot reload of the schedule in a running collector (`reload.rs`).

mod browser;
mod reload;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{liveops_bin, workspace};

pub fn shipped() -> PathBuf {
    workspace().join("config/oncall.toml")
}

fn liveops(args: &[&str]) -> Output {
    Command::new(liveops_bin())
        .args(args)
        .env_remove("LIVEOPS_ONCALL")
        .output()
        .expect("running liveops")
}

/// `oncall who --json` at `at`, as `(team, role, person, from, until)`.
pub fn who(schedule: &Path, at: &str) -> BTreeSet<(String, String, String, String, String)> {
    let out = liveops(&[
        "oncall",
        "who",
        "--json",
        "--at",
        at,
        "--schedule",
        &schedule.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "oncall who: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("who --json is JSON");
    let s = |r: &Value, k: &str| {
        r[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {r}"))
            .to_owned()
    };
    rows.iter()
        .map(|r| {
            (
                s(r, "team"),
                s(r, "role"),
                s(r, "person"),
                s(r, "from"),
                s(r, "until"),
            )
        })
        .collect()
}

/// A Python that can import `icalendar` (the workspace's `.venv`, topped
/// up from `tests/python-requirements.txt`, or `$LIVEOPS_PYTHON`).
fn python() -> PathBuf {
    crate::ofrep_python::python("icalendar")
}

#[test]
fn every_exported_event_is_what_oncall_who_says() {
    let dir = tempfile::tempdir().unwrap();
    let ics = dir.path().join("oncall.ics");
    let schedule = shipped();
    // Four weeks over the launch weekend, the holidays and New Year's Eve.
    let out = liveops(&[
        "oncall",
        "export",
        "--ical",
        "--weeks",
        "4",
        "--from",
        "2026-12-07T00:00:00Z",
        "--schedule",
        &schedule.display().to_string(),
        "--out",
        &ics.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = std::fs::read(&ics).unwrap();
    let text = String::from_utf8(raw).expect("UTF-8");
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
        assert!(!line.contains('\n'), "a bare LF in {line:?}");
    }

    let parsed = Command::new(python())
        .arg(workspace().join("tests/it/oncall/ical_events.py"))
        .arg(&ics)
        .output()
        .expect("running python");
    assert!(
        parsed.status.success(),
        "icalendar: {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let cal: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(cal["version"], "2.0");
    let events = cal["events"].as_array().unwrap();
    assert!(events.len() > 100, "{} events", events.len());

    // Many events share their bounds (a team's primary and secondary hand
    // off together): ask `who` once per instant.
    let mut asked = std::collections::HashMap::new();
    let mut who_at = |at: &str| {
        asked
            .entry(at.to_owned())
            .or_insert_with(|| who(&schedule, at))
            .clone()
    };
    let mut uids = BTreeSet::new();
    let mut starts = BTreeSet::new();
    let mut all = BTreeSet::new();
    for e in events {
        let field = |k: &str| e[k].as_str().unwrap().to_owned();
        assert!(uids.insert(field("uid")), "UID twice: {e}");
        let summary = field("summary");
        let (team_role, person) = summary
            .split_once(": ")
            .expect("SUMMARY is `team role: person`");
        let (team, role) = team_role.split_once(' ').expect("team and role");
        let row = (
            team.to_owned(),
            role.to_owned(),
            person.to_owned(),
            field("start"),
            field("end"),
        );
        for at in [field("start"), field("last_second")] {
            let now = who_at(&at);
            assert!(
                now.contains(&row),
                "event {row:?} is not what `oncall who --at {at}` says: {now:?}"
            );
        }
        starts.insert(field("start"));
        all.insert(row);
    }
    // And the other way: whoever `who` names at an event's start is an event.
    for at in starts
        .iter()
        .filter(|s| s.as_str() >= "2026-12-07T00:00:00Z")
    {
        for row in who_at(at) {
            assert!(
                all.contains(&row),
                "`oncall who --at {at}` names {row:?}, which the calendar lacks"
            );
        }
    }
    // The final schedule: the override and both coverage windows are in it.
    let has = |s: &str| events.iter().any(|e| e["summary"] == s);
    assert!(has("engineering primary: erin"), "launch coverage");
    assert!(has("community primary: kim"), "community launch layer");
    assert!(
        events
            .iter()
            .any(|e| e["summary"] == "engineering primary: bob"
                && e["start"] == "2026-12-24T17:00:00Z"
                && e["end"] == "2026-12-27T08:00:00Z"),
        "the holiday override"
    );
}

const PROBLEMS: &str = r#"
[team.engineering]
[team.ops]
[person.alice]
zone = "Europe/Berlin"
email = "alice@example.com"
[person.nobody]
zone = "UTC"
[rotation.eng-primary]
team = "engineering"
role = "primary"
members = ["alice", "nobody"]
shift = "1w"
handoff = "09:00"
zone = "Europe/Berlin"
start = "2026-01-05"
[rotation.eng-secondary]
team = "engineering"
role = "secondary"
members = ["alice"]
shift = "1w"
handoff = "09:00"
zone = "Europe/Berlin"
start = "2026-01-05"
[[override]]
team = "ops"
role = "primary"
person = "alice"
from = "2026-01-06T00:00:00Z"
until = "2026-01-07T00:00:00Z"
"#;

#[test]
fn oncall_check_lists_every_problem_and_passes_the_shipped_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("oncall.toml");
    std::fs::write(&file, PROBLEMS).unwrap();
    let f = file.display().to_string();
    let out = liveops(&[
        "oncall",
        "check",
        "--schedule",
        &f,
        "--from",
        "2026-01-05T08:00:00Z",
        "--weeks",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "double role: alice is both primary and secondary of engineering from 2026-01-05T08:00:00Z until 2026-01-12T08:00:00Z",
            "gap: ops has no primary from 2026-01-05T08:00:00Z until 2026-01-06T00:00:00Z",
            "gap: ops has no primary from 2026-01-07T00:00:00Z until 2026-01-19T08:00:00Z",
            "no contact: nobody has no pagerduty, email, slack or discord to be paged at",
            "stray override: override #1 (alice as ops primary) is outside any rotation: ops has no primary rotation",
        ],
        "{stdout}"
    );

    let out = liveops(&[
        "oncall",
        "check",
        "--schedule",
        &shipped().display().to_string(),
        "--weeks",
        "8",
    ]);
    assert!(
        out.status.success(),
        "the shipped schedule: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

const BAD: &str = r#"[team.engineering]

[person.alice]
zone = "Europe/Paris"
email = "alice@example.com"

[rotation.eng-primary]
team = "enginering"
role = "primary"
members = ["alice"]
shift = "1w"
handoff = "9am"
zone = "Europe/Pariss"
start = "2026-01-05"

[[override]]
team = "engineering"
role = "primary"
person = "alice"
from = "2026-12-24T18:00:00+01:00"
until = "2026-12-24T18:00:00+01:00"
"#;

#[tokio::test]
async fn a_bad_schedule_is_refused_by_check_config_and_by_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("oncall.toml");
    std::fs::write(&file, BAD).unwrap();
    let f = file.display().to_string();
    let want = [
        format!("{f}:8:8: unknown team `enginering` (known: engineering)"),
        format!(
            "{f}:12:11: handoff must be a time of day as \"HH:MM\" (00:00 to 23:59), e.g. \"09:00\""
        ),
        format!(
            "{f}:13:8: zone: `Europe/Pariss` is not a time zone of the IANA database; write e.g. \"Europe/Berlin\", \"America/New_York\" or \"UTC\""
        ),
        format!("{f}:21:9: until (2026-12-24T17:00:00Z) must be after from (2026-12-24T17:00:00Z)"),
    ];

    let out = liveops(&["check-config", &f]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().collect::<Vec<_>>(), want, "{stderr}");

    // The collector reads it through `[collector] oncall`, relative to its file.
    let collector = liveops_config::DEFAULT_COLLECTOR_TOML.replacen(
        "[collector]\n",
        "[collector]\noncall = \"oncall.toml\"\n",
        1,
    );
    let cfg = dir.path().join("collector.toml");
    std::fs::write(&cfg, collector).unwrap();
    let bin = crate::support::built(&["liveops-collector"]).join("liveops-collector");
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(&cfg)
        .args(["--listen", "127.0.0.1:0", "--data-dir"]);
    cmd.arg(dir.path().join("data"));
    let out = crate::support::run(cmd, std::time::Duration::from_secs(30), dir.path()).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "the collector must refuse to start"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in &want {
        assert!(
            stderr.contains(line.as_str()),
            "missing `{line}` in:\n{stderr}"
        );
    }
}
