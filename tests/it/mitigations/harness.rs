//! What the mitigation tests share: a collector with a token per role, the
//! API called as each role, the override stream read as an agent reads it,
//! and the real `liveops` binary.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{CollectorConfig, Role};
use serde_json::Value;

use crate::support::{any_port, collector_config, liveops_bin, run, start_collector_with};

pub const AGENT: &str = "m-agent-token";
pub const VIEWER: &str = "m-viewer-token";
pub const RESPONDER: &str = "m-responder-token";
pub const ADMIN: &str = "m-admin-token";

fn tokens() -> Tokens {
    let mut t = Tokens::default();
    t.add_plain("agents", Role::Agent, AGENT);
    t.add_plain("vera", Role::Viewer, VIEWER);
    t.add_plain("alice", Role::Responder, RESPONDER);
    t.add_plain("root", Role::Admin, ADMIN);
    t
}

pub fn config(dir: &Path) -> CollectorConfig {
    collector_config(dir, any_port())
}

/// Starts a collector with this module's tokens.
pub async fn start(cfg: &CollectorConfig) -> Collector {
    start_collector_with(cfg.clone(), tokens()).await
}

/// Starts a collector and returns the config that restarts it on the same
/// address and data dir, so URLs taken from the first one stay good.
pub async fn start_restartable(dir: &Path) -> (Collector, CollectorConfig) {
    let first = start(&config(dir)).await;
    let mut cfg = config(dir);
    cfg.listen = first.addr();
    (first, cfg)
}

pub async fn stop(c: Collector) {
    c.stop();
    tokio::time::timeout(Duration::from_secs(10), c.wait())
        .await
        .expect("the collector stops even with streams open")
        .expect("collector stops cleanly");
}

/// A call's status and JSON body.
pub async fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A successful call's JSON body.
pub async fn ok(method: &str, url: &str, token: &str, body: Option<Value>) -> Value {
    let (status, v) = call(method, url, Some(token), body).await;
    assert!((200..300).contains(&status), "{method} {url}: {status} {v}");
    v
}

/// The override stream of one world, read as an agent reads it.
pub struct Stream {
    resp: reqwest::Response,
    buf: String,
}

impl Stream {
    pub async fn open(base: &str, world: &str, token: &str) -> Stream {
        // No overall timeout: the stream lives as long as the test.
        let resp = reqwest::Client::new()
            .get(format!("{base}/api/v1/overrides/stream?world={world}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream request");
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Stream {
            resp,
            buf: String::new(),
        }
    }

    /// The data of the next `overrides` event (an `OverrideSet`).
    pub async fn next(&mut self, within: Duration) -> Value {
        tokio::time::timeout(within, self.next_event())
            .await
            .unwrap_or_else(|_| panic!("no overrides event within {within:?}"))
    }

    /// The first event at `version` or later: a subscriber may skip
    /// versions (each event is the whole set), never go back.
    pub async fn at(&mut self, version: u64, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let set = self.next(left).await;
            if set["version"].as_u64() >= Some(version) {
                return set;
            }
        }
    }

    async fn next_event(&mut self) -> Value {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event:") {
                        event = Some(e.trim().to_owned());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if event.as_deref() == Some("overrides") {
                    return serde_json::from_str(&data).expect("event data is JSON");
                }
            }
            let chunk = self.resp.chunk().await.expect("stream read");
            let chunk = chunk.expect("stream still open");
            self.buf
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

/// Runs the real `liveops` binary against `collector` as the responder.
pub async fn liveops(collector: &str, args: &[&str], dir: &Path) -> Output {
    let mut cmd = Command::new(liveops_bin());
    cmd.args(args)
        .env("LIVEOPS_COLLECTOR", collector)
        .env("LIVEOPS_TOKEN", RESPONDER);
    run(cmd, Duration::from_secs(30), dir).await
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `(flag, value, scope kind)` of each override of a set, for comparing.
pub fn summary(set: &Value) -> Vec<(String, Value, String)> {
    set["overrides"]
        .as_array()
        .expect("overrides")
        .iter()
        .map(|o| {
            (
                o["flag"].as_str().unwrap().to_owned(),
                o["value"].clone(),
                o["scope"]["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
