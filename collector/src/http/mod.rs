//! The collector's HTTP part: one router that every subsystem plugs its
//! routes into, and the toolkit handlers share.
//!
//! - `error.rs`: [`AppError`], what a client is told.
//! - `extract.rs`: the caller behind a token, JSON bodies, names.
//! - `panic.rs`: a handler that panics answers 500 instead of dropping
//!   the connection.
//! - `reports.rs`: `POST /api/v1/reports`, read part by part.
//! - reads here: `GET /api/v1/slos`, `/api/v1/alerts`, `/api/v1/worlds`,
//!   `/metrics`, `/healthz`; runbooks in [`crate::runbooks`]; mitigations,
//!   overrides, their push stream and the audit log in
//!   [`crate::overrides::http`]; the chat bot's endpoints in
//!   [`crate::chat`] (verified by the platforms' signatures, not tokens).
//!
//! SLO, alert and world reads are open (the collector binds to loopback
//! unless told otherwise); everything that changes state needs a bearer
//! token with a role, and so does reading overrides and the audit log.
//!
//! A new subsystem adds a `routes() -> Router<Arc<Shared>>` of its own and
//! one `.merge` in [`router`]; it takes [`AppError`] and [`authorize`] from
//! here and imports nothing of the other subsystems.

mod error;
mod extract;
mod panic;
mod reports;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use liveops_protocol::report::REPORTS_PATH;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use error::AppError;
pub use extract::{authorize, blocking, json_body, valid_name};

use crate::state::Shared;
use crate::{now_ms, runbooks};

/// Largest report accepted. A report holds at most the agent's series limit
/// (10,000 by default) of small series; 8 MiB leaves room and stops abuse.
pub const MAX_REPORT_BYTES: usize = 8 << 20;
/// Largest body of any other request (operator commands are small).
pub const MAX_BODY_BYTES: usize = 64 << 10;

pub fn router(state: Arc<Shared>) -> Router {
    Router::new()
        .route(
            REPORTS_PATH,
            post(reports::post).layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)),
        )
        .route("/api/v1/slos", get(slos))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/worlds", get(worlds))
        .route("/runbooks/{name}", get(runbooks::serve))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .merge(crate::overrides::http::routes())
        .merge(crate::audit::http::routes())
        .merge(crate::oncall::http::routes())
        .merge(crate::paging::http::routes())
        .merge(crate::relay::http::routes())
        .merge(crate::incident::http::routes())
        .merge(crate::comms::http::routes())
        .merge(crate::public::http::routes())
        .merge(crate::chat::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            panic::catch,
        ))
        .with_state(state)
}

#[derive(Deserialize)]
struct Filter {
    world: Option<String>,
    slo: Option<String>,
}

#[derive(Serialize)]
struct SlosResponse {
    generated_at: String,
    slos: Vec<crate::slo::SloStatus>,
}

async fn slos(
    State(s): State<Arc<Shared>>,
    Query(f): Query<Filter>,
) -> Result<Json<SlosResponse>, AppError> {
    let mut slos = blocking(move || Ok::<_, AppError>(s.status())).await?;
    if let Some(w) = &f.world {
        let want = if w == "fleet" { None } else { Some(w.as_str()) };
        slos.retain(|st| st.world.as_deref() == want);
    }
    if let Some(name) = &f.slo {
        slos.retain(|st| &st.slo == name);
    }
    Ok(Json(SlosResponse {
        generated_at: crate::rfc3339(now_ms()),
        slos,
    }))
}

async fn alerts(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let mut alerts: Vec<serde_json::Value> = s.alerts().iter().map(|a| json!(a)).collect();
    // Silenced (or held back by maintenance or inhibition): still shown,
    // only not paged.
    if let Some(p) = s.pager() {
        p.read(|book| {
            for a in &mut alerts {
                let labels = serde_json::from_value(a["labels"].clone()).unwrap_or_default();
                let why = book.suppression(&labels);
                a["silenced"] = json!(why.is_some());
                if let Some(why) = why {
                    a["suppressed"] = json!(why);
                }
            }
        });
    } else {
        for a in &mut alerts {
            a["silenced"] = json!(false);
        }
    }
    Json(json!({ "alerts": alerts }))
}

async fn worlds(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({ "worlds": s.worlds() }))
}

/// Up, and how the hot-reloaded files stand: a refused `oncall.toml` or
/// `paging.toml` shows here with its error while the last good one pages.
async fn healthz(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "config": s.config_files.status()}))
}

async fn metrics(State(s): State<Arc<Shared>>) -> Result<impl IntoResponse, AppError> {
    // A scrape of a large fleet is seconds of CPU: it takes what the
    // reports leave.
    let text = crate::background::run("scrape", move || {
        crate::background::lower_priority(crate::background::READS_STATE);
        s.render_metrics()
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
