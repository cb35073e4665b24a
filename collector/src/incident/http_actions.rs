//! Action items and postmortems over HTTP:
//!
//! - `POST /api/v1/incidents/{id}/actions` `{title, owner, due}` (role
//!   `responder`; `due` a date, `2026-12-18`, due by its end UTC, or an
//!   RFC 3339 instant);
//! - `GET /api/v1/actions[?overdue=true][&owner=P]` (role `viewer`);
//! - `POST /api/v1/actions/{id}/done` `{note}` (role `responder`);
//! - `GET /api/v1/incidents/{id}/postmortem[?format=md|json]` (role
//!   `viewer`: it holds the internal timeline).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use liveops_config::Role as TokenRole;
use serde::Deserialize;
use serde_json::{Value, json};

use super::actions::{ActionItem, parse_action_id};
use super::book::IncidentError;
use super::http::{apply, id_of};
use super::model::Incident;
use super::postmortem;
use crate::http::{AppError, authorize, json_body};
use crate::now_ms;
use crate::state::Shared;

const DAY_MS: u64 = 86_400_000;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/incidents/{id}/actions", post(add))
        .route("/api/v1/incidents/{id}/postmortem", get(export))
        .route("/api/v1/actions", get(list))
        .route("/api/v1/actions/{id}/done", post(done))
}

/// `2026-12-18` (due by the end of that day, UTC) or an RFC 3339 instant.
pub fn parse_due(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(ms) = liveops_protocol::time::parse_rfc3339(s) {
        return Some(ms);
    }
    let is_date = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    let start =
        liveops_protocol::time::parse_rfc3339(&format!("{s}T00:00:00Z")).filter(|_| is_date)?;
    Some(start + DAY_MS - 1)
}

fn item(inc: &Incident, a: &ActionItem, now: u64) -> Value {
    json!({
        "id": a.name(),
        "incident": inc.name(),
        "incident_title": inc.title,
        "title": a.title,
        "owner": a.owner,
        "due": crate::rfc3339(a.due_ms),
        "added_by": a.added_by,
        "done": a.done,
        "overdue": a.is_overdue(now),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    title: String,
    owner: String,
    due: String,
}

async fn add(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let n = id_of(&id)?;
    let req: AddBody = json_body(&body)?;
    let due = parse_due(&req.due).ok_or_else(|| {
        AppError::BadRequest(format!(
            "due {:?} is not a date: 2026-12-18 (due by its end, UTC) or an RFC 3339 time",
            req.due
        ))
    })?;
    let reason = format!("action item: {}", req.title);
    let inc = apply(
        s,
        &headers,
        "action-add",
        reason,
        Some(n),
        move |b, by, now| {
            b.add_action(n, &req.title, &req.owner, due, by, now)
                .map(|_| n)
        },
    )
    .await?;
    let a = inc
        .actions
        .last()
        .ok_or_else(|| AppError::Internal("action item not kept".into()))?;
    Ok(Json(item(&inc, a, now_ms())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoneBody {
    note: String,
}

async fn done(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let a = parse_action_id(&id)
        .ok_or_else(|| AppError::NotFound(format!("no action item {id:?}: ids look like A-7")))?;
    let req: DoneBody = json_body(&body)?;
    let n = s
        .incidents
        .read(|b| b.action_incident(a))
        .ok_or_else(|| AppError::NotFound(IncidentError::UnknownAction(a).to_string()))?;
    let reason = req.note.clone();
    let inc = apply(
        s,
        &headers,
        "action-done",
        reason,
        Some(n),
        move |b, by, now| b.done_action(a, &req.note, by, now),
    )
    .await?;
    let it = inc.actions.iter().find(|x| x.id == a);
    let it = it.ok_or_else(|| AppError::Internal("action item lost".into()))?;
    Ok(Json(item(&inc, it, now_ms())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    overdue: bool,
    owner: Option<String>,
}

async fn list(
    State(s): State<Arc<Shared>>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, TokenRole::Viewer)?;
    let now = now_ms();
    let all: Vec<Value> = s.incidents.read(|b| {
        b.actions()
            .into_iter()
            .filter(|(_, a)| !q.overdue || a.is_overdue(now))
            .filter(|(_, a)| q.owner.as_ref().is_none_or(|o| *o == a.owner))
            .map(|(i, a)| item(i, a, now))
            .collect()
    });
    let overdue = all.iter().filter(|a| a["overdue"] == true).count();
    Ok(Json(json!({ "actions": all, "overdue": overdue })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    format: Option<String>,
}

async fn export(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    authorize(&s.tokens, &headers, TokenRole::Viewer)?;
    let n = id_of(&id)?;
    let url = s.cfg.public_url.clone().unwrap_or_default();
    let doc = s
        .incidents
        .read(|b| b.get(n).map(|i| postmortem::document(i, &url, now_ms())))
        .ok_or_else(|| AppError::NotFound(IncidentError::Unknown(n).to_string()))?;
    match q.format.as_deref().unwrap_or("md") {
        "json" => Ok(Json(doc).into_response()),
        "md" | "markdown" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            postmortem::markdown(&doc),
        )
            .into_response()),
        other => Err(AppError::BadRequest(format!(
            "unknown format {other:?}: md or json"
        ))),
    }
}
