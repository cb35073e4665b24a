//! A collector with a paging policy over two webhook channels, `primary`
//! and `fallback`, each pointing at a receiver that records every body
//! (the primary one can be told to answer 500).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use liveops_collector::Collector;
use liveops_config::NotifierConfig;
use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

/// Ops owns world health; everything else is SEV2 to the SLO's owner.
pub const POLICY: &str = r#"
[paging]
default_team = "ops"

[[route]]
match_re = { alertname = "WorldDown|TickStalled|AgentSilent" }
team = "ops"
severity = "SEV1"

[default_route]
severity = "SEV2"

[[inhibit]]
source_match = { alertname = "WorldDown" }
target_match_re = { alertname = "TickStalled|HighFailureRatio" }
equal = ["world"]

[policy.SEV1]
[[policy.SEV1.step]]
notify = [{ role = "primary" }]
channels = ["primary", "fallback"]
ack_deadline = "5m"

[policy.SEV2]
[[policy.SEV2.step]]
notify = [{ role = "primary" }]
channels = ["primary", "fallback"]
ack_deadline = "15m"

[policy.SEV3]
[[policy.SEV3.step]]
notify = [{ role = "primary" }]
channels = ["fallback"]
ack_deadline = "4h"

[policy.SEV4]
[[policy.SEV4.step]]
notify = [{ role = "primary" }]
channels = ["fallback"]
ack_deadline = "1d"
"#;

#[derive(Clone, Default)]
pub struct Receiver {
    bodies: Arc<Mutex<Vec<Value>>>,
    failing: Arc<AtomicBool>,
}

impl Receiver {
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    async fn start(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new().route("/hook", post(receive)).with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }
}

async fn receive(State(r): State<Receiver>, body: String) -> StatusCode {
    let v = serde_json::from_str(&body).unwrap_or(Value::String(body));
    r.bodies.lock().unwrap().push(v);
    if r.failing.load(Ordering::Relaxed) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// The page triggers a receiver got (not acknowledgements or resolves).
pub fn triggers(r: &Receiver) -> Vec<Value> {
    r.bodies()
        .into_iter()
        .filter(|b| b["action"] == "trigger")
        .collect()
}

pub struct Paging {
    pub dir: TempDir,
    pub collector: Collector,
    pub primary: Receiver,
    pub fallback: Receiver,
}

impl Paging {
    pub async fn start(primary_fails: bool) -> Paging {
        let (primary, fallback) = (Receiver::default(), Receiver::default());
        primary.failing.store(primary_fails, Ordering::Relaxed);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("paging.toml"), POLICY).unwrap();
        let mut cfg = collector_config(dir.path(), any_port());
        cfg.paging_file = Some(dir.path().join("paging.toml"));
        let hook = |name: &str, url: String| NotifierConfig::Webhook {
            name: name.into(),
            url,
            max_attempts: 2,
            timeout: Duration::from_secs(2),
        };
        cfg.notifiers = vec![
            hook("primary", primary.clone().start().await),
            hook("fallback", fallback.clone().start().await),
        ];
        let collector = start_collector(cfg).await;
        Paging {
            dir,
            collector,
            primary,
            fallback,
        }
    }

    pub fn url(&self) -> String {
        self.collector.url()
    }

    /// `GET path` with the admin token, as JSON.
    pub async fn api(&self, path: &str) -> Value {
        let resp = http()
            .get(format!("{}{path}", self.url()))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    /// Runs `liveops ARGS` against this collector; its stdout.
    pub async fn cli_text(&self, args: &[&str]) -> String {
        let mut cmd = std::process::Command::new(liveops_bin());
        cmd.args(args)
            .args(["--collector", &self.url(), "--token", ADMIN_TOKEN]);
        let out = run(cmd, Duration::from_secs(30), self.dir.path()).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "liveops {args:?}: {out:?}");
        stdout
    }

    pub async fn cli(&self, args: &[&str]) -> Value {
        let text = self.cli_text(args).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// Posts one report saying `world` is down, as its agent would.
    pub async fn report_down(&self, agent: &str, world: &str) {
        report_down(&self.url(), agent, world).await;
    }

    pub async fn stop(self) {
        self.collector.stop();
        self.collector.wait().await.unwrap();
    }
}

/// Posts one report to the collector at `url` saying `world` is down, as
/// its agent would.
pub async fn report_down(url: &str, agent: &str, world: &str) {
    let resp = http()
        .post(format!("{url}/api/v1/reports"))
        .bearer_auth(AGENT_TOKEN)
        .json(&down_report(agent, world, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
