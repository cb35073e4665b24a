//! The agent's file: `[agent]`, `[health]`, `[ingest]`, `[spool]`, `[flags]`,
//! `[http]`, `[snapshots]`.
//!
//! Every key has a default (the values in the shipped `config/agent.toml`),
//! so a sidecar can run from flags alone; a file only overrides.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::document::{Document, decode, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::model::{AgentConfig, FlagsConfig, HealthConfig, IngestConfig, Secret, SpoolConfig};
use crate::overrides::Overrides;
use crate::values;

// `flags` (plural) is the agent's pointer to a flag file; a flag file's own
// tables are `[flag."KEY"]`, so the two kinds stay tellable apart.
pub(crate) const SECTIONS: &[&str] = &[
    "agent",
    "health",
    "ingest",
    "spool",
    "flags",
    "http",
    "snapshots",
];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    world: Option<Spanned<String>>,
    collector: Option<Spanned<String>>,
    /// File holding the report token (the token itself never sits in config).
    token_file: Option<PathBuf>,
    game: Option<Spanned<String>>,
    statsd_udp: Option<Spanned<String>>,
    statsd_unix: Option<PathBuf>,
    http: Option<Spanned<String>>,
    data_dir: Option<PathBuf>,
    report_interval: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    probe_interval: Option<Spanned<String>>,
    probe_timeout: Option<Spanned<String>>,
    failures_before_down: Option<Spanned<u32>>,
    stall_factor: Option<Spanned<f64>>,
    stall_min: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIngest {
    max_series: Option<Spanned<usize>>,
    recv_buffer_bytes: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFlags {
    file: Option<Spanned<String>>,
    poll_interval: Option<Spanned<String>>,
    max_file_bytes: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpool {
    max_reports: Option<Spanned<u64>>,
    max_attempts: Option<Spanned<u32>>,
    max_dead_letters: Option<Spanned<u64>>,
}

/// Keys a flag or the environment may set, besides `config`.
pub(crate) const OVERRIDABLE: &[&str] = &[
    "world",
    "collector",
    "token",
    "game",
    "statsd_udp",
    "statsd_unix",
    "http",
    "data_dir",
    "flags",
];

pub(crate) fn parse(
    file: &str,
    text: &str,
    overrides: &Overrides,
) -> Result<AgentConfig, ConfigErrors> {
    let mut sink = Sink::with_overrides(file, text, overrides);
    let mut cfg = defaults();
    // Sections are read first and checked after the overrides are laid
    // over them, so a value from a flag meets the checks a file's does,
    // even when the file has no such section or does not parse at all.
    let doc = Document::parse(text, &mut sink);
    let mut agent = RawAgent::default();
    let mut flags = RawFlags::default();
    for entry in doc.iter().flat_map(Document::entries) {
        let span = entry.value.span();
        match entry.name.as_str() {
            "agent" => {
                if let Some(raw) = decode::<RawAgent>(entry.value, &mut sink) {
                    agent = raw;
                }
            }
            "health" => {
                if let Some(raw) = decode::<RawHealth>(entry.value, &mut sink) {
                    apply_health(raw, span, &mut cfg.health, &mut sink);
                }
            }
            "ingest" => {
                if let Some(raw) = decode::<RawIngest>(entry.value, &mut sink) {
                    if let Some(n) = raw.max_series {
                        if *n.get_ref() == 0 {
                            sink.at(n.span(), "max_series must be at least 1");
                        }
                        cfg.ingest.max_series = *n.get_ref();
                    }
                    if let Some(b) = raw.recv_buffer_bytes {
                        cfg.ingest.recv_buffer_bytes = b;
                    }
                }
            }
            "spool" => {
                if let Some(raw) = decode::<RawSpool>(entry.value, &mut sink) {
                    if let Some(n) = raw.max_reports {
                        if *n.get_ref() == 0 {
                            sink.at(n.span(), "max_reports must be at least 1");
                        }
                        cfg.spool.max_reports = *n.get_ref();
                    }
                    if let Some(n) = raw.max_attempts {
                        if *n.get_ref() == 0 {
                            sink.at(n.span(), "max_attempts must be at least 1");
                        }
                        cfg.spool.max_attempts = *n.get_ref();
                    }
                    if let Some(n) = raw.max_dead_letters {
                        if *n.get_ref() == 0 {
                            sink.at(n.span(), "max_dead_letters must be at least 1");
                        }
                        cfg.spool.max_dead_letters = *n.get_ref();
                    }
                }
            }
            "flags" => {
                if let Some(raw) = decode::<RawFlags>(entry.value, &mut sink) {
                    flags = raw;
                }
            }
            "http" => crate::http::apply(entry.value, &mut cfg.http_server, &mut sink),
            "snapshots" => crate::snapshots::apply(entry.value, &mut cfg.snapshots, &mut sink),
            _ => unknown_section(&entry, SECTIONS, &mut sink),
        }
    }
    overlay(overrides, &mut agent, &mut flags);
    apply_agent(agent, &mut cfg, &mut sink);
    apply_flags(flags, &mut cfg.flags, &mut sink);
    if let Some(t) = overrides.get("token") {
        if t.get_ref().trim().is_empty() {
            sink.at(t.span(), "token must not be empty");
        } else {
            cfg.token = Some(Secret(t.into_inner().trim().to_owned()));
        }
    }
    for (span, key) in overrides.unknown(OVERRIDABLE) {
        sink.at(span, format!("`{key}` is not an agent setting"));
    }
    sink.finish(cfg)
}

/// Lays flags and environment values over the file's, key by key.
fn overlay(o: &Overrides, agent: &mut RawAgent, flags: &mut RawFlags) {
    let spanned = |key: &str, slot: &mut Option<Spanned<String>>| {
        if let Some(v) = o.get(key) {
            *slot = Some(v);
        }
    };
    spanned("world", &mut agent.world);
    spanned("collector", &mut agent.collector);
    spanned("game", &mut agent.game);
    spanned("statsd_udp", &mut agent.statsd_udp);
    spanned("http", &mut agent.http);
    spanned("flags", &mut flags.file);
    if let Some(p) = o.path("statsd_unix") {
        agent.statsd_unix = Some(p);
    }
    if let Some(p) = o.path("data_dir") {
        agent.data_dir = Some(p);
    }
}

fn apply_agent(raw: RawAgent, cfg: &mut AgentConfig, sink: &mut Sink<'_>) {
    if let Some(w) = raw.world
        && values::name(w.get_ref(), w.span(), "world", sink)
    {
        cfg.world = w.into_inner();
    }
    if let Some(u) = raw
        .collector
        .as_ref()
        .and_then(|u| values::http_url(u, "collector", sink))
    {
        cfg.collector = u;
    }
    if let Some(path) = raw.token_file {
        cfg.token_file = Some(path);
    }
    if let Some(g) = raw.game.as_ref() {
        cfg.game = values::http_url(g, "game", sink);
    }
    if let Some(a) = raw.statsd_udp.as_ref() {
        // An empty string turns the UDP listener off (Unix socket only).
        cfg.statsd_udp = if a.get_ref().is_empty() {
            None
        } else {
            values::socket_addr(a, "statsd_udp", sink)
        };
    }
    if let Some(p) = raw.statsd_unix {
        cfg.statsd_unix = Some(p);
    }
    if let Some(a) = raw
        .http
        .as_ref()
        .and_then(|a| values::socket_addr(a, "http", sink))
    {
        cfg.http = a;
    }
    if let Some(d) = raw.data_dir {
        cfg.data_dir = d;
    }
    if let Some(d) = raw
        .report_interval
        .as_ref()
        .and_then(|d| values::duration(d, "report_interval", sink))
    {
        cfg.report_interval = d;
    }
}

fn apply_flags(raw: RawFlags, f: &mut FlagsConfig, sink: &mut Sink<'_>) {
    if let Some(p) = raw.file {
        if p.get_ref().trim().is_empty() {
            sink.at(
                p.span(),
                "flags.file must not be empty; leave it out to serve no flags",
            );
        } else {
            f.file = Some(PathBuf::from(p.into_inner()));
        }
    }
    if let Some(d) = raw
        .poll_interval
        .as_ref()
        .and_then(|d| values::duration(d, "poll_interval", sink))
    {
        f.poll_interval = d;
    }
    if let Some(n) = raw.max_file_bytes {
        match u64::try_from(*n.get_ref()) {
            Ok(n) if n >= 1 => f.max_file_bytes = n,
            _ => sink.at(n.span(), "max_file_bytes must be at least 1"),
        }
    }
}

fn apply_health(
    raw: RawHealth,
    span: std::ops::Range<usize>,
    h: &mut HealthConfig,
    sink: &mut Sink<'_>,
) {
    if let Some(d) = raw
        .probe_interval
        .as_ref()
        .and_then(|d| values::duration(d, "probe_interval", sink))
    {
        h.probe_interval = d;
    }
    if let Some(d) = raw
        .probe_timeout
        .as_ref()
        .and_then(|d| values::duration(d, "probe_timeout", sink))
    {
        h.probe_timeout = d;
    }
    if let Some(n) = raw.failures_before_down {
        if *n.get_ref() == 0 {
            sink.at(n.span(), "failures_before_down must be at least 1");
        }
        h.failures_before_down = *n.get_ref();
    }
    if let Some(f) = raw.stall_factor {
        if !(*f.get_ref() >= 1.0 && f.get_ref().is_finite()) {
            sink.at(
                f.span(),
                "stall_factor must be a number of at least 1 (times the usual tick interval)",
            );
        }
        h.stall_factor = *f.get_ref();
    }
    if let Some(d) = raw
        .stall_min
        .as_ref()
        .and_then(|d| values::duration(d, "stall_min", sink))
    {
        h.stall_min = d;
    }
    if h.probe_timeout > h.probe_interval {
        sink.at(span, "probe_timeout must not be longer than probe_interval");
    }
}

/// The defaults, as documented in the shipped `config/agent.toml`.
pub fn defaults() -> AgentConfig {
    use std::time::Duration;
    AgentConfig {
        world: "world".into(),
        collector: "http://127.0.0.1:9470".into(),
        token: None,
        token_file: None,
        game: None,
        statsd_udp: Some("127.0.0.1:8125".parse().expect("literal address")),
        statsd_unix: None,
        http: "127.0.0.1:9471".parse().expect("literal address"),
        data_dir: PathBuf::from("liveops-agent-data"),
        report_interval: Duration::from_secs(1),
        health: HealthConfig {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(800),
            failures_before_down: 2,
            stall_factor: 5.0,
            stall_min: Duration::from_secs(1),
        },
        ingest: IngestConfig {
            max_series: 10_000,
            recv_buffer_bytes: 8 << 20,
        },
        spool: SpoolConfig {
            max_reports: 86_400,
            max_attempts: 8,
            max_dead_letters: 1000,
        },
        flags: FlagsConfig {
            file: None,
            poll_interval: Duration::from_secs(2),
            max_file_bytes: 8 << 20,
        },
        http_server: crate::http::defaults(1024),
        snapshots: crate::snapshots::defaults(),
    }
}

#[cfg(test)]
#[path = "agent_tests.rs"]
mod tests;
