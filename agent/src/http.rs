//! The agent's HTTP surface: `/metrics` for Prometheus, `/healthz` for
//! whoever runs the sidecar (Kubernetes probes, the operator), the reports
//! the collector would not take (`/liveops/v1/dead-letters`, read by
//! `liveops agent dead-letters`), and the flag endpoints for the game (see
//! [`crate::flags::routes`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use liveops_protocol::time::rfc3339;
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use crate::flags::{Flags, FlagsStatus};
use crate::health::HealthHandle;
use crate::ingest::Shared;
use crate::report::dead::DeadLetter;
use crate::report::spool::Spool;
use crate::telemetry::AgentMetrics;

#[derive(Clone)]
pub struct AppState {
    pub world: String,
    pub agent_id: String,
    pub metrics: Arc<AgentMetrics>,
    pub ingest: Arc<Shared>,
    pub spool: Arc<Spool>,
    pub health: HealthHandle,
    /// The bound DogStatsD UDP address, to read its kernel drop count.
    pub statsd_udp: Option<std::net::SocketAddr>,
    pub flags: Arc<Flags>,
}

/// `stop` ends long-lived responses (the flag change stream) at shutdown.
pub fn router(state: AppState, stop: watch::Receiver<bool>) -> Router {
    let flags = crate::flags::routes::router(state.flags.clone(), stop);
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route(DEAD_LETTERS_PATH, get(dead_letters))
        .with_state(state)
        .merge(flags)
}

/// The agent's dead letters, as JSON; `?body=true` includes each report.
pub const DEAD_LETTERS_PATH: &str = "/liveops/v1/dead-letters";

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    s.metrics.dead_letters.set(s.spool.dead().len() as f64);
    let body = s.metrics.render(&s.ingest.stats, s.statsd_udp);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

#[derive(Serialize)]
struct Healthz {
    /// The agent itself is running; the world's state is in `world_up`.
    status: &'static str,
    world: String,
    agent: String,
    world_up: bool,
    probe_ok: bool,
    tick_stalled: bool,
    spooled_reports: u64,
    /// Reports the collector would not take, kept aside.
    dead_letters: DeadLettersStatus,
    /// The flag file: a broken one shows here (the agent keeps serving the
    /// last good flags, so it stays healthy).
    flags: FlagsStatus,
}

#[derive(Serialize)]
struct DeadLettersStatus {
    count: u64,
    /// The newest one, to see at a glance whether it is an old story.
    #[serde(skip_serializing_if = "Option::is_none")]
    newest: Option<DeadLetterView>,
}

/// A dead letter as shown to operators.
#[derive(Serialize)]
struct DeadLetterView {
    seq: u64,
    /// When it was dead-lettered, RFC 3339.
    at: String,
    at_ms: u64,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    /// The last error: why the collector would not take it.
    reason: String,
    /// The report, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<serde_json::Value>,
}

impl DeadLetterView {
    fn new(d: DeadLetter, with_body: bool) -> Self {
        let body = with_body.then(|| {
            // The body is the report as it was encoded: JSON, unless the
            // tree holds something else, which is then shown as text.
            serde_json::from_str(&d.body).unwrap_or(serde_json::Value::String(d.body))
        });
        Self {
            seq: d.seq,
            at: rfc3339(d.dead_at_ms),
            at_ms: d.dead_at_ms,
            attempts: d.attempts,
            status: d.status,
            reason: d.error,
            body,
        }
    }
}

async fn dead_letters(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let with_body = match query.get("body").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            let error = format!("query parameter body must be true or false, not {other:?}");
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
        }
    };
    match s.spool.dead().list() {
        Ok(list) => {
            let letters: Vec<_> = list
                .into_iter()
                .map(|d| DeadLetterView::new(d, with_body))
                .collect();
            Json(json!({ "count": letters.len(), "dead_letters": letters })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the dead letters");
            let error = "cannot read the dead letters; see the agent's log";
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": error })),
            )
                .into_response()
        }
    }
}

async fn healthz(State(s): State<AppState>) -> Json<Healthz> {
    let (up, probe_ok, stalled) = {
        let m = s.health.monitor.lock().unwrap_or_else(|p| p.into_inner());
        (m.up(), m.probe_ok(), m.stalled())
    };
    Json(Healthz {
        status: "ok",
        world: s.world.clone(),
        agent: s.agent_id.clone(),
        world_up: up,
        probe_ok,
        tick_stalled: stalled,
        spooled_reports: s.spool.len(),
        dead_letters: DeadLettersStatus {
            count: s.spool.dead().len(),
            newest: s
                .spool
                .dead()
                .newest()
                .inspect_err(|e| tracing::error!(error = %e, "cannot read the dead letters"))
                .ok()
                .flatten()
                .map(|d| DeadLetterView::new(d, false)),
        },
        flags: s.flags.status(),
    })
}
