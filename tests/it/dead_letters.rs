//! One bad report never blocks the spool or vanishes: against a collector
//! that answers 500 for one report for ever and 400 for another, the agent
//! delivers every later report in order, moves the two bad ones to its
//! dead letters (the 500 one after `max_attempts` tries, the 400 one at
//! once), shows them on `/healthz`, `/metrics`, its dead-letter endpoint
//! and `liveops agent dead-letters`, and still has them after a restart.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use liveops_agent::Agent;
use liveops_config::AgentConfig;
use liveops_protocol::report::RefusedPart;
use liveops_telemetry::names;
use serde_json::Value;

use crate::report_sink::{Answer, ReportSink};
use crate::support::*;

const MAX_ATTEMPTS: u32 = 3;
/// The 3rd report the collector sees is answered 500, the 5th 400, the
/// 6th is taken with one part refused.
const FAILS: usize = 3;
const BAD: usize = 5;
const PARTLY: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_reports_are_dead_lettered_and_the_rest_delivered_in_order() {
    let refused = RefusedPart {
        part: "counters[0]".into(),
        reason: "value out of range".into(),
    };
    let sink = ReportSink::start(HashMap::from([
        (FAILS, Answer::Status(500, "journal write failed")),
        (BAD, Answer::Status(400, "counters[0].value: not a number")),
        (PARTLY, Answer::Refuse(vec![refused])),
    ]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = agent_config(dir.path(), "w1", &sink.url());
    cfg.report_interval = Duration::from_millis(100);
    cfg.spool.max_attempts = MAX_ATTEMPTS;
    let agent = start_agent(cfg.clone()).await;
    let agent_url = format!("http://{}", agent.bound().http);
    UdpSocket::bind(any_port())
        .unwrap()
        .send_to(
            b"payment:1|c|#outcome:success",
            agent.bound().statsd_udp.unwrap(),
        )
        .unwrap();

    // Six reports past the last scripted one.
    let distinct = eventually(Duration::from_secs(10), "12 reports", || async {
        let d = sink.seen(|s| s.distinct.clone());
        if d.len() >= PARTLY + 6 {
            Ok(d)
        } else {
            Err(format!("{} seen", d.len()))
        }
    })
    .await;
    let (fails_seq, bad_seq) = (distinct[FAILS - 1], distinct[BAD - 1]);
    let (attempts, taken) = sink.seen(|s| {
        let taken: Vec<u64> = s.taken.iter().map(|r| r.seq).collect();
        (s.attempts.clone(), taken)
    });
    let tries = |seq| attempts.iter().filter(|(s, _)| *s == seq).count();
    assert_eq!(tries(fails_seq), MAX_ATTEMPTS as usize, "{attempts:?}");
    assert_eq!(tries(bad_seq), 1, "a 400 is not retried: {attempts:?}");
    // Everything else was taken once, in order, the bad ones skipped.
    let want: Vec<u64> = distinct
        .iter()
        .copied()
        .filter(|s| *s != fails_seq && *s != bad_seq)
        .collect();
    assert_eq!(taken[..want.len()], want[..], "{attempts:?}");
    assert!(taken.windows(2).all(|w| w[0] < w[1]), "in order: {taken:?}");

    let health = try_get_json(&format!("{agent_url}/healthz")).await.unwrap();
    let dead = &health["dead_letters"];
    assert_eq!(dead["count"], 2, "{health}");
    assert_eq!(dead["newest"]["seq"].as_u64(), Some(bad_seq), "{health}");
    assert_eq!(dead["newest"]["status"], 400, "{health}");
    let reason = dead["newest"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("400") && reason.contains("counters[0].value: not a number"),
        "{health}"
    );
    assert!(
        dead["newest"]["at"].as_str().unwrap().ends_with('Z'),
        "{health}"
    );

    let metrics = get_text(&format!("{agent_url}/metrics")).await;
    let w = [("world", "w1")];
    assert_eq!(
        sample(&metrics, names::AGENT_DEAD_LETTERS, &w),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, names::AGENT_DEAD_LETTERED, &w),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, names::AGENT_REPORT_REFUSED_PARTS, &w),
        Some(1.0),
        "{metrics}"
    );

    let listed = dead_letters(&agent_url, "?body=true").await;
    assert_dead_letters(&listed, fails_seq, bad_seq, true);
    assert_eq!(listed[0]["attempts"], MAX_ATTEMPTS, "{listed:?}");
    assert_eq!(listed[0]["status"], 500, "{listed:?}");
    assert!(
        listed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("journal write failed"),
        "{listed:?}"
    );
    let plain = dead_letters(&agent_url, "").await;
    assert!(plain.iter().all(|d| d.get("body").is_none()), "{plain:?}");
    let bad_query = http()
        .get(format!("{agent_url}/liveops/v1/dead-letters?body=yes"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_query.status(), 400);
    let text = bad_query.text().await.unwrap();
    assert!(text.contains("body must be true or false"), "{text}");

    cli_shows(dir.path(), &agent_url, fails_seq, bad_seq).await;

    // A restart keeps them.
    agent.stop();
    agent.wait().await.unwrap();
    let agent = restart(cfg).await;
    let agent_url = format!("http://{}", agent.bound().http);
    let listed = dead_letters(&agent_url, "?body=true").await;
    assert_dead_letters(&listed, fails_seq, bad_seq, true);
    let metrics = get_text(&format!("{agent_url}/metrics")).await;
    assert_eq!(
        sample(&metrics, names::AGENT_DEAD_LETTERS, &w),
        Some(2.0),
        "{metrics}"
    );
    agent.stop();
    agent.wait().await.unwrap();
}

async fn dead_letters(agent_url: &str, query: &str) -> Vec<Value> {
    let body = try_get_json(&format!("{agent_url}/liveops/v1/dead-letters{query}"))
        .await
        .unwrap();
    assert_eq!(body["count"], 2, "{body}");
    body["dead_letters"].as_array().unwrap().clone()
}

fn assert_dead_letters(listed: &[Value], fails_seq: u64, bad_seq: u64, bodies: bool) {
    let seqs: Vec<_> = listed.iter().map(|d| d["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [fails_seq, bad_seq], "{listed:?}");
    if bodies {
        for d in listed {
            assert_eq!(d["body"]["seq"], d["seq"], "the report itself: {d}");
            assert_eq!(d["body"]["world"], "w1", "{d}");
        }
    }
}

/// `liveops agent dead-letters`, the real binary, as a table and as JSON.
async fn cli_shows(dir: &std::path::Path, agent_url: &str, fails_seq: u64, bad_seq: u64) {
    let mut table = Command::new(liveops_bin());
    table
        .args(["agent", "dead-letters"])
        .env("LIVEOPS_AGENT", agent_url);
    let out = run(table, Duration::from_secs(30), dir).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert!(rows[0].starts_with("SEQ"), "{stdout}");
    assert!(rows[1].starts_with(&fails_seq.to_string()), "{stdout}");
    assert!(
        rows[1].contains("500") && rows[1].contains("journal write failed"),
        "{stdout}"
    );
    assert!(
        rows[2].starts_with(&bad_seq.to_string()) && rows[2].contains("400"),
        "{stdout}"
    );

    let mut json = Command::new(liveops_bin());
    json.args(["agent", "dead-letters", "--json", "--agent", agent_url]);
    let out = run(json, Duration::from_secs(30), dir).await;
    assert!(out.status.success());
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_dead_letters(
        body["dead_letters"].as_array().unwrap(),
        fails_seq,
        bad_seq,
        false,
    );
}

/// Starts the agent again on the same data dir: sled may hold its lock a
/// moment after the previous agent let go.
async fn restart(cfg: AgentConfig) -> Agent {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Agent::start(cfg.clone(), std::future::pending()).await {
            Ok(a) => return a,
            Err(e) if Instant::now() < deadline => {
                eprintln!("agent restart: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("agent does not restart: {e}"),
        }
    }
}
