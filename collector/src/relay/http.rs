//! - `POST /api/v1/worlds/{world}/commands` `{op, args, reason?}`: an
//!   operator's command, answered with the agent's outcome (its status and
//!   JSON body). The token needs the op's role; ops that write need a
//!   reason and are audited twice: the request before it is sent (a
//!   refusal of the audit log stops it there) and the outcome after.
//! - `GET /api/v1/agent/commands?world=W`: the agent's command stream
//!   (server-sent `command` events, a keepalive every 15 s).
//! - `POST /api/v1/agent/commands/{id}/result?world=W`: the agent's outcome.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, stream};
use liveops_config::Role;
use liveops_protocol::command::{COMMANDS_PATH, Command, MAX_COMMAND_BYTES, Op, Outcome, Request};
use serde::Deserialize;
use serde_json::{Value, json};

use super::RelayError;
use crate::events::{Action, Event};
use crate::http::{AppError, authorize, blocking, json_body, valid_name};
use crate::state::Shared;

/// Largest outcome an agent may post: a diff of many entities is large.
pub const MAX_OUTCOME_BYTES: usize = 64 << 20;
const KEEPALIVE: Duration = Duration::from_secs(15);

/// How long the operator's request waits for the agent. A snapshot of a
/// million entities takes seconds; a diff against the game takes one more.
fn timeout(op: Op) -> Duration {
    match op {
        Op::SnapshotList | Op::RollbackList | Op::Banner => Duration::from_secs(15),
        Op::SnapshotTake
        | Op::SnapshotDiff
        | Op::SnapshotVerify
        | Op::SnapshotPrune
        | Op::RollbackPlan
        | Op::RollbackApply => Duration::from_secs(300),
    }
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/api/v1/worlds/{world}/commands",
            post(command).layer(DefaultBodyLimit::max(MAX_COMMAND_BYTES)),
        )
        .route(COMMANDS_PATH, get(stream_commands))
        .route(
            "/api/v1/agent/commands/{id}/result",
            post(result).layer(DefaultBodyLimit::max(MAX_OUTCOME_BYTES)),
        )
}

impl From<RelayError> for AppError {
    fn from(e: RelayError) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

fn role(op: Op) -> Role {
    Role::parse(op.role()).unwrap_or(Role::Admin)
}

async fn command(
    State(s): State<Arc<Shared>>,
    Path(world): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    valid_name(&world, "world")?;
    let req: Request = json_body(&body)?;
    let caller = authorize(&s.tokens, &headers, role(req.op))?;
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if req.op.audited() && reason.is_none() {
        return Err(AppError::BadRequest(format!(
            "{} needs a reason",
            req.op.name()
        )));
    }
    let cmd = Command {
        id: s.relay.id(),
        op: req.op,
        args: req.args,
        actor: caller.name.clone(),
        reason: reason.map(str::to_owned),
    };
    let audit = |action: &'static str, before: Value, after: Value| Action {
        actor: caller.name.clone(),
        role: caller.role.as_str().to_owned(),
        action,
        id: cmd.id.clone(),
        subject: cmd.op.name().to_owned(),
        scope: format!("world:{world}"),
        reason: cmd.reason.clone().unwrap_or_default(),
        before,
        after,
    };
    if cmd.op.audited() {
        publish(&s, audit(cmd.op.name(), cmd.args.clone(), Value::Null)).await?;
    }
    let op = cmd.op;
    let outcome = s.relay.send(&world, cmd.clone(), timeout(op)).await;
    if op.audited() {
        let after = match &outcome {
            Ok(o) => json!({"status": o.status, "body": o.body}),
            Err(e) => json!({"status": 503, "error": e.to_string()}),
        };
        // The request is on record already; an audit failure here is
        // logged, not turned into a lie about what the agent did.
        if let Err(e) = publish(&s, audit("command-result", Value::Null, after)).await {
            tracing::error!(id = %cmd.id, error = ?e, "cannot audit a command's outcome");
        }
    }
    let outcome = outcome?;
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::BAD_GATEWAY);
    Ok((status, Json(outcome.body)).into_response())
}

async fn publish(s: &Arc<Shared>, action: Action) -> Result<(), AppError> {
    let s = s.clone();
    blocking(move || s.events.publish(vec![Event::Action(action)])).await
}

#[derive(Deserialize)]
struct WorldQuery {
    world: Option<String>,
}

fn world_of(q: WorldQuery) -> Result<String, AppError> {
    let world = q
        .world
        .ok_or_else(|| AppError::BadRequest("`world` is required: ?world=W".into()))?;
    valid_name(&world, "world")?;
    Ok(world)
}

async fn stream_commands(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<WorldQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    authorize(&s.tokens, &headers, Role::Agent)?;
    let world = world_of(q)?;
    let (listening, rx) = s.relay.listen(&world);
    let stop = s.relay.stopped();
    let events = stream::unfold((listening, rx, stop), |(l, mut rx, mut stop)| async move {
        let cmd = tokio::select! {
            c = rx.recv() => c?,
            _ = stop.wait_for(|s| *s) => return None,
        };
        let data = serde_json::to_string(&cmd).ok()?;
        Some((
            Ok(SseEvent::default().event("command").data(data)),
            (l, rx, stop),
        ))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive")))
}

async fn result(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<WorldQuery>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    authorize(&s.tokens, &headers, Role::Agent)?;
    let world = world_of(q)?;
    let outcome: Outcome = json_body(&body)?;
    if s.relay.answer(&id, &world, outcome) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound(format!(
            "no command {id} of world {world} is waiting"
        )))
    }
}
