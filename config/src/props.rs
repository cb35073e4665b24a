//! Property tests of every file parser an operator's edit reaches: the
//! agent, collector, flag and mitigations files.
//!
//! - Arbitrary text, and arbitrary TOML documents built from the real
//!   section names, keys and plausible values (so they get past the TOML
//!   parser into the validators), never panic, and every error names the
//!   file and either a position inside the text or the whole file.
//! - Documents built from known-good blocks are accepted and read back as
//!   what was written.
//! - A known-good document with one bad value has an error on that value's
//!   line: an operator is sent to the right place.

use std::fmt::Write as _;
use std::time::Duration;

use proptest::prelude::*;

use crate::flags::FlagValue;
use crate::{ConfigErrors, DEFAULT_FLAGS_TOML};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Every diagnostic names the file; a position is a line of the text and a
/// column at most one past that line's last character.
fn check_positions(file: &str, text: &str, e: &ConfigErrors) -> Result<(), TestCaseError> {
    prop_assert!(!e.0.is_empty(), "an error without a diagnostic");
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &e.0 {
        prop_assert_eq!(&d.file, file);
        prop_assert!(!d.message.trim().is_empty(), "{:?}", d);
        if let Some((line, col)) = d.position {
            prop_assert!(line >= 1 && line <= lines.len(), "{} outside the text", d);
            let width = lines[line - 1].chars().count();
            prop_assert!(
                col >= 1 && col <= width + 1,
                "{} past column {}",
                d,
                width + 1
            );
        }
    }
    Ok(())
}

fn catalogue() -> crate::flags::FlagSet {
    crate::flags::parse("flags.toml", DEFAULT_FLAGS_TOML).unwrap()
}

/// Runs every parser over `text` and checks their errors.
fn parse_all(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = crate::parse_agent("agent.toml", text) {
        check_positions("agent.toml", text, &e)?;
    }
    if let Err(e) = crate::parse_collector("collector.toml", text) {
        check_positions("collector.toml", text, &e)?;
    }
    let (_, flag_errors) = crate::flags::parse_partial("flags.toml", text);
    if let Some(e) = &flag_errors {
        check_positions("flags.toml", text, e)?;
    }
    prop_assert_eq!(
        crate::flags::parse("flags.toml", text).is_ok(),
        flag_errors.is_none()
    );
    if let Err(e) = crate::parse_mitigations("mitigations.toml", text, &catalogue()) {
        check_positions("mitigations.toml", text, &e)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- arbitrary

const TABLES: &[&str] = &[
    "agent",
    "health",
    "ingest",
    "spool",
    "flags",
    "collector",
    "alerting",
    "alerting.acute",
    "slo.uptime",
    "slo.tick_latency",
    "slo.\"bad name!\"",
    "flag.\"combat.attacks\"",
    "flag.\"x\"",
    "flag.\"\"",
    "mitigation.\"freeze-attacks\"",
    "mitigation.\"m\"",
    "zzz",
];

const ARRAYS: &[&str] = &[
    "token",
    "notifier",
    "alerting.burn_rate",
    "flag.\"x\".rule",
    "flag.\"combat.attacks\".rule",
];

const KEYS: &[&str] = &[
    // agent
    "world",
    "collector",
    "token_file",
    "game",
    "statsd_udp",
    "statsd_unix",
    "http",
    "data_dir",
    "report_interval",
    "probe_interval",
    "probe_timeout",
    "failures_before_down",
    "stall_factor",
    "stall_min",
    "max_series",
    "recv_buffer_bytes",
    "max_reports",
    "max_attempts",
    "max_dead_letters",
    "file",
    "poll_interval",
    // collector
    "listen",
    "public_url",
    "no_data_after",
    "evaluation_interval",
    "flags",
    "mitigations",
    "name",
    "role",
    "sha256",
    "min_events",
    "burn_rate",
    "acute",
    "severity",
    "long",
    "short",
    "factor",
    "window",
    "ratio",
    "kind",
    "description",
    "objective",
    "period",
    "owner",
    "runbook",
    "total",
    "good",
    "bad",
    "backlog",
    "metric",
    "tags",
    "threshold_ms",
    "path",
    "url",
    "timeout",
    // flags and mitigations
    "system",
    "default",
    "fail_safe",
    "blast_radius",
    "takes_effect",
    "rollback",
    "enabled",
    "rule",
    "village",
    "account",
    "player",
    "percent",
    "value",
    "expires",
    "reason",
    "default_ttl",
    "zzz",
];

/// TOML values an operator might write, right and wrong, for any key.
const VALUES: &[&str] = &[
    "true",
    "false",
    "0",
    "1",
    "2",
    "-1",
    "100",
    "99.9",
    "100.0",
    "0.5",
    "1.5",
    "250",
    "1e400",
    "-0.0",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "\"\"",
    "\" \"",
    "\"1s\"",
    "\"0s\"",
    "\"800ms\"",
    "\"3m\"",
    "\"30d\"",
    "\"often\"",
    "\"18446744073709551615s\"",
    "\"127.0.0.1:8125\"",
    "\"[::1]:0\"",
    "\"nowhere\"",
    "\"http://127.0.0.1:9470\"",
    "\"https://x/\"",
    "\"http://\"",
    "\"ftp://x\"",
    "\"/runbooks/x\"",
    "\"w1\"",
    "\"bad name\"",
    "\"kill_switch\"",
    "\"release\"",
    "\"ops\"",
    "\"uptime\"",
    "\"ratio\"",
    "\"latency\"",
    "\"page\"",
    "\"ticket\"",
    "\"agent\"",
    "\"admin\"",
    "\"stdout\"",
    "\"file\"",
    "\"webhook\"",
    "\"gameplay\"",
    "\"2026-12-01T18:00:00Z\"",
    "\"yesterday\"",
    "\"é\u{1F600}\"",
    "\"a\\nb\"",
    "\"0000000000000000000000000000000000000000000000000000000000000000\"",
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "[]",
    "[1, 2]",
    "[\"w1\", \"w2\"]",
    "[[]]",
    "{}",
    "{ metric = \"request\" }",
    "{ metric = \"request\", tags = { status = \"error\" } }",
    "{ metric = 1 }",
    "{ window = \"6s\", min_events = 8 }",
    "{ window = \"0s\", ratio = 2 }",
    "{ threshold = 50, window = \"20s\" }",
    "{ threshold = nan }",
    "{ \"combat.attacks\" = false }",
    "{ \"combat.attacks\" = 1 }",
    "{ \"nope\" = true }",
    "{ a = { b = [] } }",
];

fn table_text() -> impl Strategy<Value = (bool, &'static str, Vec<(&'static str, &'static str)>)> {
    let header = prop_oneof![
        3 => prop::sample::select(TABLES).prop_map(|t| (false, t)),
        1 => prop::sample::select(ARRAYS).prop_map(|t| (true, t)),
    ];
    let entries = prop::collection::btree_map(
        prop::sample::select(KEYS),
        prop::sample::select(VALUES),
        0..7,
    )
    .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    (header, entries).prop_map(|((array, name), entries)| (array, name, entries))
}

/// A TOML document of the real sections and keys with values drawn from
/// [`VALUES`]; a table header appears at most once, so most documents are
/// valid TOML and reach the validators.
fn toml_doc() -> impl Strategy<Value = String> {
    prop::collection::vec(table_text(), 0..8).prop_map(|tables| {
        let mut seen = std::collections::HashSet::new();
        let mut text = String::new();
        for (array, name, entries) in tables {
            if array {
                let _ = writeln!(text, "[[{name}]]");
            } else if seen.insert(name) {
                let _ = writeln!(text, "[{name}]");
            } else {
                continue;
            }
            for (k, v) in entries {
                let _ = writeln!(text, "{k} = {v}");
            }
        }
        text
    })
}

/// Text with TOML's punctuation, to reach the syntax errors and their spans.
fn near_toml() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,120}",
        "([\\[\\]{}=\",.#'\n a-z0-9\"\\\\]|\u{e9}|\u{1F600}){0,120}",
        "(\\[{1,2}[a-z.\"]{0,12}\\]{0,2}\n([a-z_]{1,8} ?= ?(\"[^\"\n]{0,6}\"?|[0-9.e+-]{1,6}|\\[|\\{|true)\r?\n){0,4}){0,4}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics_and_errors_are_positioned(text in near_toml()) {
        parse_all(&text)?;
    }

    #[test]
    fn arbitrary_documents_of_real_keys_never_panic_and_errors_are_positioned(
        text in toml_doc(),
    ) {
        parse_all(&text)?;
    }
}

// ------------------------------------------------------------- known-good

/// A positive duration as written and as read.
fn duration() -> impl Strategy<Value = (String, Duration)> {
    (
        1u64..10_000,
        prop::sample::select(vec!["ms", "s", "m", "h"]),
    )
        .prop_map(|(n, unit)| {
            let d = match unit {
                "ms" => Duration::from_millis(n),
                "s" => Duration::from_secs(n),
                "m" => Duration::from_secs(n * 60),
                _ => Duration::from_secs(n * 3600),
            };
            (format!("{n}{unit}"), d)
        })
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{0,15}"
}

/// An http(s) URL as written, and as stored (no trailing slash).
fn url() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(vec!["http", "https"]),
        "[a-z][a-z0-9.-]{0,12}(:[0-9]{1,5})?",
        "(/[a-z0-9]{1,6}){0,2}",
        any::<bool>(),
    )
        .prop_map(|(scheme, host, path, slash)| {
            let stored = format!("{scheme}://{host}{path}");
            let written = if slash {
                format!("{stored}/")
            } else {
                stored.clone()
            };
            (written, stored)
        })
}

fn addr() -> impl Strategy<Value = std::net::SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| (ip, port).into()),
        (any::<[u16; 8]>(), any::<u16>()).prop_map(|(ip, port)| (
            std::net::Ipv6Addr::from(ip),
            port
        )
            .into()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    "/?[a-z0-9_.-]{1,8}(/[a-z0-9_.-]{1,8}){0,2}"
}

/// The change a `key = value` line makes to the defaults.
type Pick = Box<dyn Fn(&mut crate::AgentConfig)>;

/// An agent file of known-good values, and the config it must give.
#[derive(Clone, Debug)]
struct AgentDoc {
    text: String,
    want: String,
    /// Line (1-based) of each `key = value` and of its section's header,
    /// for the bad-value property.
    key_lines: Vec<(usize, &'static str, usize)>,
}

fn agent_doc() -> impl Strategy<Value = AgentDoc> {
    use prop::option::of;
    let agent = (
        of(name()),
        of(url()),
        of(url()),
        of(prop_oneof![Just(None), addr().prop_map(Some)]),
        of(addr()),
        of(path()),
        of(path()),
        of(duration()),
    );
    let health = of((
        (1u64..5000, 0u64..5000),
        of(1u32..100),
        of(1.0..1e6f64),
        of(duration()),
    ));
    let counts = (
        of(1usize..1_000_000),
        of(0usize..1 << 40),
        of(1u64..1 << 40),
        of(1u32..1000),
        of(1u64..1 << 40),
    );
    let flags = (of(path()), of(duration()));
    (agent, health, counts, flags).prop_map(|(a, h, c, f)| {
        let mut sections: Vec<(&str, Vec<(&'static str, String, Pick)>)> = Vec::new();
        let mut agent: Vec<(&'static str, String, Pick)> = Vec::new();
        let (world, collector, game, udp, http, data_dir, token_file, interval) = a;
        if let Some(w) = world {
            agent.push((
                "world",
                format!("{w:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.world = w.clone()),
            ));
        }
        if let Some((written, stored)) = collector {
            agent.push((
                "collector",
                format!("{written:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.collector = stored.clone()),
            ));
        }
        if let Some((written, stored)) = game {
            agent.push((
                "game",
                format!("{written:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.game = Some(stored.clone())),
            ));
        }
        if let Some(udp) = udp {
            let text = udp.map(|a| a.to_string()).unwrap_or_default();
            agent.push((
                "statsd_udp",
                format!("{text:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.statsd_udp = udp),
            ));
        }
        if let Some(a) = http {
            agent.push((
                "http",
                format!("\"{a}\""),
                Box::new(move |c: &mut crate::AgentConfig| c.http = a),
            ));
        }
        if let Some(p) = data_dir {
            agent.push((
                "data_dir",
                format!("{p:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.data_dir = p.clone().into()),
            ));
        }
        if let Some(p) = token_file {
            agent.push((
                "token_file",
                format!("{p:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.token_file = Some(p.clone().into())),
            ));
        }
        if let Some((t, d)) = interval {
            agent.push((
                "report_interval",
                format!("{t:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.report_interval = d),
            ));
        }
        sections.push(("agent", agent));

        let mut health: Vec<(&'static str, String, Pick)> = Vec::new();
        if let Some(((interval, timeout), failures, factor, stall_min)) = h {
            // probe_timeout may not exceed probe_interval: written together.
            let (i, t) = (
                Duration::from_millis(interval.max(timeout).max(1)),
                Duration::from_millis(timeout.min(interval).max(1)),
            );
            health.push((
                "probe_interval",
                format!("\"{}ms\"", i.as_millis()),
                Box::new(move |c: &mut crate::AgentConfig| c.health.probe_interval = i),
            ));
            health.push((
                "probe_timeout",
                format!("\"{}ms\"", t.as_millis()),
                Box::new(move |c: &mut crate::AgentConfig| c.health.probe_timeout = t),
            ));
            if let Some(n) = failures {
                health.push((
                    "failures_before_down",
                    n.to_string(),
                    Box::new(move |c: &mut crate::AgentConfig| c.health.failures_before_down = n),
                ));
            }
            if let Some(x) = factor {
                health.push((
                    "stall_factor",
                    format!("{x:?}"),
                    Box::new(move |c: &mut crate::AgentConfig| c.health.stall_factor = x),
                ));
            }
            if let Some((t, d)) = stall_min {
                health.push((
                    "stall_min",
                    format!("{t:?}"),
                    Box::new(move |c: &mut crate::AgentConfig| c.health.stall_min = d),
                ));
            }
        }
        sections.push(("health", health));

        let (series, rcvbuf, reports, attempts, dead) = c;
        let mut ingest: Vec<(&'static str, String, Pick)> = Vec::new();
        if let Some(n) = series {
            ingest.push((
                "max_series",
                n.to_string(),
                Box::new(move |c: &mut crate::AgentConfig| c.ingest.max_series = n),
            ));
        }
        if let Some(n) = rcvbuf {
            ingest.push((
                "recv_buffer_bytes",
                n.to_string(),
                Box::new(move |c: &mut crate::AgentConfig| c.ingest.recv_buffer_bytes = n),
            ));
        }
        sections.push(("ingest", ingest));
        let mut spool: Vec<(&'static str, String, Pick)> = Vec::new();
        if let Some(n) = reports {
            spool.push((
                "max_reports",
                n.to_string(),
                Box::new(move |c: &mut crate::AgentConfig| c.spool.max_reports = n),
            ));
        }
        if let Some(n) = attempts {
            spool.push((
                "max_attempts",
                n.to_string(),
                Box::new(move |c: &mut crate::AgentConfig| c.spool.max_attempts = n),
            ));
        }
        if let Some(n) = dead {
            spool.push((
                "max_dead_letters",
                n.to_string(),
                Box::new(move |c: &mut crate::AgentConfig| c.spool.max_dead_letters = n),
            ));
        }
        sections.push(("spool", spool));
        let (file, poll) = f;
        let mut flags: Vec<(&'static str, String, Pick)> = Vec::new();
        if let Some(p) = file {
            flags.push((
                "file",
                format!("{p:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.flags.file = Some(p.clone().into())),
            ));
        }
        if let Some((t, d)) = poll {
            flags.push((
                "poll_interval",
                format!("{t:?}"),
                Box::new(move |c: &mut crate::AgentConfig| c.flags.poll_interval = d),
            ));
        }
        sections.push(("flags", flags));

        let mut want = crate::default_agent();
        let (mut text, mut key_lines, mut line) = (String::new(), Vec::new(), 1);
        for (section, keys) in sections {
            if keys.is_empty() {
                continue;
            }
            let _ = writeln!(text, "[{section}]");
            let header = line;
            line += 1;
            for (key, value, apply) in keys {
                let _ = writeln!(text, "{key} = {value}");
                key_lines.push((line, key, header));
                line += 1;
                apply(&mut want);
            }
        }
        AgentDoc {
            text,
            want: format!("{want:?}"),
            key_lines,
        }
    })
}

/// What an operator gets wrong in one value, for a key of each sort.
fn bad_value(key: &str) -> &'static str {
    match key {
        "world" => "\"no spaces\"",
        "collector" | "game" => "\"ftp://x\"",
        "statsd_udp" | "http" => "\"nowhere\"",
        "report_interval" | "probe_interval" | "probe_timeout" | "stall_min" | "poll_interval" => {
            "\"often\""
        }
        "stall_factor" => "0.5",
        "failures_before_down"
        | "max_series"
        | "max_reports"
        | "max_attempts"
        | "max_dead_letters" => "0",
        "recv_buffer_bytes" => "-1",
        "file" => "\" \"",
        _ => "[]",
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_valid_agent_file_is_read_as_written(doc in agent_doc()) {
        let got = crate::parse_agent("agent.toml", &doc.text)
            .map_err(|e| TestCaseError::fail(format!("{}\n{e}", doc.text)))?;
        prop_assert_eq!(format!("{got:?}"), doc.want, "{}", doc.text);
    }

    #[test]
    fn one_bad_agent_value_is_reported_on_its_line(doc in agent_doc(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!doc.key_lines.is_empty());
        let (line, key, header) = doc.key_lines[pick.index(doc.key_lines.len())];
        let text: String = doc.text.lines().enumerate().map(|(i, l)| {
            if i + 1 == line { format!("{key} = {}\n", bad_value(key)) } else { format!("{l}\n") }
        }).collect();
        let err = match crate::parse_agent("agent.toml", &text) {
            Err(e) => e,
            Ok(_) => return Err(TestCaseError::fail(format!("accepted:\n{text}"))),
        };
        check_positions("agent.toml", &text, &err)?;
        // A bad probe interval or timeout falls back to its default, which
        // may then break the pair's rule: that error is the section's.
        let at = |d: &crate::Diagnostic| {
            let l = d.position.map(|p| p.0);
            l == Some(line) || (key.starts_with("probe_") && l == Some(header))
        };
        prop_assert!(
            err.0.iter().all(at),
            "{key} on line {line}:\n{text}\n{err}"
        );
    }
}

/// A flag value and its TOML spelling, of a given type (0 bool, 1 integer,
/// 2 float, 3 string, 4 table): a flag's default, fail-safe and rule values
/// share one type.
fn flag_value(ty: u8) -> BoxedStrategy<(String, FlagValue)> {
    match ty {
        0 => any::<bool>()
            .prop_map(|b| (b.to_string(), FlagValue::Bool(b)))
            .boxed(),
        1 => any::<i64>()
            .prop_map(|i| (i.to_string(), FlagValue::Integer(i)))
            .boxed(),
        // Debug always writes a `.` or an exponent, so TOML reads a float.
        2 => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| (format!("{f:?}"), FlagValue::Float(f)))
            .boxed(),
        3 => "[a-zA-Z0-9 _.:/-]{0,16}"
            .prop_map(|s| (format!("\"{s}\""), FlagValue::String(s)))
            .boxed(),
        _ => prop::collection::btree_map(
            "[a-z][a-z_]{0,6}",
            prop_oneof![flag_value(0), flag_value(1), flag_value(3)],
            0..4,
        )
        .prop_map(|m| {
            let items: Vec<String> = m.iter().map(|(k, (t, _))| format!("{k} = {t}")).collect();
            let value = m.into_iter().map(|(k, (_, v))| (k, v)).collect();
            (
                format!("{{ {} }}", items.join(", ")),
                FlagValue::Object(value),
            )
        })
        .boxed(),
    }
}

fn words() -> impl Strategy<Value = String> {
    "[A-Za-z]([A-Za-z ,.'-]{0,24}[A-Za-z.])?"
}

#[derive(Clone, Debug)]
struct GenFlag {
    key: String,
    kind: crate::flags::FlagKind,
    default: FlagValue,
    fail_safe: FlagValue,
    enabled: bool,
    rule_values: Vec<FlagValue>,
}

/// A flag file of known-good flags (rules on distinct worlds, so they
/// cannot conflict), and the flags it must give.
fn flag_doc() -> impl Strategy<Value = (String, Vec<GenFlag>)> {
    use crate::flags::FlagKind;
    let flag = (
        prop::sample::select(vec![FlagKind::KillSwitch, FlagKind::Release, FlagKind::Ops]),
        0u8..5,
        words(),
        words(),
        prop::option::of(any::<bool>()),
        prop::option::of(0u8..=100),
    )
        .prop_flat_map(|(kind, ty, description, owner, enabled, percent)| {
            (
                Just((kind, description, owner, enabled, percent)),
                flag_value(ty),
                prop::option::of(flag_value(ty)),
                prop::collection::vec(flag_value(ty), 0..3),
            )
        });
    prop::collection::btree_map("[a-z]{1,8}(\\.[a-z_]{1,8}){0,2}", flag, 0..6).prop_map(|flags| {
        let mut text = String::from("# generated\n");
        let mut want = Vec::new();
        for (key, ((kind, description, owner, enabled, percent), default, fail_safe, rules)) in
            flags
        {
            let _ = writeln!(text, "[flag.\"{key}\"]\nkind = \"{}\"", kind.as_str());
            let _ = writeln!(text, "description = \"{description}\"\nowner = \"{owner}\"");
            let _ = writeln!(
                text,
                "blast_radius = \"{description}\"\nrollback = \"Flip back.\""
            );
            let _ = writeln!(text, "default = {}", default.0);
            if let Some((t, _)) = &fail_safe {
                let _ = writeln!(text, "fail_safe = {t}");
            }
            if let Some(e) = enabled {
                let _ = writeln!(text, "enabled = {e}");
            }
            for (i, (t, _)) in rules.iter().enumerate() {
                let _ = writeln!(
                    text,
                    "[[flag.\"{key}\".rule]]\nworld = \"w{i}\"\nvalue = {t}"
                );
                if let Some(p) = percent {
                    let _ = writeln!(text, "percent = {p}");
                }
            }
            want.push(GenFlag {
                key,
                kind,
                fail_safe: fail_safe.map_or_else(|| default.1.clone(), |f| f.1),
                default: default.1,
                enabled: enabled.unwrap_or(true),
                rule_values: rules.into_iter().map(|r| r.1).collect(),
            });
        }
        (text, want)
    })
}

/// A mitigations file of bundles over the shipped flag catalogue, each
/// value of its flag's type, and the bundles it must give.
fn mitigations_doc() -> impl Strategy<Value = (String, Vec<(String, Vec<(String, FlagValue)>)>)> {
    let flags: Vec<(String, u8)> = catalogue()
        .flags
        .iter()
        .map(|f| {
            let ty = match f.default {
                FlagValue::Bool(_) => 0,
                FlagValue::Integer(_) => 1,
                FlagValue::Float(_) => 2,
                FlagValue::String(_) => 3,
                FlagValue::Object(_) => 4,
            };
            (f.key.clone(), ty)
        })
        .collect();
    let bundle = (
        prop::sample::subsequence(flags.clone(), 1..=flags.len().min(4)),
        words(),
        prop_oneof![Just("/runbooks/x".to_owned()), url().prop_map(|u| u.0)],
        prop::option::of(duration()),
    )
        .prop_flat_map(|(keys, description, runbook, ttl)| {
            let values: Vec<_> = keys
                .into_iter()
                .map(|(k, ty)| (Just(k), flag_value(ty)))
                .collect();
            (Just((description, runbook, ttl)), values)
        });
    prop::collection::btree_map(name(), bundle, 1..4).prop_map(|bundles| {
        let mut text = String::new();
        let mut want = Vec::new();
        for (name, ((description, runbook, ttl), values)) in bundles {
            let items: Vec<String> = values.iter().map(|(k, (t, _))| format!("\"{k}\" = {t}")).collect();
            let _ = writeln!(
                text,
                "[mitigation.\"{name}\"]\ndescription = \"{description}\"\nrunbook = \"{runbook}\"\nflags = {{ {} }}",
                items.join(", ")
            );
            if let Some((t, _)) = ttl {
                let _ = writeln!(text, "default_ttl = \"{t}\"");
            }
            let mut flags: Vec<(String, FlagValue)> = values.into_iter().map(|(k, (_, v))| (k, v)).collect();
            flags.sort_by(|a, b| a.0.cmp(&b.0));
            want.push((name, flags));
        }
        (text, want)
    })
}

/// A collector file of known-good SLOs, tokens and notifiers, and the SLO
/// names and token and notifier counts it must give.
fn collector_doc() -> impl Strategy<Value = (String, Vec<String>, usize, usize)> {
    let bounds = liveops_protocol::histogram::BUCKET_BOUNDS_MS.to_vec();
    let slo = (
        0u8..3,
        1u32..99_999,
        prop::sample::select(bounds),
        any::<bool>(),
        words(),
        prop::option::of(duration()),
    );
    let token = (
        name(),
        prop::sample::select(vec!["agent", "viewer", "responder", "admin"]),
        "[0-9a-f]{64}",
    );
    let notifier = prop_oneof![
        Just("kind = \"stdout\"".to_owned()),
        path().prop_map(|p| format!("kind = \"file\"\npath = \"{p}\"")),
        (url(), duration()).prop_map(|(u, t)| format!(
            "kind = \"webhook\"\nurl = \"{}\"\ntimeout = \"{}\"",
            u.0, t.0
        )),
    ];
    (
        prop::collection::btree_map(name(), slo, 1..5),
        prop::collection::vec(token, 0..3),
        prop::collection::vec(notifier, 0..3),
        prop::option::of((addr(), duration(), duration())),
    )
        .prop_map(|(slos, tokens, notifiers, collector)| {
            let mut text = String::new();
            if let Some((listen, no_data, eval)) = collector {
                let _ = writeln!(text, "[collector]\nlisten = \"{listen}\"\nno_data_after = \"{}\"\nevaluation_interval = \"{}\"", no_data.0, eval.0);
            }
            for (name, role, sha) in &tokens {
                let _ = writeln!(text, "[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{sha}\"");
            }
            for n in &notifiers {
                let _ = writeln!(text, "[[notifier]]\n{n}");
            }
            for (name, (kind, objective, threshold, acute, owner, period)) in &slos {
                let objective = f64::from(*objective) / 1000.0;
                let _ = writeln!(text, "[slo.\"{name}\"]\nobjective = {objective:?}\nowner = \"{owner}\"\nrunbook = \"/runbooks/{name}\"");
                if let Some((p, _)) = period {
                    let _ = writeln!(text, "period = \"{p}\"");
                }
                match *kind {
                    0 => {
                        let _ = writeln!(text, "kind = \"uptime\"");
                    }
                    1 => {
                        let _ = writeln!(text, "kind = \"ratio\"\ntotal = {{ metric = \"request\" }}\nbad = {{ metric = \"request\", tags = {{ status = \"error\" }} }}\nacute = {acute}");
                    }
                    _ => {
                        let _ = writeln!(text, "kind = \"latency\"\nmetric = \"tick.duration\"\nthreshold_ms = {threshold:?}\nacute = {acute}");
                    }
                }
            }
            (text, slos.into_keys().collect(), tokens.len(), notifiers.len())
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_valid_flag_file_is_accepted_and_its_values_round_trip(doc in flag_doc()) {
        let (text, want) = doc;
        let set = crate::flags::parse("flags.toml", &text)
            .map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        prop_assert_eq!(set.flags.len(), want.len());
        for (got, want) in set.flags.iter().zip(&want) {
            prop_assert_eq!(&got.key, &want.key);
            prop_assert_eq!(got.kind, want.kind);
            prop_assert_eq!(&got.default, &want.default);
            prop_assert_eq!(&got.fail_safe, &want.fail_safe);
            prop_assert_eq!(got.enabled, want.enabled);
            let rules: Vec<&FlagValue> = got.rules.iter().map(|r| &r.value).collect();
            prop_assert_eq!(rules, want.rule_values.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_valid_mitigations_file_is_accepted_as_written(doc in mitigations_doc()) {
        let (text, want) = doc;
        let got = crate::parse_mitigations("mitigations.toml", &text, &catalogue())
            .map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        let got: Vec<(String, Vec<(String, FlagValue)>)> = got
            .bundles
            .into_iter()
            .map(|b| (b.name, b.flags.into_iter().collect()))
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn every_valid_collector_file_is_accepted(doc in collector_doc()) {
        let (text, slos, tokens, notifiers) = doc;
        let cfg = crate::parse_collector("collector.toml", &text)
            .map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        prop_assert_eq!(cfg.slos.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), slos);
        prop_assert_eq!(cfg.tokens.len(), tokens);
        prop_assert_eq!(cfg.notifiers.len(), notifiers);
    }
}
