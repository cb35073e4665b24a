//! The happy path, end to end: DogStatsD lines sent with the project's own
//! client (over UDP and over a Unix datagram socket) reach the collector's
//! SLOs with exact counts; the agent's and the collector's `/metrics` and
//! `/healthz` answer with the series dashboards use; and the report API
//! refuses what it must (401, 403, 400 with a JSON error) and counts a
//! replayed report once. The `liveops` binary's `check-config` passes the
//! shipped `config/` and points at a bad file's line and column.

use std::time::Duration;

use liveops_client::Client;
use liveops_client::signal::{REQUEST, TICK_DURATION};
use liveops_protocol::report::{REPORTS_PATH, ReportAck};
use liveops_protocol::{CounterSeries, Health, Report};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

const WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_lines_reach_the_slos_and_both_metrics_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let agent = start_agent(agent_config(dir.path(), "w1", &url)).await;
    let stats = Client::udp(agent.bound().statsd_udp.unwrap()).unwrap();
    for i in 0..500 {
        let status = if i % 100 == 7 { "error" } else { "ok" };
        stats.incr(REQUEST, &[("op", "march"), ("status", status)]);
    }
    for ms in [12.0, 48.0, 300.0] {
        stats.timing_ms(TICK_DURATION, ms, &[]);
    }
    stats.flush();

    expect_events(&url, "w1", "error_rate", 500.0, WITHIN).await;
    let row = slo(&url, "w1", "error_rate").await.unwrap();
    assert!(close(&row["sli"], 0.99), "{row}");
    let ticks = slo(&url, "w1", "tick_latency").await.unwrap();
    assert_eq!(ticks["events"].as_f64(), Some(3.0), "{ticks}");
    assert!(
        close(&ticks["sli"], 2.0 / 3.0),
        "one tick over 250 ms: {ticks}"
    );
    assert_eq!(stats.dropped(), 0);

    let worlds = try_get_json(&format!("{url}/api/v1/worlds")).await.unwrap();
    assert_eq!(
        worlds["worlds"]["w1"]["agent"].as_str(),
        Some(agent.agent_id()),
        "{worlds}"
    );

    let agent_url = format!("http://{}", agent.bound().http);
    let health = try_get_json(&format!("{agent_url}/healthz")).await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["world"], "w1", "{health}");
    assert_eq!(health["agent"].as_str(), Some(agent.agent_id()));
    let metrics = get_text(&format!("{agent_url}/metrics")).await;
    assert_eq!(
        sample(
            &metrics,
            "liveops_agent_statsd_lines_total",
            &[("world", "w1")]
        ),
        Some(503.0),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"liveops_agent_tick_duration_seconds_bucket{world="w1",le="0.05"} 2"#),
        "{metrics}"
    );

    // SLO gauges are rendered from the collector's state at scrape time.
    let text = get_text(&format!("{url}/metrics")).await;
    let labels = [("world", "w1"), ("slo", "error_rate")];
    assert_eq!(
        sample(&text, "liveops_slo_sli_ratio", &labels),
        Some(0.99),
        "{text}"
    );
    assert_eq!(sample(&text, "liveops_slo_events", &labels), Some(500.0));

    agent.stop();
    agent.wait().await.unwrap();
    collector.stop();
    collector.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_lines_reach_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let socket = dir.path().join("dsd.sock");
    let mut cfg = agent_config(dir.path(), "w1", &url);
    cfg.statsd_udp = None;
    cfg.statsd_unix = Some(socket.clone());
    let agent = start_agent(cfg).await;
    assert!(agent.bound().statsd_udp.is_none());

    let stats = Client::unix(&socket).unwrap();
    for i in 0..200 {
        let status = if i % 10 == 0 { "error" } else { "ok" };
        stats.incr(REQUEST, &[("status", status), ("op", "trade")]);
    }
    stats.flush();
    expect_events(&url, "w1", "error_rate", 200.0, WITHIN).await;
    let row = slo(&url, "w1", "error_rate").await.unwrap();
    assert!(close(&row["sli"], 0.9), "{row}");
    assert_eq!((stats.dropped(), stats.send_errors()), (0, 0));

    agent.stop();
    agent.wait().await.unwrap();
    assert!(!socket.exists(), "the agent removes its socket file");
    collector.stop();
    collector.wait().await.unwrap();
}

fn report(world: &str, seq: u64, requests: f64) -> Report {
    let end_ms = liveops_collector::now_ms();
    Report {
        agent: format!("{world}-hand-made"),
        world: world.to_owned(),
        seq,
        start_ms: end_ms - 1000,
        end_ms,
        urgent: false,
        health: Health {
            up: true,
            probe_ok: true,
            up_ms: 1000,
            observed_ms: 1000,
            ..Health::default()
        },
        counters: vec![CounterSeries {
            name: REQUEST.to_owned(),
            tags: [("status".to_owned(), "ok".to_owned())].into(),
            value: requests,
        }],
        gauges: vec![],
        histograms: vec![],
        losses: Default::default(),
        flag_reloads: Vec::new(),
    }
}

async fn post(url: &str, token: Option<&str>, body: String) -> (StatusCode, Value) {
    let mut req = http()
        .post(format!("{url}{REPORTS_PATH}"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text:?}: {e}"));
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_api_authenticates_validates_and_counts_a_replay_once() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let body = |r: &Report| serde_json::to_string(r).unwrap();
    let first = report("w7", 10, 40.0);

    let (status, json) = post(&url, None, body(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{json}");
    assert!(json["error"].is_string(), "{json}");
    let (status, json) = post(&url, Some("not-a-token"), body(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{json}");
    let (status, json) = post(&url, Some(VIEWER_TOKEN), body(&first)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
    assert!(json["error"].as_str().unwrap().contains("agent"), "{json}");
    let (status, json) = post(&url, Some(AGENT_TOKEN), r#"{"agent": "w7-"#.into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(
        json["error"].as_str().unwrap().starts_with("not a report"),
        "{json}"
    );
    let bad_world = report("w 7", 1, 1.0);
    let (status, json) = post(&url, Some(AGENT_TOKEN), body(&bad_world)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(
        slo(&url, "w7", "error_rate").await.is_err(),
        "refused reports count nothing"
    );

    let ack = |json: Value| serde_json::from_value::<ReportAck>(json).unwrap();
    let (status, json) = post(&url, Some(AGENT_TOKEN), body(&first)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ack(json),
        ReportAck {
            seq: 10,
            duplicate: false,
            refused: vec![],
        }
    );
    // A lost acknowledgement makes the agent send the same report again.
    let (status, json) = post(&url, Some(AGENT_TOKEN), body(&first)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ack(json),
        ReportAck {
            seq: 10,
            duplicate: true,
            refused: vec![],
        }
    );
    // An older sequence number is a replay too; a newer one is new.
    let (_, json) = post(&url, Some(AGENT_TOKEN), body(&report("w7", 9, 5.0))).await;
    assert!(ack(json).duplicate);
    let (_, json) = post(&url, Some(ADMIN_TOKEN), body(&report("w7", 11, 2.0))).await;
    assert!(!ack(json).duplicate);

    expect_events(&url, "w7", "error_rate", 42.0, WITHIN).await;
    let metrics = get_text(&format!("{url}/metrics")).await;
    assert_eq!(
        sample(&metrics, "liveops_collector_duplicate_reports_total", &[]),
        Some(2.0),
        "{metrics}"
    );
    let rejected = [
        ("unauthenticated", 2.0),
        ("forbidden", 1.0),
        ("malformed", 1.0),
        ("invalid", 1.0),
    ];
    for (reason, n) in rejected {
        let got = sample(
            &metrics,
            "liveops_collector_rejected_reports_total",
            &[("reason", reason)],
        );
        assert_eq!(got, Some(n), "rejected as {reason}:\n{metrics}");
    }
    collector.stop();
    collector.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_accepts_the_shipped_files_and_points_at_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut shipped = std::process::Command::new(liveops_bin());
    shipped.arg("check-config").arg(workspace().join("config"));
    let out = run(shipped, Duration::from_secs(30), dir.path()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("agent.toml: ok"), "{stdout}");
    assert!(stdout.contains("collector.toml: ok"), "{stdout}");

    let bad = dir.path().join("agent.toml");
    std::fs::write(
        &bad,
        "[agent]\nworld = \"w1\"\nreport_interval = \"soon\"\n",
    )
    .unwrap();
    let mut check = std::process::Command::new(liveops_bin());
    check.arg("check-config").arg(&bad);
    let out = run(check, Duration::from_secs(30), dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let at = format!("{}:3:19:", bad.display());
    assert!(stderr.contains(&at), "want `{at}` in:\n{stderr}");
}
