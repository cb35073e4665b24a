//! The audit log's routes:
//!
//! - `GET /api/v1/audit` (role `viewer`): every entry and the head.
//! - `POST /api/v1/audit/reseal` `{reason}` (role `admin`): after the log
//!   was replaced or edited, keep the damaged file aside and start a new
//!   file that continues the recorded chain (see `reseal.rs`). 409 when
//!   the log is intact.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use liveops_config::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{AppError, authorize, blocking, json_body};
use crate::state::Shared;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/audit", get(read))
        .route("/api/v1/audit/reseal", post(reseal))
}

async fn read(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, Role::Viewer)?;
    let shared = s.clone();
    let (entries, head) = blocking(move || shared.audit.read()).await?;
    let broken = s.audit.check();
    Ok(Json(
        json!({ "entries": entries, "head": head, "broken": broken }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResealBody {
    reason: Option<String>,
}

async fn reseal(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let caller = authorize(&s.tokens, &headers, Role::Admin)?;
    let b: ResealBody = json_body(&body)?;
    let reason = b
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| AppError::BadRequest("a reason is required".into()))?;
    let shared = s.clone();
    let entry = blocking(move || shared.audit.reseal(&shared.store, &caller, &reason)).await?;
    match entry {
        Some(e) => Ok((StatusCode::CREATED, Json(json!(e)))),
        None => Err(AppError::Conflict(
            "the audit log is intact: there is nothing to reseal".into(),
        )),
    }
}
