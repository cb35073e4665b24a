//! The game side of the liveops HTTP contract.
//!
//! - `GET /liveops/v1/health`: 200 `{"status":"ok","world":..,"tick":N,"players_online":..}`,
//!   or 503 with `"status":"down"`. The agent probes it; note that it answers
//!   from the HTTP runtime, not the game loop, so a healthy answer does not
//!   prove the world is ticking (see [`Fault::TickStall`]).
//! - `GET /liveops/v1/admin/fault`: `{"fault":"error-burst"}` or `{"fault":null}`.
//! - `PUT /liveops/v1/admin/fault` with the same body sets or clears the fault
//!   and answers with the new state.
//!
//! The admin endpoint has no authentication yet, so the listener must be
//! bound to loopback, where only the sidecar agent and the operator's own
//! tools can reach it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use liveops_client::signal::HEALTH_PATH;
use serde::{Deserialize, Serialize};

use crate::Fault;
use crate::Shared;

/// Path of the fault admin endpoint, relative to the world's base URL.
pub const FAULT_PATH: &str = "/liveops/v1/admin/fault";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(HEALTH_PATH, get(health))
        .route(FAULT_PATH, get(get_fault).put(put_fault))
        .with_state(shared)
}

#[derive(Serialize)]
struct HealthBody<'a> {
    status: &'static str,
    world: &'a str,
    tick: u64,
    players_online: u32,
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let (code, status) = if shared.fault.get() == Some(Fault::Down) {
        (StatusCode::SERVICE_UNAVAILABLE, "down")
    } else {
        (StatusCode::OK, "ok")
    };
    let body = HealthBody {
        status,
        world: &shared.name,
        tick: shared.ticks.load(Ordering::Relaxed),
        players_online: shared.players_online.load(Ordering::Relaxed),
    };
    (code, Json(body)).into_response()
}

/// Body of both fault requests. `{}` counts as `{"fault":null}`; unknown
/// fields are refused so that a typo cannot silently clear a fault.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    fault: Option<Fault>,
}

async fn get_fault(State(shared): State<Arc<Shared>>) -> Json<FaultBody> {
    Json(FaultBody {
        fault: shared.fault.get(),
    })
}

/// A malformed body or unknown fault name is refused by the `Json`
/// extractor with 4xx and a message naming the problem (for a name, the
/// list of valid ones, from [`crate::faults::ParseFaultError`]).
async fn put_fault(
    State(shared): State<Arc<Shared>>,
    Json(body): Json<FaultBody>,
) -> Json<FaultBody> {
    shared.set_fault(body.fault);
    Json(body)
}
