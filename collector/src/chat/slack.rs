//! Slack's endpoints: the slash command's Request URL
//! (`POST /api/v1/chat/slack/commands`, a form) and the interactivity
//! Request URL (`POST /api/v1/chat/slack/interactivity`, a form whose
//! `payload` is JSON: a button's `value` runs as a command).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::dispatch::Reply;
use super::{Platform, answer, clip, refused};
use crate::state::Shared;

/// Slack shows up to 4,000 characters of a message's text; a timeline of
/// long notes stays well inside.
const TEXT_MAX: usize = 3_500;

/// The fields of a slash command this bot reads (Slack sends more).
#[derive(Deserialize)]
struct SlashCommand {
    #[serde(default)]
    text: String,
    user_id: String,
}

#[derive(Deserialize)]
struct Interactivity {
    payload: String,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    user: User,
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    response_url: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

#[derive(Deserialize)]
struct Action {
    #[serde(default)]
    value: Option<String>,
}

/// Slack reads `&`, `<` and `>` as markup (`<!channel>` pings everyone):
/// what a person typed is shown as typed, never as a mention.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn message(r: &Reply) -> Value {
    json!({
        "response_type": if r.public { "in_channel" } else { "ephemeral" },
        "text": escape(&clip(&r.text, TEXT_MAX)),
    })
}

/// A request that passed its signature but is not what Slack sends: told
/// to the user (Slack shows a 200's text), not a bare error page.
fn unreadable(what: &str, e: impl std::fmt::Display) -> Response {
    let r = Reply::private(format!("could not read this {what}: {e}"));
    Json(message(&r)).into_response()
}

pub(super) async fn commands(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(no) = refused(&s, Platform::Slack, &headers, &body) {
        return no;
    }
    let cmd: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(e) => return unreadable("slash command", e),
    };
    let reply = answer(s, Platform::Slack, &cmd.user_id, &cmd.text).await;
    Json(message(&reply)).into_response()
}

pub(super) async fn interactivity(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(no) = refused(&s, Platform::Slack, &headers, &body) {
        return no;
    }
    let payload = serde_urlencoded::from_bytes::<Interactivity>(&body)
        .map_err(|e| e.to_string())
        .and_then(|f| serde_json::from_str::<Payload>(&f.payload).map_err(|e| e.to_string()));
    let p = match payload {
        Ok(p) => p,
        Err(e) => return unreadable("interaction", e),
    };
    // Shortcuts, modals and the rest: acknowledged, nothing to do.
    let text = p.actions.iter().find_map(|a| a.value.clone());
    let (Some(text), "block_actions") = (text, p.kind.as_str()) else {
        return StatusCode::OK.into_response();
    };
    let reply = answer(s, Platform::Slack, &p.user.id, &text).await;
    let msg = message(&reply);
    // Slack shows no response body to a button press: the answer goes to
    // the interaction's response_url. Only Slack's own host, so a payload
    // cannot make the collector post elsewhere.
    if let Some(url) = p
        .response_url
        .filter(|u| u.starts_with("https://hooks.slack.com/"))
    {
        let body = msg.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let sent = client
                .post(&url)
                .timeout(std::time::Duration::from_secs(5))
                .json(&body)
                .send()
                .await;
            // The URL may post to the channel: it stays out of the log.
            if let Err(e) = sent.map_err(reqwest::Error::without_url) {
                tracing::warn!(error = %e, "chat answer not delivered to Slack's response_url");
            }
        });
    }
    Json(msg).into_response()
}
