//! The paging API. Reads need role `viewer` (pages name people); changes
//! need `responder` and a non-empty `reason`, checked here and not only by
//! the CLI, since anyone can call the API.
//!
//! - `GET /api/v1/pages[?open=true]`, `GET /api/v1/pages/{id}`: state,
//!   alerts, every delivery (who, when, which channel, outcome), who acked
//! - `POST /api/v1/pages/{id}/ack`, `/resolve` `{reason}`
//! - `GET /api/v1/silences`, `POST /api/v1/silences`
//!   `{matchers: {label: value}, duration: "2h", reason}`,
//!   `POST /api/v1/silences/{id}/expire` `{reason}`
//! - `POST /api/v1/alertmanager`: see [`super::alertmanager`]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use liveops_config::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use super::book::{Actor, Input, Page, PageError};
use super::silence::SilenceDraft;
use super::{Pager, PagingError};
use crate::http::{AppError, authorize, blocking, json_body, valid_name};
use crate::state::Shared;

/// Longest silence: a forgotten one must not hide pages for good.
const MAX_SILENCE_MS: u64 = 30 * 24 * 3_600_000;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/pages", get(list))
        .route("/api/v1/pages/{id}", get(one))
        .route("/api/v1/pages/{id}/ack", post(ack))
        .route("/api/v1/pages/{id}/resolve", post(resolve))
        .route("/api/v1/silences", get(silences).post(add_silence))
        .route("/api/v1/silences/{id}/expire", post(expire))
        .route(
            "/api/v1/alertmanager",
            post(super::alertmanager::receive)
                .layer(DefaultBodyLimit::max(super::alertmanager::MAX_BYTES)),
        )
}

impl From<PagingError> for AppError {
    fn from(e: PagingError) -> Self {
        match e {
            PagingError::Page(PageError::NotFound(m)) => AppError::NotFound(m),
            PagingError::Page(PageError::Conflict(m)) => AppError::Conflict(m),
            PagingError::Collector(e) => AppError::from(e),
        }
    }
}

pub(super) fn pager(s: &Shared) -> Result<Arc<Pager>, AppError> {
    s.pager().cloned().ok_or_else(|| {
        AppError::NotFound(
            "this collector has no paging policy: set [collector] paging = \"paging.toml\"".into(),
        )
    })
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceBody {
    matchers: BTreeMap<String, String>,
    duration: String,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct OpenFilter {
    #[serde(default)]
    open: bool,
}

fn reason(r: Option<String>) -> Result<String, AppError> {
    match r.map(|r| r.trim().to_owned()) {
        Some(r) if !r.is_empty() => Ok(r),
        _ => Err(AppError::BadRequest(
            "a `reason` is required: it goes into the audit log".into(),
        )),
    }
}

fn reason_body(body: &[u8]) -> Result<String, AppError> {
    // No body at all is a missing reason, said as such.
    let b: ReasonBody = if body.is_empty() {
        ReasonBody::default()
    } else {
        json_body(body)?
    };
    reason(b.reason)
}

fn view(p: &Page, public_url: &str) -> Value {
    let mut v = json!(p);
    v["url"] = json!(format!("{public_url}/api/v1/pages/{}", p.id));
    v
}

async fn list(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(f): Query<OpenFilter>,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, Role::Viewer)?;
    let url = s.config().public_url.clone().unwrap_or_default();
    let pages = pager(&s)?.read(|b| {
        b.pages()
            .filter(|p| !f.open || p.is_open())
            .map(|p| view(p, &url))
            .collect::<Vec<_>>()
    });
    Ok(Json(json!({ "pages": pages })))
}

async fn one(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, Role::Viewer)?;
    let url = s.config().public_url.clone().unwrap_or_default();
    pager(&s)?
        .read(|b| b.page(&id).map(|p| view(p, &url)))
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no page `{id}`")))
}

async fn change(s: Arc<Shared>, input: Input) -> Result<super::book::Effects, AppError> {
    let p = pager(&s)?;
    blocking(move || p.handle(&s.events, input, crate::now_ms())).await
}

fn actor(c: crate::auth::Caller) -> Actor {
    Actor {
        name: c.name,
        role: c.role.as_str().to_owned(),
    }
}

async fn ack(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    settle(s, headers, id, body, |id, actor, reason| Input::Ack {
        id,
        actor,
        reason,
    })
    .await
}

async fn resolve(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    settle(s, headers, id, body, |id, actor, reason| Input::Resolve {
        id,
        actor,
        reason,
    })
    .await
}

/// Ack and resolve: a responder's change to one page, with a reason; the
/// answer is the page as it now is.
async fn settle(
    s: Arc<Shared>,
    headers: HeaderMap,
    id: String,
    body: Bytes,
    input: impl FnOnce(String, Actor, String) -> Input,
) -> Result<Json<Value>, AppError> {
    let actor = actor(authorize(&s.tokens, &headers, Role::Responder)?);
    let reason = reason_body(&body)?;
    change(s.clone(), input(id.clone(), actor, reason)).await?;
    one(State(s), headers, Path(id)).await
}

async fn silences(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, Role::Viewer)?;
    let now = crate::now_ms();
    let list = pager(&s)?.read(|b| {
        b.silences()
            .map(|x| {
                let mut v = json!(x);
                v["active"] = json!(x.active(now));
                v
            })
            .collect::<Vec<_>>()
    });
    Ok(Json(json!({ "silences": list })))
}

async fn add_silence(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let actor = actor(authorize(&s.tokens, &headers, Role::Responder)?);
    let b: SilenceBody = json_body(&body)?;
    let reason = reason(b.reason)?;
    if b.matchers.is_empty() {
        return Err(AppError::BadRequest(
            "`matchers` is empty: a silence of everything would hide every page".into(),
        ));
    }
    for k in b.matchers.keys() {
        valid_name(k, "label")?;
    }
    let duration = humantime::parse_duration(&b.duration)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
        .filter(|d| *d > 0 && *d <= MAX_SILENCE_MS)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "`duration`: `{}` is not a duration between 1ms and 30 days, e.g. \"2h\"",
                b.duration
            ))
        })?;
    let draft = SilenceDraft {
        matchers: b.matchers,
        duration_ms: duration,
        reason,
    };
    let fx = change(s, Input::Silence { draft, actor }).await?;
    Ok((StatusCode::CREATED, Json(json!(fx.silence))))
}

async fn expire(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let actor = actor(authorize(&s.tokens, &headers, Role::Responder)?);
    let reason = reason_body(&body)?;
    let fx = change(s, Input::Expire { id, actor, reason }).await?;
    Ok(Json(json!(fx.silence)))
}
