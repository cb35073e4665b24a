//! The webhook notifier against a real HTTP receiver: a page is POSTed as one
//! Alertmanager-shaped JSON object, and a receiver that fails at first gets
//! it again after backoff rather than never.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{NotifierConfig, Role};
use liveops_protocol::{AlertStatus, Notification};

use crate::support::down_report;

#[derive(Clone, Default)]
struct Receiver {
    /// Every body received, including the refused ones.
    bodies: Arc<Mutex<Vec<String>>>,
}

async fn receive(State(r): State<Receiver>, body: String) -> StatusCode {
    let mut bodies = r.bodies.lock().unwrap();
    bodies.push(body);
    // The first delivery fails as a briefly overloaded receiver would.
    if bodies.len() == 1 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

#[tokio::test]
async fn a_page_reaches_a_webhook_after_a_failed_first_attempt() {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = liveops_config::default_collector();
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.data_dir = dir.path().join("collector");
    cfg.notifiers = vec![NotifierConfig::Webhook {
        name: "hook".into(),
        url: hook_url,
        max_attempts: 4,
        timeout: Duration::from_secs(2),
    }];
    let mut tokens = Tokens::default();
    tokens.add_plain("agents", Role::Agent, "agent-secret");
    let collector = Collector::start(cfg, tokens, std::future::pending())
        .await
        .unwrap();

    let started = Instant::now();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/reports", collector.url()))
        .bearer_auth("agent-secret")
        .json(&down_report("hook-agent", "w9", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let deadline = Instant::now() + Duration::from_secs(10);
    let delivered = loop {
        let bodies = receiver.bodies.lock().unwrap().clone();
        if bodies.len() >= 2 {
            break bodies;
        }
        assert!(
            Instant::now() < deadline,
            "webhook got {} deliveries: {bodies:?}",
            bodies.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!(
        "webhook page delivered (after one refusal) in {:?}",
        started.elapsed()
    );
    // The retry carries the same notification as the refused attempt.
    assert_eq!(delivered[0], delivered[1]);
    let n: Notification = serde_json::from_str(&delivered[1]).unwrap();
    assert_eq!(n.status, AlertStatus::Firing);
    assert_eq!(n.label("alertname"), Some("WorldDown"));
    assert_eq!(n.label("world"), Some("w9"));
    assert_eq!(n.label("severity"), Some("page"));
    assert!(
        n.annotations["runbook_url"].ends_with("/runbooks/uptime"),
        "{:?}",
        n.annotations
    );
    assert_eq!(n.annotations["owner"], "platform-oncall");

    collector.stop();
    collector.wait().await.unwrap();
    server.abort();
}
