//! The dashboards in `dashboards/` query only series liveops really exports.
//!
//! Every `*.json` there is parsed as a Grafana dashboard: each panel must
//! have a title, each query target a `refId` and an `expr`. Every
//! `liveops_*` name in a query (or a template variable's query) must be
//! declared in `telemetry/src/names.rs` (histogram series by their base
//! name) and, exactly as queried (`_bucket` included), must appear on the
//! `/metrics` of a real collector or agent that has handled a little
//! DogStatsD traffic, the agent serving a flag file and holding the
//! collector's override stream. A renamed metric, a typo in the JSON, or a histogram
//! no longer rendered with buckets fails here rather than as an empty panel
//! in someone's Grafana.

use std::collections::{BTreeMap, BTreeSet};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use liveops_agent::Agent;
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use serde_json::Value;

use liveops_telemetry::names;

/// Metric name as queried → where the dashboards use it (`file: panel`).
type Uses = BTreeMap<String, BTreeSet<String>>;

/// DogStatsD traffic that feeds every SLO and every agent series the
/// dashboard charts (ticks for the histogram, a gauge for players).
const TRAFFIC: &[u8] = b"tick.duration:40|ms\ntick.duration:310|ms\n\
request:1|c|#status:ok\nrequest:1|c|#status:ok\nrequest:1|c|#status:error\n\
payment:1|c|#outcome:success\nauth.latency:120|ms\nplayers.online:42|g\ntick.backlog:3|g";

#[tokio::test]
async fn dashboards_query_only_exported_series() {
    let uses = dashboard_metric_uses();

    let undeclared: Vec<String> = uses
        .iter()
        .filter(|(name, _)| !names::ALL.contains(&base_name(name)))
        .map(describe)
        .collect();
    assert!(
        undeclared.is_empty(),
        "dashboards query metrics not declared in telemetry/src/names.rs:\n  {}",
        undeclared.join("\n  ")
    );

    let (collector, agent) = scrape_running_pair().await;
    let mut exported = series_names(&collector);
    exported.extend(series_names(&agent));
    let missing: Vec<String> = uses
        .iter()
        .filter(|(name, _)| !exported.contains(*name))
        .map(describe)
        .collect();
    assert!(
        missing.is_empty(),
        "dashboards query series that neither the collector's nor the agent's /metrics renders:\n  {}\n\
         collector /metrics:\n{collector}\nagent /metrics:\n{agent}",
        missing.join("\n  ")
    );
}

/// Parses every dashboard, checks panel titles and target refIds, and
/// returns every `liveops_*` name its queries use.
fn dashboard_metric_uses() -> Uses {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dashboards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.json in {}", dir.display());

    let mut uses = Uses::new();
    let mut problems = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        let text = std::fs::read_to_string(path).expect("dashboard is readable");
        let dash: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: not JSON: {e}"));
        if dash["panels"].as_array().is_none_or(Vec::is_empty) {
            problems.push(format!("{file}: no panels"));
        }
        for var in dash["templating"]["list"].as_array().into_iter().flatten() {
            // Grafana 10+ stores a query variable's query as an object.
            let query = var["query"].as_str().or(var["query"]["query"].as_str());
            let at = format!("{file}: variable ${}", var["name"].as_str().unwrap_or("?"));
            note(&mut uses, query.unwrap_or(""), &at);
        }
        let mut panels = Vec::new();
        flatten(&dash["panels"], &mut panels);
        for panel in panels {
            let Some(title) = panel["title"].as_str().filter(|t| !t.trim().is_empty()) else {
                problems.push(format!("{file}: panel id {} has no title", panel["id"]));
                continue;
            };
            let targets = panel["targets"].as_array().map_or(&[][..], Vec::as_slice);
            if panel["type"] != "row" && targets.is_empty() {
                problems.push(format!("{file}: {title}: no query targets"));
            }
            for (i, target) in targets.iter().enumerate() {
                if target["refId"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("{file}: {title}: target {i} has no refId"));
                }
                match target["expr"].as_str() {
                    Some(expr) => note(&mut uses, expr, &format!("{file}: {title}")),
                    None => problems.push(format!("{file}: {title}: target {i} has no expr")),
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "bad dashboards:\n  {}",
        problems.join("\n  ")
    );
    assert!(!uses.is_empty(), "the dashboards query no liveops_* metric");
    uses
}

/// Panels in layout order; a collapsed row keeps its panels inside it.
fn flatten<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
    for panel in panels.as_array().into_iter().flatten() {
        out.push(panel);
        flatten(&panel["panels"], out);
    }
}

fn note(uses: &mut Uses, expr: &str, at: &str) {
    for name in metric_names(expr) {
        uses.entry(name.into()).or_default().insert(at.into());
    }
}

/// Tokens `liveops_[a-z0-9_]*` that start a word. A capital letter ends a
/// token early, so `liveops_Slo_x` is reported as `liveops_` rather than
/// skipped.
fn metric_names(expr: &str) -> Vec<&str> {
    let in_token = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = expr[from..].find("liveops_") {
        let start = from + i;
        let end = expr[start..]
            .find(|c: char| !in_token(c))
            .map_or(expr.len(), |j| start + j);
        if !expr[..start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            found.push(&expr[start..end]);
        }
        from = end;
    }
    found
}

/// The histogram family a series belongs to (`x_bucket` → `x`).
fn base_name(series: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| series.strip_suffix(suffix))
        .unwrap_or(series)
}

/// Series names in a Prometheus text rendering.
fn series_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

fn describe((name, at): (&String, &BTreeSet<String>)) -> String {
    let at: Vec<&str> = at.iter().map(String::as_str).collect();
    format!("{name}  (in {})", at.join("; "))
}

/// Runs a collector and one agent for world `w1` with the default flag
/// file, feeds the agent DogStatsD until the collector exports SLO gauges
/// for `w1` and counts the agent's override stream (or 20 s pass), and
/// returns both `/metrics` texts (collector, agent).
async fn scrape_running_pair() -> (String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = liveops_config::default_collector();
    cfg.listen = "127.0.0.1:0".parse().expect("address");
    cfg.data_dir = dir.path().join("collector");
    cfg.notifiers.clear();
    let mut tokens = Tokens::new(vec![]);
    tokens.add_plain("t", liveops_config::Role::Agent, "secret");
    let collector = Collector::start(cfg, tokens, std::future::pending())
        .await
        .expect("collector starts");

    let mut cfg = liveops_config::default_agent();
    cfg.world = "w1".into();
    cfg.collector = collector.url();
    cfg.token = Some(liveops_config::Secret("secret".into()));
    cfg.statsd_udp = Some("127.0.0.1:0".parse().expect("address"));
    cfg.http = "127.0.0.1:0".parse().expect("address");
    cfg.data_dir = dir.path().join("agent");
    // With a flag file the agent exports its flag series and subscribes to
    // the collector's override stream.
    let flags = dir.path().join("flags.toml");
    std::fs::write(&flags, liveops_config::DEFAULT_FLAGS_TOML).expect("write the flag file");
    cfg.flags.file = Some(flags);
    let agent = Agent::start(cfg, std::future::pending())
        .await
        .expect("agent starts");

    let statsd = agent.bound().statsd_udp.expect("UDP ingest is on");
    let udp = UdpSocket::bind("127.0.0.1:0").expect("UDP socket");
    let collector_url = format!("{}/metrics", collector.url());
    let agent_url = format!("http://{}/metrics", agent.bound().http);
    // An SLI for w1's tick_latency means a report carrying ticks reached the
    // collector, so the agent had recorded its tick histogram before that.
    let w1_sli = |text: &str| {
        text.lines().any(|l| {
            l.starts_with("liveops_slo_sli_ratio{")
                && l.contains(r#"world="w1""#)
                && l.contains(r#"slo="tick_latency""#)
        })
    };
    // The override-streams gauge is there at 0 from the start; at 1 the
    // agent's stream is connected, so its connected gauge is set too.
    let stream_open = |text: &str| {
        text.lines()
            .any(|l| l == "liveops_collector_override_streams 1")
    };
    // Past the deadline the check goes on anyway: it then lists every gauge
    // that never appeared as missing.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        // Resent each round: a datagram lost on loopback must not fail the test.
        udp.send_to(TRAFFIC, statsd).expect("send DogStatsD");
        let text = scrape(&collector_url).await;
        if w1_sli(&text) && stream_open(&text) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let texts = (scrape(&collector_url).await, scrape(&agent_url).await);

    agent.stop();
    agent.wait().await.expect("agent stops cleanly");
    collector.stop();
    collector.wait().await.expect("collector stops cleanly");
    texts
}

async fn scrape(url: &str) -> String {
    let resp = reqwest::get(url)
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    resp.text().await.expect("/metrics body")
}
