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
