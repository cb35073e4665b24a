//! Comms over HTTP:
//!
//! - `POST /api/v1/incidents/{id}/comms/draft` `{channel, state?, message?}`:
//!   the message as it would go out (role `viewer`);
//! - `POST /api/v1/incidents/{id}/comms` `{channel, state?, message?,
//!   apply?}`: a dry run unless `apply` (role `comms`); applied, it is
//!   delivered, put on the timeline and audited. The `status` channel
//!   publishes it on the public status page.
//!
//! `state` is the player-facing state (`investigating`, `identified`,
//! `monitoring`, `resolved`); left out, the incident's own decides.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use liveops_config::Role as TokenRole;
use serde::Deserialize;
use serde_json::{Value, json};

use super::channel::{Channel, CommsState, Message};
use super::context::context;
use crate::http::{AppError, authorize, json_body};
use crate::incident::IncidentError;
use crate::incident::http::{apply, id_of};
use crate::incident::updates::Sent;
use crate::now_ms;
use crate::state::Shared;

/// An operator's message is one part of a template, not a page of text.
const MESSAGE_MAX: usize = 2000;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/incidents/{id}/comms/draft", post(draft))
        .route("/api/v1/incidents/{id}/comms", post(send))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    channel: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    apply: bool,
}

/// The incident page every message links to: the public one.
pub fn public_link(s: &Shared, id: u64) -> String {
    let base = s.cfg.public_url.as_deref().unwrap_or_default();
    format!("{base}/status/incidents/{id}")
}

fn render(s: &Shared, n: u64, req: &Body) -> Result<Message, AppError> {
    let channel = Channel::parse(&req.channel).ok_or_else(|| {
        AppError::BadRequest(format!(
            "unknown channel {:?}: banner, discord, forum, email or status",
            req.channel
        ))
    })?;
    if req.message.chars().count() > MESSAGE_MAX
        || req.message.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(AppError::BadRequest(format!(
            "a message must be at most {MESSAGE_MAX} printable characters"
        )));
    }
    let state = match &req.state {
        Some(st) => Some(CommsState::parse(st).ok_or_else(|| {
            AppError::BadRequest(format!(
                "unknown state {st:?}: investigating, identified, monitoring or resolved"
            ))
        })?),
        None => None,
    };
    draft_message(s, n, channel, state, &req.message).map_err(|e| match e {
        DraftError::Unknown(n) => AppError::NotFound(IncidentError::Unknown(n).to_string()),
        DraftError::Template(e) => {
            AppError::BadRequest(format!("the {} template: {e}", channel.as_str()))
        }
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error("no incident INC-{0}")]
    Unknown(u64),
    #[error(transparent)]
    Template(#[from] super::CommsError),
}

/// Incident `n`'s message on `channel`, in `state` (default: the
/// incident's own), with the operator's `message`.
pub fn draft_message(
    s: &Shared,
    n: u64,
    channel: Channel,
    state: Option<CommsState>,
    message: &str,
) -> Result<Message, DraftError> {
    let link = public_link(s, n);
    let game = &s.cfg.comms.game;
    s.incidents
        .read(|b| {
            b.get(n).map(|inc| {
                let state = state.unwrap_or_else(|| CommsState::of(inc.state));
                let ctx = context(inc, state, &link, game, message, now_ms());
                s.comms.render(channel, state, inc.severity.current(), &ctx)
            })
        })
        .ok_or(DraftError::Unknown(n))?
        .map_err(DraftError::Template)
}

fn shown(m: &Message) -> Value {
    let parts: serde_json::Map<String, Value> =
        m.parts.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "channel": m.channel,
        "state": m.state,
        "template": m.template,
        "parts": parts,
        "link": m.link,
    })
}

async fn draft(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, TokenRole::Viewer)?;
    let n = id_of(&id)?;
    let req: Body = json_body(&body)?;
    Ok(Json(shown(&render(&s, n, &req)?)))
}

async fn send(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let caller = authorize(&s.tokens, &headers, TokenRole::Comms)?;
    let n = id_of(&id)?;
    let req: Body = json_body(&body)?;
    let m = render(&s, n, &req)?;
    let mut out = shown(&m);
    if !req.apply {
        out["dry_run"] = json!(true);
        out["would"] = json!(match m.channel {
            Channel::Status => "publish it on the public status page",
            Channel::Banner => "show it in game in the incident's worlds",
            Channel::Discord => "post it on the community Discord's webhook",
            Channel::Forum => "post it on the forum's webhook",
            Channel::Email => "email it to the players' list",
        });
        return Ok(Json(out));
    }
    // Delivered first: what is on the timeline is what players got.
    let delivered = super::deliver::deliver(&s, n, &m, &caller.name).await?;
    let (title, main) = match m.channel {
        Channel::Status => (m.part("title").to_owned(), m.part("body").to_owned()),
        _ => (
            m.channel.as_str().to_owned(),
            // What was delivered where may be long; the timeline's
            // entries are bounded.
            format!("{}{}", m.parts[0].1, delivered.note)
                .chars()
                .take(3_900)
                .collect(),
        ),
    };
    let state = m.state.as_str().to_owned();
    let channel = m.channel.as_str();
    let public = m.channel == Channel::Status;
    let reason = format!("{channel} message: {main}");
    let inc = apply(
        s.clone(),
        &headers,
        "comms-send",
        reason,
        Some(n),
        move |b, by, now| {
            let sent = Sent {
                channel,
                state: &state,
                title: &title,
                body: &main,
                public,
            };
            b.sent(n, &sent, by, now).map(|i| i.id)
        },
    )
    .await?;
    out["sent"] = json!(true);
    out["delivery"] = delivered.detail;
    out["updates"] = json!(inc.updates.len());
    Ok(Json(out))
}
