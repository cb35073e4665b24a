//! The demo's delivery channels. The shipped paging policy pages through
//! `pagerduty`, `slack`, `email` and `tickets`; the demo gives it the real
//! PagerDuty (Events API v2) and Slack notifiers and two webhooks for the
//! other two, all pointed at a receiver in this process that answers as
//! each service does and writes what it got, one JSON line per request
//! (`{"at", "channel", "body"}`), so a page goes through the real channel
//! code and the demo needs no outside service.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use liveops_config::{NotifierConfig, RetryConfig, Secret};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// The channel names the shipped `config/paging.toml` uses.
pub const CHANNELS: [&str; 4] = ["pagerduty", "slack", "email", "tickets"];

/// Used for people without a PagerDuty key of their own in the schedule.
const ROUTING_KEY: &str = "demo-routing-key";

#[derive(Clone)]
struct Log(Arc<Mutex<tokio::fs::File>>);

/// Starts the receiver on `host` (stopping with `stop`), writing to `log`;
/// returns the notifiers that deliver to it and the task serving it.
pub async fn start(
    host: IpAddr,
    log: &Path,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(Vec<NotifierConfig>, tokio::task::JoinHandle<()>)> {
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .await
        .with_context(|| format!("opening {}", log.display()))?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(host, 0))
        .await
        .context("binding the demo's channel receiver")?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/{channel}", post(receive))
        .with_state(Log(Arc::new(Mutex::new(file))));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            eprintln!("the demo's channel receiver stopped: {e}");
        }
    });
    Ok((notifiers(&base), task))
}

fn notifiers(base: &str) -> Vec<NotifierConfig> {
    // Loopback answers at once; a short deadline keeps a stopped demo quick.
    let retry = RetryConfig {
        timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(10),
    };
    let hook = |name: &str| NotifierConfig::Webhook {
        name: name.into(),
        url: format!("{base}/{name}"),
        max_attempts: 3,
        timeout: Duration::from_secs(2),
    };
    vec![
        NotifierConfig::PagerDuty {
            name: "pagerduty".into(),
            url: format!("{base}/pagerduty"),
            routing_key: Some(Secret(ROUTING_KEY.into())),
            retry,
        },
        NotifierConfig::Slack {
            name: "slack".into(),
            url: Secret(format!("{base}/slack")),
            retry,
        },
        hook("email"),
        hook("tickets"),
    ]
}

/// Records the request and answers as the service would: PagerDuty 202
/// with its `dedup_key`, Slack `ok`, the webhooks 200.
async fn receive(
    State(log): State<Log>,
    UrlPath(channel): UrlPath<String>,
    body: String,
) -> Response {
    if !CHANNELS.contains(&channel.as_str()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let dedup_key = body["dedup_key"].clone();
    // A routing key is a secret, even a demo's: the log keeps that there
    // was one, not which.
    if let Some(key) = body.get_mut("routing_key") {
        *key = json!("(redacted)");
    }
    let line = json!({
        "at": liveops_protocol::time::rfc3339(liveops_protocol::time::now_ms()),
        "channel": channel,
        "body": body,
    });
    let mut bytes = line.to_string().into_bytes();
    bytes.push(b'\n');
    {
        let mut f = log.0.lock().await;
        // A lost line only shortens the demo's record; the page was taken.
        let _ = f.write_all(&bytes).await;
        let _ = f.flush().await;
    }
    match channel.as_str() {
        "pagerduty" => (
            StatusCode::ACCEPTED,
            axum::Json(
                json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}),
            ),
        )
            .into_response(),
        "slack" => (StatusCode::OK, "ok").into_response(),
        _ => StatusCode::OK.into_response(),
    }
}

/// Where the receiver writes: `--pager-log`, else the data directory.
pub fn log_path(pager_log: Option<&Path>, data: &Path) -> PathBuf {
    pager_log.map_or_else(|| data.join("deliveries.jsonl"), Path::to_owned)
}
