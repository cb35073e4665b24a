//! Arbitrary text and arbitrary documents of the real sections and keys:
//! no panic, and every error positioned inside the text.

use super::*;

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
