use super::*;

#[test]
fn shipped_files_are_valid_and_agent_file_shows_the_defaults() {
    let agent = parse_agent("agent.toml", DEFAULT_AGENT_TOML).unwrap();
    let d = default_agent();
    assert_eq!(agent.collector, d.collector);
    assert_eq!(agent.statsd_udp, d.statsd_udp);
    assert_eq!(agent.http, d.http);
    assert_eq!(agent.report_interval, d.report_interval);
    assert_eq!(agent.health.stall_min, d.health.stall_min);
    assert_eq!(agent.spool.max_reports, d.spool.max_reports);
    let c = default_collector();
    let names: Vec<&str> = c.slos.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "uptime",
            "error_rate",
            "tick_latency",
            "payment_success",
            "auth_latency"
        ]
    );
    assert!(
        c.slos
            .iter()
            .all(|s| !s.owner.is_empty() && !s.runbook.is_empty())
    );
    assert_eq!(c.alerting.burn_rates.len(), 3);
    assert!((c.slos[0].objective - 0.999).abs() < 1e-12);
    // `acute = true` takes [alerting.acute]; a table overrides part of it.
    let acute: Vec<_> = c
        .slos
        .iter()
        .map(|s| s.acute.as_ref().map(|a| (a.window.as_secs(), a.min_events)))
        .collect();
    assert_eq!(
        acute,
        [
            None,
            Some((3, 20.0)),
            Some((5, 10.0)),
            Some((3, 20.0)),
            Some((6, 8.0))
        ]
    );
}

fn errors(text: &str) -> String {
    parse_collector("c.toml", text).unwrap_err().to_string()
}

const SLO_OK: &str = r#"
[slo.uptime]
kind = "uptime"
objective = 99.9
owner = "ops"
runbook = "/runbooks/uptime"
"#;

#[test]
fn every_error_is_reported_at_once_with_file_line_col() {
    let text = r#"[collector]
listen = "localhost"
no_data_after = "soon"

[slo.errors]
kind = "ratio"
objective = 99.5
total = { metric = "request" }
bad = { metric = "request", tags = { status = "error" } }

[slo.ticks]
kind = "latency"
objective = 120
owner = "gameplay"
runbook = "/runbooks/ticks"
metric = "tick.duration"
threshold_ms = 240

[slo.typo]
kind = "uptime"
objectiv = 99
"#;
    assert_eq!(
        errors(text),
        "c.toml:2:10: listen: `localhost` is not an address; write IP:PORT, e.g. \"127.0.0.1:8125\"\n\
         c.toml:3:17: no_data_after: `soon` is not a duration (expected number at 0); write e.g. \"500ms\", \"5m\", \"30d\"\n\
         c.toml:5:1: missing `owner`\n\
         c.toml:5:1: missing `runbook`\n\
         c.toml:13:13: objective must be a percentage between 0 and 100 (exclusive), got 120\n\
         c.toml:17:16: threshold_ms 240 is not a histogram bucket bound, so the SLI could not be exact; use one of 1, 2, 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 125, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 5000, 10000, 30000\n\
         c.toml:21:1: unknown field `objectiv`, expected one of `kind`, `description`, `objective`, `period`, `owner`, `runbook`, `total`, `good`, `bad`, `acute`, `backlog`, `metric`, `tags`, `threshold_ms`"
    );
}

#[test]
fn unknown_sections_and_syntax_errors_are_positioned() {
    let e = errors(&format!("{SLO_OK}\n[colector]\nlisten = \"127.0.0.1:1\"\n"));
    assert_eq!(
        e,
        "c.toml:8:2: unknown section `colector`, expected one of `collector`, `token`, `alerting`, `slo`, `notifier`, `http`, `incidents`, `comms`, `chat`"
    );
    let e = errors("[slo.x\nkind = 1\n");
    assert!(e.starts_with("c.toml:1:"), "{e}");
}

#[test]
fn tokens_notifiers_and_burn_rules_are_checked() {
    let text = format!(
        r#"{SLO_OK}
[[token]]
name = "agents"
role = "superuser"
sha256 = "abc"

[[notifier]]
kind = "webhook"
url = "ftp://x"

[[alerting.burn_rate]]
severity = "page"
long = "5m"
short = "1h"
factor = 14.4
"#
    );
    assert_eq!(
        errors(&text),
        "c.toml:10:8: unknown role `superuser`, expected `agent`, `viewer`, `responder`, `comms` or `admin`\n\
         c.toml:11:10: sha256 must be 64 hex digits: the SHA-256 of the token (`liveops token new` prints it)\n\
         c.toml:15:7: url: `ftp://x` is not an http:// or https:// URL\n\
         c.toml:20:9: the short window must be shorter than the long window"
    );
}

#[test]
fn acute_does_not_apply_to_uptime() {
    let text = SLO_OK.replace(
        "runbook = \"/runbooks/uptime\"",
        "runbook = \"/runbooks/uptime\"\nacute = true",
    );
    assert_eq!(
        errors(&text),
        "c.toml:2:1: `acute` does not apply to an uptime SLO: WorldDown and TickStalled already page at once"
    );
}

#[test]
fn agent_file_overrides_defaults_and_rejects_misspellings() {
    let a = parse_agent("a.toml", "[agent]\nworld = \"w7\"\ngame = \"http://127.0.0.1:8080/\"\n[health]\nstall_min = \"2s\"\n").unwrap();
    assert_eq!(a.world, "w7");
    assert_eq!(a.game.as_deref(), Some("http://127.0.0.1:8080"));
    assert_eq!(a.health.stall_min, std::time::Duration::from_secs(2));
    let e = parse_agent(
        "a.toml",
        "[agent]\nwrold = \"w7\"\n[spool]\nmax_reports = 0\n",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "a.toml:2:1: unknown field `wrold`, expected one of `world`, `collector`, `token_file`, `game`, `statsd_udp`, `statsd_unix`, `http`, `data_dir`, `report_interval`\n\
         a.toml:4:15: max_reports must be at least 1"
    );
}

#[test]
fn check_path_classifies_files_in_a_directory() {
    let dir = std::env::temp_dir().join(format!("liveops-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("agent.toml"), DEFAULT_AGENT_TOML).unwrap();
    std::fs::write(dir.join("collector.toml"), DEFAULT_COLLECTOR_TOML).unwrap();
    std::fs::write(dir.join("other.toml"), "x = 1\n").unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\n").unwrap();
    let checked = check_path(&dir);
    let kinds: Vec<_> = checked
        .iter()
        .map(|c| c.result.as_ref().ok().copied())
        .collect();
    assert_eq!(kinds, [Some(Kind::Agent), Some(Kind::Collector), None]);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn webhook_names(text: &str) -> Vec<String> {
    parse_collector("c.toml", &format!("{SLO_OK}{text}"))
        .unwrap()
        .notifiers
        .iter()
        .map(|n| match n {
            NotifierConfig::Webhook { name, .. } => name.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn webhooks_are_named_by_their_key_or_their_host_made_unique() {
    let hooks = r#"
[[notifier]]
kind = "webhook"
url = "https://hooks.example.com/a"

[[notifier]]
kind = "webhook"
url = "https://user@Hooks.Example.com:8443/b"

[[notifier]]
kind = "webhook"
name = "pager-eu"
url = "http://[::1]:9000/c"

[[notifier]]
kind = "webhook"
url = "http://[::1]:9000/d"

[[notifier]]
kind = "webhook"
name = "webhook-hooks.example.com-3"
url = "https://hooks.example.com/e"

[[notifier]]
kind = "webhook"
url = "https://hooks.example.com/f"
"#;
    assert_eq!(
        webhook_names(hooks),
        [
            "webhook-hooks.example.com",
            "webhook-hooks.example.com-2",
            "pager-eu",
            "webhook---1",
            "webhook-hooks.example.com-3",
            "webhook-hooks.example.com-4",
        ]
    );
}

#[test]
fn a_bad_or_twice_used_notifier_name_is_refused_where_it_is_written() {
    let text = format!(
        r#"{SLO_OK}
[[notifier]]
kind = "webhook"
name = "pager"
url = "https://a.example.com/"

[[notifier]]
kind = "webhook"
name = "pager"
url = "https://b.example.com/"

[[notifier]]
kind = "webhook"
name = "pager eu"
url = "https://c.example.com/"

[[notifier]]
kind = "stdout"
name = "out"
"#
    );
    assert_eq!(
        errors(&text),
        "c.toml:15:8: notifier name `pager` is used twice: each [[notifier]] needs its own, it is the `notifier` label of its metrics\n\
         c.toml:20:8: notifier name `pager eu` must be 1–64 characters of letters, digits, `-`, `_` or `.`\n\
         c.toml:25:8: `name` is for notifiers that send somewhere; a stdout notifier is labelled `stdout`"
    );
}
