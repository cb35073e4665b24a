//! The agent's HTTP surface: `/metrics` for Prometheus, `/healthz` for
//! whoever runs the sidecar (Kubernetes probes, the operator), and the flag
//! endpoints for the game (see [`crate::flags::routes`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::sync::watch;

use crate::flags::{Flags, FlagsStatus};
use crate::health::HealthHandle;
use crate::ingest::Shared;
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
        .with_state(state)
        .merge(flags)
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
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
    /// The flag file: a broken one shows here (the agent keeps serving the
    /// last good flags, so it stays healthy).
    flags: FlagsStatus,
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
        flags: s.flags.status(),
    })
}
