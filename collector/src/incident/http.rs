//! - `GET /api/v1/incidents`, `GET /api/v1/incidents/{id}` (role `viewer`:
//!   the timeline holds internal notes);
//! - `POST /api/v1/incidents` `{title, worlds?, sev?}` (role `responder`);
//! - `POST /api/v1/incidents/{id}/status` `{state, note?}`,
//!   `/assign` `{role, person}`, `/notes` `{text, kind?}`,
//!   `/severity` `{sev, reason}` (role `responder`).
//!
//! `{id}` is `INC-7` or `7`. Every change is audited before it counts.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use liveops_config::Role as TokenRole;
use serde::Deserialize;
use serde_json::{Value, json};

use super::book::{Draft, IncidentError};
use super::model::{Incident, NoteKind, Role, Sev, State as Lifecycle, parse_id};
use super::service::{Change, ChangeError};
use crate::http::{AppError, authorize, blocking, json_body};
use crate::now_ms;
use crate::state::Shared;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/incidents", get(list).post(open))
        .route("/api/v1/incidents/{id}", get(show))
        .route("/api/v1/incidents/{id}/status", post(status))
        .route("/api/v1/incidents/{id}/assign", post(assign))
        .route("/api/v1/incidents/{id}/notes", post(note))
        .route("/api/v1/incidents/{id}/severity", post(severity))
        .merge(super::http_actions::routes())
}

impl From<ChangeError> for AppError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Collector(e) => e.into(),
            ChangeError::Refused(e) => match e {
                IncidentError::Unknown(_) | IncidentError::UnknownAction(_) => {
                    AppError::NotFound(e.to_string())
                }
                IncidentError::Final { .. }
                | IncidentError::ActionDone(_)
                | IncidentError::NoChange { .. }
                | IncidentError::BackNeedsReason { .. } => AppError::Conflict(e.to_string()),
                _ => AppError::BadRequest(e.to_string()),
            },
        }
    }
}

pub(crate) fn id_of(s: &str) -> Result<u64, AppError> {
    parse_id(s).ok_or_else(|| AppError::NotFound(format!("no incident {s:?}: ids look like INC-7")))
}

/// What a list shows of each incident.
fn summary(i: &Incident) -> Value {
    json!({
        "id": i.name(),
        "title": i.title,
        "state": i.state,
        "severity": i.severity.current(),
        "worlds": i.worlds,
        "opened_at": crate::rfc3339(i.opened_ms),
        "roles": i.roles,
    })
}

fn full(i: &Incident) -> Value {
    let mut v = json!(i);
    v["id"] = json!(i.name());
    v["severity"]["current"] = json!(i.severity.current());
    let t = super::response::times(i);
    let seconds: serde_json::Map<String, Value> = t
        .seconds()
        .into_iter()
        .map(|(phase, s)| (format!("{phase}_seconds"), json!(s)))
        .collect();
    v["response"] = json!(t);
    if let Some(r) = v["response"].as_object_mut() {
        r.extend(seconds);
    }
    v
}

async fn list(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, TokenRole::Viewer)?;
    let all: Vec<Value> = s.incidents.read(|b| b.list().map(summary).collect());
    Ok(Json(json!({ "incidents": all })))
}

async fn show(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, TokenRole::Viewer)?;
    let n = id_of(&id)?;
    s.incidents
        .read(|b| b.get(n).map(full))
        .map(Json)
        .ok_or_else(|| AppError::NotFound(IncidentError::Unknown(n).to_string()))
}

/// Authorizes, then runs one change of the book off the async threads
/// (the audit log fsyncs); answers with the incident.
async fn change(
    s: Arc<Shared>,
    headers: &HeaderMap,
    what: &'static str,
    reason: String,
    existing: Option<u64>,
    f: impl FnOnce(&mut super::Book, &str, u64) -> Result<u64, IncidentError> + Send + 'static,
) -> Result<Json<Value>, AppError> {
    let inc = apply(s, headers, what, reason, existing, f).await?;
    Ok(Json(full(&inc)))
}

/// [`change`], returning the incident changed.
pub(crate) async fn apply(
    s: Arc<Shared>,
    headers: &HeaderMap,
    what: &'static str,
    reason: String,
    existing: Option<u64>,
    f: impl FnOnce(&mut super::Book, &str, u64) -> Result<u64, IncidentError> + Send + 'static,
) -> Result<Incident, AppError> {
    let caller = authorize(&s.tokens, headers, TokenRole::Responder)?;
    blocking(move || {
        let c = Change {
            by: &caller,
            what,
            reason: &reason,
        };
        s.incidents
            .change(&s.events, &c, existing, |b| f(b, &caller.name, now_ms()))
    })
    .await
}

async fn open(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let draft: Draft = json_body(&body)?;
    let reason = draft.title.clone();
    change(s, &headers, "open", reason, None, move |b, by, now| {
        b.open(&draft, by, now).map(|i| i.id)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    state: String,
    #[serde(default)]
    note: String,
}

async fn status(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let n = id_of(&id)?;
    let req: StatusBody = json_body(&body)?;
    let to = Lifecycle::parse(&req.state).ok_or_else(|| {
        let all: Vec<&str> = Lifecycle::ALL.iter().map(|s| s.as_str()).collect();
        AppError::BadRequest(format!(
            "unknown state {:?}: one of {}",
            req.state,
            all.join(", ")
        ))
    })?;
    let note = req.note.clone();
    change(s, &headers, "status", note, Some(n), move |b, by, now| {
        b.status(n, to, &req.note, by, now).map(|i| i.id)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    role: String,
    person: String,
}

async fn assign(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let n = id_of(&id)?;
    let req: AssignBody = json_body(&body)?;
    let role = Role::parse(&req.role).ok_or_else(|| {
        AppError::BadRequest(format!(
            "unknown role {:?}: commander, comms or scribe",
            req.role
        ))
    })?;
    let reason = format!("{} → {}", req.role, req.person);
    change(s, &headers, "assign", reason, Some(n), move |b, by, now| {
        b.assign(n, role, &req.person, by, now).map(|i| i.id)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
    #[serde(default)]
    kind: Option<String>,
}

async fn note(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let n = id_of(&id)?;
    let req: NoteBody = json_body(&body)?;
    let kind = match req.kind.as_deref() {
        None => NoteKind::Observation,
        Some(k) => NoteKind::parse(k).ok_or_else(|| {
            AppError::BadRequest(format!(
                "unknown note kind {k:?}: observation, decision or link"
            ))
        })?,
    };
    let reason = req.text.clone();
    change(s, &headers, "note", reason, Some(n), move |b, by, now| {
        b.note(n, kind, &req.text, by, now).map(|i| i.id)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeverityBody {
    sev: String,
    reason: String,
}

async fn severity(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let n = id_of(&id)?;
    let req: SeverityBody = json_body(&body)?;
    let sev = Sev::parse(&req.sev).ok_or_else(|| {
        AppError::BadRequest(format!("unknown severity {:?}: SEV1 to SEV4", req.sev))
    })?;
    let reason = req.reason.clone();
    change(
        s,
        &headers,
        "severity",
        reason,
        Some(n),
        move |b, by, now| b.set_severity(n, sev, &req.reason, by, now).map(|i| i.id),
    )
    .await
}
