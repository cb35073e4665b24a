//! The HTTP contract of the flag endpoints: OFREP answers and errors, the
//! bulk `ETag`, the snapshot, the change stream, and the real
//! `liveops-agent` binary started with `--flags`.

use std::process::{Command, Stdio};
use std::time::Duration;

use liveops_protocol::sse::Parser;
use serde_json::{Value, json};

use super::files::{flags_toml, rename_over};
use super::{SEEN_WITHIN, base, expect_value, flag_dir, nowhere, ofrep_eval, start_with_flags};
use crate::support::*;

async fn bulk(url: &str, ctx: Value, etag: Option<&str>) -> reqwest::Response {
    let mut req = http()
        .post(format!("{url}/ofrep/v1/evaluate/flags"))
        .body(json!({ "context": ctx }).to_string());
    if let Some(tag) = etag {
        req = req.header("if-none-match", tag);
    }
    req.send().await.unwrap()
}

fn etag(resp: &reqwest::Response) -> String {
    resp.headers()["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn ofrep_answers_errors_and_etags_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let agent = start_with_flags(dir.path(), "of1", &path, &nowhere()).await;
    let url = base(&agent);

    // Integer ids are ids; the player rule matches player 7.
    let (status, body) = ofrep_eval(&url, "combat.attacks", r#"{"context":{"player":7}}"#).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"key": "combat.attacks", "value": false, "reason": "TARGETING_MATCH",
               "variant": "rule-1", "metadata": {}})
    );
    let (_, body) = ofrep_eval(&url, "combat.attacks", "").await;
    assert_eq!(
        (&body["reason"], &body["variant"]),
        (&json!("DEFAULT"), &json!("default"))
    );

    let (status, body) = ofrep_eval(&url, "no.such", "{}").await;
    assert_eq!(status, 404);
    assert_eq!(
        (&body["key"], &body["errorCode"]),
        (&json!("no.such"), &json!("FLAG_NOT_FOUND"))
    );
    assert!(body["errorDetails"].is_string());
    for bad in [
        r#"{"context":"w1"}"#,
        r#"{"context":{"player":1.5}}"#,
        r#"{"context":{"world":["w1"]}}"#,
        "not json",
    ] {
        let (status, body) = ofrep_eval(&url, "combat.attacks", bad).await;
        assert_eq!(
            (status, &body["errorCode"]),
            (400, &json!("INVALID_CONTEXT")),
            "{bad}: {body}"
        );
    }
    let huge = format!(r#"{{"context":{{"x":"{}"}}}}"#, "a".repeat(70_000));
    assert_eq!(ofrep_eval(&url, "combat.attacks", &huge).await.0, 413);

    // Bulk: every flag, an ETag per (snapshot, context), 304 on a match.
    let first = bulk(&url, json!({ "player": 7 }), None).await;
    assert_eq!(first.status(), 200);
    let tag = etag(&first);
    let flags: Value = first.json().await.unwrap();
    let keys: Vec<&str> = flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["combat.attacks", "market.fee"]);
    assert_eq!(flags["flags"][0]["variant"], "rule-1");
    let again = bulk(&url, json!({ "player": 7 }), Some(&tag)).await;
    assert_eq!(again.status(), 304);
    assert_eq!(etag(&again), tag);
    assert!(again.bytes().await.unwrap().is_empty());
    let other = bulk(&url, json!({ "player": 8 }), Some(&tag)).await;
    assert_eq!(other.status(), 200);
    assert_ne!(etag(&other), tag);

    rename_over(&path, &flags_toml(true, 6));
    expect_value(&url, "market.fee", json!({}), json!(6), "default").await;
    let changed = bulk(&url, json!({ "player": 7 }), Some(&tag)).await;
    assert_eq!(changed.status(), 200, "a new file is a new ETag");

    // The snapshot, for in-process evaluation, with its own ETag.
    let resp = http()
        .get(format!("{url}/liveops/v1/flags"))
        .send()
        .await
        .unwrap();
    let tag = etag(&resp);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(tag, format!("\"{}\"", doc["version"].as_str().unwrap()));
    assert_eq!(doc["flags"].as_array().unwrap().len(), 2);
    let resp = http()
        .get(format!("{url}/liveops/v1/flags"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    agent.stop();
    agent.wait().await.unwrap();
}

/// The next `changed` event's data, or panics after `SEEN_WITHIN`.
async fn next_change(resp: &mut reqwest::Response, parser: &mut Parser) -> String {
    tokio::time::timeout(SEEN_WITHIN, async {
        loop {
            let chunk = resp.chunk().await.unwrap().expect("stream open");
            if let Some(ev) = parser
                .push(&chunk)
                .expect("short lines")
                .into_iter()
                .find(|e| e.name == "changed")
            {
                return ev.data;
            }
        }
    })
    .await
    .expect("a changed event")
}

async fn version(url: &str) -> String {
    try_get_json(&format!("{url}/liveops/v1/flags"))
        .await
        .unwrap()["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_change_stream_announces_the_version_on_connect_and_on_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let agent = start_with_flags(dir.path(), "ch1", &path, &nowhere()).await;
    let url = base(&agent);
    let mut resp = reqwest::Client::new()
        .get(format!("{url}/liveops/v1/flags/changes"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut parser = Parser::default();
    assert_eq!(
        next_change(&mut resp, &mut parser).await,
        version(&url).await
    );
    for fee in [6, 7] {
        rename_over(&path, &flags_toml(true, fee));
        let announced = next_change(&mut resp, &mut parser).await;
        assert_eq!(announced, version(&url).await);
        expect_value(&url, "market.fee", json!({}), json!(fee), "default").await;
    }
    // Open streams do not hold up shutdown.
    agent.stop();
    tokio::time::timeout(Duration::from_secs(5), agent.wait())
        .await
        .expect("agent stops with a change stream open")
        .unwrap();
}

#[tokio::test]
async fn the_agent_binary_serves_and_hot_reloads_its_flags_file() {
    let bin = built(&["liveops-agent"]);
    let dir = tempfile::tempdir().unwrap();
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let port = |_| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    let (http_addr, statsd) = (port(0), port(1));
    let mut child = Command::new(bin.join("liveops-agent"))
        .args(["--world", "bin-flags", "--collector", &nowhere()])
        .args([
            "--http",
            &http_addr.to_string(),
            "--statsd-udp",
            &statsd.to_string(),
        ])
        .arg("--data-dir")
        .arg(dir.path().join("agent"))
        .arg("--flags")
        .arg(&path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("starting liveops-agent");
    let url = format!("http://{http_addr}");
    let started = Duration::from_secs(10);
    eventually(started, "the agent answering OFREP", || async {
        let resp = http()
            .post(format!("{url}/ofrep/v1/evaluate/flags/market.fee"))
            .body("{}")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        (body["value"] == 5).then_some(()).ok_or(body.to_string())
    })
    .await;
    rename_over(&path, &flags_toml(true, 8));
    expect_value(&url, "market.fee", json!({}), json!(8), "default").await;

    terminate(&mut child, "agent");
}

/// The next default-type (`message`) event on `resp`: (id, data).
async fn next_message(resp: &mut reqwest::Response, raw: &mut String) -> Value {
    let mut parser = Parser::default();
    tokio::time::timeout(SEEN_WITHIN, async {
        loop {
            let chunk = resp.chunk().await.unwrap().expect("stream open");
            raw.push_str(&String::from_utf8_lossy(&chunk));
            let events = parser.push(&chunk).expect("short lines");
            if let Some(ev) = events.into_iter().find(|e| e.name == "message") {
                return serde_json::from_str(&ev.data).unwrap();
            }
        }
    })
    .await
    .expect("a refetchEvaluation event")
}

#[tokio::test]
async fn bulk_answers_advertise_an_sse_stream_that_says_when_to_refetch() {
    let dir = tempfile::tempdir().unwrap();
    let path = flag_dir(dir.path()).join("flags.toml");
    std::fs::write(&path, flags_toml(true, 5)).unwrap();
    let agent = start_with_flags(dir.path(), "sse1", &path, &nowhere()).await;
    let url = base(&agent);

    let first = bulk(&url, json!({ "player": 7 }), None).await;
    let tag = etag(&first);
    let body: Value = first.json().await.unwrap();
    let conns = body["refreshConnections"].as_array().expect("advertised");
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["type"], "sse");
    let events = conns[0]["url"].as_str().unwrap();
    assert_eq!(
        events,
        format!("{url}/liveops/v1/flags/ofrep-events"),
        "absolute, on the host the client used"
    );
    let mut stream = http().get(events).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");

    rename_over(&path, &flags_toml(true, 6));
    let mut raw = String::new();
    let data = next_message(&mut stream, &mut raw).await;
    let served = version(&url).await;
    assert_eq!(data["type"], "refetchEvaluation");
    assert_eq!(data["etag"], format!("\"{served}\""));
    let now = liveops_protocol::time::now_ms() / 1000;
    let at = data["lastModified"].as_u64().expect("unix seconds");
    assert!(at <= now && at + 5 >= now, "{at} vs {now}");
    assert!(raw.contains(&format!("id: {served}\n")), "{raw:?}");
    assert!(!raw.contains("event:"), "a default-type event: {raw:?}");

    // The refetch a provider makes on the event: its query must not get
    // in the way, and it sees the new value.
    let refetch = http()
        .post(format!(
            "{url}/ofrep/v1/evaluate/flags?sseEtag=%22{served}%22&sseLastModified={at}"
        ))
        .header("if-none-match", &tag)
        .body(json!({ "context": { "player": 7 } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refetch.status(), 200);
    let body: Value = refetch.json().await.unwrap();
    assert_eq!(body["flags"][1]["key"], "market.fee");
    assert_eq!(body["flags"][1]["value"], 6);

    // A provider back with an old Last-Event-ID hears of the change at once.
    let mut late = http()
        .get(events)
        .header("last-event-id", "an-old-version")
        .send()
        .await
        .unwrap();
    let data = next_message(&mut late, &mut String::new()).await;
    assert_eq!(data["etag"], format!("\"{served}\""));

    agent.stop();
    tokio::time::timeout(Duration::from_secs(5), agent.wait())
        .await
        .expect("agent stops with OFREP event streams open")
        .unwrap();
}
