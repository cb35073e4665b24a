//! The collector's HTTP API.
//!
//! - `POST /api/v1/reports` — agents (role `agent`), JSON [`Report`].
//! - `GET /api/v1/slos` — SLO status per world and fleet-wide.
//! - `GET /api/v1/alerts` — firing alerts.
//! - `GET /api/v1/worlds` — what the collector knows of each world now.
//! - `GET /metrics`, `GET /healthz`.
//! - mitigations, overrides, their push stream and the audit log: see
//!   [`crate::overrides::http`].
//!
//! SLO, alert and world reads are open (the collector binds to loopback
//! unless told otherwise); everything that changes state needs a bearer
//! token with a role, and so does reading overrides and the audit log.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use liveops_config::Role;
use liveops_protocol::Report;
use liveops_protocol::report::{REPORTS_PATH, ReportAck};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{AuthError, Caller};
use crate::state::{Accepted, Shared};
use crate::{now_ms, runbooks};

/// Largest report accepted. A report holds at most the agent's series limit
/// (10,000 by default) of small series; 8 MiB leaves room and stops abuse.
pub const MAX_REPORT_BYTES: usize = 8 << 20;

pub fn router(state: Arc<Shared>) -> Router {
    Router::new()
        .route(
            REPORTS_PATH,
            post(report).layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)),
        )
        .route("/api/v1/slos", get(slos))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/worlds", get(worlds))
        .route("/runbooks/{name}", get(runbooks::serve))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .merge(crate::overrides::http::routes())
        .layer(DefaultBodyLimit::max(64 << 10))
        .with_state(state)
}

/// Errors as the client sees them: what was wrong with its request, never
/// internal detail (which is logged instead).
#[derive(Debug)]
pub enum AppError {
    BadRequest(String),
    Unauthorized,
    Forbidden(String),
    NotFound(String),
    Internal(String),
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated => AppError::Unauthorized,
            AuthError::Forbidden { have, need } => AppError::Forbidden(format!(
                "this needs role `{}`; the token has `{}`",
                need.as_str(),
                have.as_str()
            )),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "a valid bearer token is required".to_owned(),
            ),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; see the collector's log".to_owned(),
                )
            }
        };
        let mut resp = (status, Json(json!({ "error": msg }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// The caller behind the request's bearer token, if its role allows `need`.
pub fn authorize(s: &Shared, headers: &HeaderMap, need: Role) -> Result<Caller, AppError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    Ok(s.tokens.check(auth, need)?)
}

/// Decodes a JSON request body; what is wrong goes back to the client.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("invalid request body: {e}")))
}

/// A world (or other label) name: 1–64 letters, digits, `-`, `_`, `.`.
pub fn valid_name(n: &str, what: &str) -> Result<(), AppError> {
    liveops_protocol::name::check(n, what).map_err(AppError::BadRequest)
}

async fn report(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ReportAck>, AppError> {
    let started = Instant::now();
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    s.tokens.check(auth, Role::Agent).inspect_err(|e| {
        let reason = if *e == AuthError::Unauthenticated {
            "unauthenticated"
        } else {
            "forbidden"
        };
        s.metrics.rejected(reason);
    })?;
    let report: Report = serde_json::from_slice(&body).map_err(|e| {
        s.metrics.rejected("malformed");
        AppError::BadRequest(format!("not a report: {e}"))
    })?;
    if let Err(e) = check(&report) {
        s.metrics.rejected("invalid");
        return Err(e);
    }
    let outcome = s
        .accept(&report)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let duplicate = outcome == Accepted::Duplicate;
    let seq = report.seq;
    // Also for a duplicate: the audit log keeps its own record of which
    // reports it holds, so a replay after a crash between journal and
    // audit is recorded once, and a plain replay not again.
    if !report.flag_reloads.is_empty() {
        let shared = s.clone();
        tokio::task::spawn_blocking(move || shared.audit.record_reloads(&shared.store, &report))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    if let Accepted::New(position) = outcome {
        s.store
            .durable(position)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    if duplicate {
        s.metrics.duplicates.increment(1);
    } else {
        s.metrics.reports.increment(1);
    }
    s.metrics
        .report_latency
        .record(started.elapsed().as_secs_f64());
    Ok(Json(ReportAck {
        seq,
        duplicate,
        refused: vec![],
    }))
}

/// Checks a report's shape beyond what JSON decoding does.
fn check(r: &Report) -> Result<(), AppError> {
    valid_name(&r.world, "world")?;
    let bad = |why: String| Err(AppError::BadRequest(why));
    if r.agent.is_empty() || r.agent.len() > 128 {
        return bad("agent id must be 1–128 characters".into());
    }
    if r.end_ms < r.start_ms {
        return bad("end_ms is before start_ms".into());
    }
    if r.end_ms > now_ms() + 5 * 60_000 {
        return bad("end_ms is more than 5 minutes in the future: check the agent's clock".into());
    }
    if let Some(h) = r.histograms.iter().find(|h| !h.histogram.is_well_formed()) {
        return bad(format!(
            "histogram `{}` has a bucket layout this collector does not use",
            h.name
        ));
    }
    Ok(())
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

async fn slos(State(s): State<Arc<Shared>>, Query(f): Query<Filter>) -> Json<SlosResponse> {
    let mut slos = s.status();
    if let Some(w) = &f.world {
        let want = if w == "fleet" { None } else { Some(w.as_str()) };
        slos.retain(|st| st.world.as_deref() == want);
    }
    if let Some(name) = &f.slo {
        slos.retain(|st| &st.slo == name);
    }
    Json(SlosResponse {
        generated_at: crate::rfc3339(now_ms()),
        slos,
    })
}

async fn alerts(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({ "alerts": s.alerts() }))
}

async fn worlds(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({ "worlds": s.worlds() }))
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.render_metrics(),
    )
}
