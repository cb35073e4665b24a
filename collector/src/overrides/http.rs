//! The mitigation, override and audit API. Reads need role `viewer`;
//! changes need `responder` and a non-empty `reason`, checked here and not
//! only by the CLI, since anyone can call the API.
//!
//! - `POST /api/v1/mitigations` `{name, world | fleet: true, reason, ttl?}`
//! - `GET /api/v1/mitigations`: the bundles and the active applications
//! - `POST /api/v1/mitigations/{id}/revert` `{reason}` (`m-N` or `o-N`)
//! - `POST /api/v1/overrides` `{flag, value, world | village | account |
//!   player | fleet: true, reason, ttl?}`
//! - `GET /api/v1/overrides[?world=W]`
//! - `GET /api/v1/overrides/stream?world=W` (see [`super::push`])
//! - `GET /api/v1/audit`: every entry and the recorded head

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use liveops_config::Role;
use liveops_flags::{Override, Scope};
use liveops_protocol::flags::OVERRIDES_STREAM_PATH;
use serde::Deserialize;
use serde_json::{Value, json};

use super::checks::{check_scope, reason, ttl};
use super::{Actor, Application, OverrideError, Why, push};
use crate::http::{AppError, authorize, blocking, json_body, valid_name};
use crate::state::Shared;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/mitigations", get(list_mitigations).post(mitigate))
        .route("/api/v1/mitigations/{id}/revert", post(revert))
        .route("/api/v1/overrides", get(list_overrides).post(set_override))
        .route(OVERRIDES_STREAM_PATH, get(push::stream))
}

impl From<OverrideError> for AppError {
    fn from(e: OverrideError) -> Self {
        match e {
            OverrideError::NotFound(m) => AppError::NotFound(m),
            OverrideError::Invalid(m) => AppError::BadRequest(m),
            OverrideError::Internal(e) => AppError::from(e),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MitigateBody {
    name: String,
    world: Option<String>,
    #[serde(default)]
    fleet: bool,
    reason: Option<String>,
    ttl: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideBody {
    flag: String,
    value: Value,
    world: Option<String>,
    village: Option<String>,
    account: Option<String>,
    player: Option<String>,
    #[serde(default)]
    fleet: bool,
    reason: Option<String>,
    ttl: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevertBody {
    reason: Option<String>,
}

#[derive(Deserialize)]
struct WorldFilter {
    world: Option<String>,
}

async fn mitigate(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let caller = authorize(&s.tokens, &headers, Role::Responder)?;
    let b: MitigateBody = json_body(&body)?;
    let reason = reason(b.reason)?;
    let scope = match (b.world, b.fleet) {
        (Some(w), false) => {
            valid_name(&w, "world")?;
            Scope::World(w)
        }
        (None, true) => Scope::Fleet,
        _ => {
            return Err(AppError::BadRequest(
                "give exactly one scope: `world` or `fleet: true`".into(),
            ));
        }
    };
    let ttl = ttl(b.ttl.as_deref())?;
    let shared = s.clone();
    let ((app, overrides), version) = blocking(move || {
        let why = Why {
            reason: &reason,
            ttl,
        };
        let env = (&*shared.store, &shared.events);
        shared
            .overrides
            .mitigate(env, Actor::from(&caller), why, &b.name, scope)
    })
    .await?;
    let mut view = application(&app, &overrides);
    view["version"] = json!(version);
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list_mitigations(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, Role::Viewer)?;
    let book = s.overrides.book();
    let active: Vec<Value> = book
        .applications()
        .iter()
        .map(|a| application(a, book.overrides()))
        .collect();
    Ok(Json(json!({
        "version": book.version(),
        "bundles": s.overrides.catalogue().mitigations.bundles,
        "active": active,
    })))
}

async fn revert(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let caller = authorize(&s.tokens, &headers, Role::Responder)?;
    // No body at all is a missing reason, said as such.
    let b: RevertBody = if body.is_empty() {
        RevertBody::default()
    } else {
        json_body(&body)?
    };
    let reason = reason(b.reason)?;
    let shared = s.clone();
    let (change, version) = blocking(move || {
        let env = (&*shared.store, &shared.events);
        shared
            .overrides
            .revert(env, Actor::from(&caller), &id, &reason)
    })
    .await?;
    Ok(Json(json!({
        "reverted": change.id,
        "subject": change.subject,
        "overrides": change.overrides,
        "version": version,
    })))
}

async fn set_override(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let caller = authorize(&s.tokens, &headers, Role::Responder)?;
    let b: OverrideBody = json_body(&body)?;
    let reason = reason(b.reason)?;
    let scopes = [
        b.world.map(Scope::World),
        b.village.map(Scope::Village),
        b.account.map(Scope::Account),
        b.player.map(Scope::Player),
        b.fleet.then_some(Scope::Fleet),
    ];
    let mut given = scopes.into_iter().flatten();
    let (Some(scope), None) = (given.next(), given.next()) else {
        return Err(AppError::BadRequest(
            "give exactly one scope: `world`, `village`, `account`, `player` or `fleet: true`"
                .into(),
        ));
    };
    check_scope(&scope)?;
    let value = s.overrides.parse_value(&b.flag, &b.value)?;
    let ttl = ttl(b.ttl.as_deref())?;
    let shared = s.clone();
    let (o, version) = blocking(move || {
        let why = Why {
            reason: &reason,
            ttl,
        };
        let env = (&*shared.store, &shared.events);
        let who = Actor::from(&caller);
        shared.overrides.set(env, who, why, &b.flag, value, scope)
    })
    .await?;
    let mut view = json!(o);
    view["version"] = json!(version);
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list_overrides(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(f): Query<WorldFilter>,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, Role::Viewer)?;
    let book = s.overrides.book();
    Ok(Json(match f.world {
        Some(w) => json!(book.set_for(&w)),
        None => json!({ "version": book.version(), "overrides": book.overrides() }),
    }))
}

/// An application with its overrides in full.
fn application(app: &Application, overrides: &[Override]) -> Value {
    let mine: Vec<&Override> = overrides
        .iter()
        .filter(|o| app.overrides.contains(&o.id))
        .collect();
    let mut v = json!(app);
    v["overrides"] = json!(mine);
    v
}
