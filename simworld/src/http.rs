//! The game side of the liveops HTTP contract.
//!
//! - `GET /liveops/v1/health`: 200 `{"status":"ok","world":..,"tick":N,"players_online":..}`,
//!   or 503 with `"status":"down"`. The agent probes it; note that it answers
//!   from the HTTP runtime, not the game loop, so a healthy answer does not
//!   prove the world is ticking (see [`Fault::TickStall`]).
//! - `POST /liveops/v1/banner` `{text, incident, state, link}`: show players
//!   an in-game banner (204; 400 when empty or over 1,000 characters);
//!   `GET` reads it back, and the health answer carries its text.
//! - `GET /liveops/v1/admin/fault`: `{"fault":"error-burst"}` or `{"fault":null}`.
//! - `PUT /liveops/v1/admin/fault` with the same body sets or clears the fault
//!   and answers with the new state.
//! - `GET /liveops/v1/state[?kind=K][&owner=O…][&id=I…]`: the world's
//!   persistent state as `application/x-ndjson`, one entity a line, streamed
//!   in chunks of about 1,024 entities (never built whole in memory), in key
//!   order: accounts, players, villages, each by id number. `kind`
//!   (`account`, `player` or `village`; anything else is a 400 naming it)
//!   narrows the listing; `owner` and `id` repeat, and an entity is listed
//!   when its owner is one of the owners or its id one of the ids. An
//!   `owner` listing reads an owner index, not the whole world. Values are
//!   taken as written: `%` and `+` are refused (400), ids never need them.
//!   A URI holds at most 64 KiB (about 4,000 owners; longer is a 414), so
//!   `POST /liveops/v1/state` with the query string as its body (2 MiB at
//!   most) answers the same listing for larger selections.
//! - `POST /liveops/v1/state/restore` with NDJSON (64 MiB at most, 413
//!   beyond): each line a whole entity, written back and created if absent,
//!   or a deletion `{"kind":"village","id":"v3","deleted":true}`. Each line
//!   is checked on its own, the good ones applied, and the answer says which:
//!   `{"applied":N,"failed":M,"results":[{"line":1,"kind":"village","id":"v3","ok":true},
//!   {"line":2,"ok":false,"error":"line 2: …"}]}`. Blank lines are skipped
//!   (but counted in line numbers). The same body twice gives the same state.
//!
//! The entities (their `data` fields are exact; an unknown one is refused):
//!
//! ```text
//! {"kind":"account","id":"a17","data":{"gems":120,"premium":false}}
//! {"kind":"player","id":"p17","owner":"a17","data":{"name":"player-17","level":3,"villages":["v34","v35"]}}
//! {"kind":"village","id":"v34","owner":"p17","data":{"name":"village-34",
//!   "resources":{"gold":1200,"wood":800,"stone":640,"food":900},
//!   "buildings":{"town_hall":3,"barracks":2,"farm":4,"wall":1},
//!   "army":{"spearmen":40,"archers":25,"cavalry":5},"last_trade":{"with":"v90","tick":123}}}
//! ```
//!
//! (one line each; `last_trade` is left out until a village has traded).
//!
//! None of these endpoints has authentication yet: the fault endpoint
//! switches faults, and the state endpoints read and overwrite every
//! player's belongings. The listener must be bound to loopback, where only
//! the sidecar agent and the operator's own tools can reach it.

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
use crate::state;

/// Path of the fault admin endpoint, relative to the world's base URL.
pub const FAULT_PATH: &str = "/liveops/v1/admin/fault";
/// Path of the state listing, relative to the world's base URL.
pub const STATE_PATH: &str = "/liveops/v1/state";
/// Path of the state restore, relative to the world's base URL.
pub const RESTORE_PATH: &str = "/liveops/v1/state/restore";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(HEALTH_PATH, get(health))
        .route(FAULT_PATH, get(get_fault).put(put_fault))
        .merge(state::http::routes())
        .merge(crate::banner::routes())
        .with_state(shared)
}

#[derive(Serialize)]
struct HealthBody<'a> {
    status: &'static str,
    world: &'a str,
    tick: u64,
    players_online: u32,
    /// The in-game banner showing, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    banner: Option<String>,
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
        banner: shared.banner.get().map(|b| b.text),
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
