//! The incident chat bot: `/incident …` from Slack and Discord onto the
//! incident timeline, as the person the chat user is mapped to.
//!
//! - `verify.rs`: pure signature checks (Slack's HMAC-SHA256, Discord's
//!   Ed25519), stale timestamps, replays.
//! - `command.rs`: pure parsing of the command text, shared by both.
//! - `dispatch.rs`: a command run through the incident and mitigation
//!   services, each change audited like the HTTP API's.
//! - `slack.rs`, `discord.rs`: the endpoints each platform posts to.
//!
//! Every request is verified on its raw body before anything in it is
//! read; a refused one is a 401 and changes nothing. Answers are bounded
//! by [`ANSWER_WITHIN`], inside the 3 s both platforms allow.

pub mod command;
mod discord;
pub mod dispatch;
mod slack;
pub mod verify;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ed25519_dalek::VerifyingKey;
use liveops_config::{ChatConfig, ChatUser, ConfigErrors, Diagnostic};
use serde_json::json;

use crate::CollectorError;
use crate::auth::Caller;
use crate::state::Shared;
use dispatch::Reply;
use verify::{REPLAYS_MAX, Refused, Replays};

/// How long a command may take before the chat user is told it is still
/// running: Slack and Discord give up at 3 s, and the answer must travel.
pub const ANSWER_WITHIN: Duration = Duration::from_millis(2_500);

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/chat/slack/commands", post(slack::commands))
        .route(
            "/api/v1/chat/slack/interactivity",
            post(slack::interactivity),
        )
        .route(
            "/api/v1/chat/discord/interactions",
            post(discord::interactions),
        )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Slack,
    Discord,
}

/// The bot's credentials and memory. Deliberately not `Debug`: it holds
/// the Slack signing secret.
pub struct Chat {
    slack: Option<Vec<u8>>,
    discord: Option<VerifyingKey>,
    users: Vec<ChatUser>,
    slack_seen: Mutex<Replays>,
    discord_seen: Mutex<Replays>,
}

impl Chat {
    /// Reads the Slack secret (environment, else file) and checks the
    /// Discord key is a point on the curve. Either may be absent.
    pub fn new(cfg: &ChatConfig) -> Result<Chat, CollectorError> {
        let slack =
            liveops_config::chat::slack_secret(cfg)?.map(|s| s.expose().as_bytes().to_vec());
        let discord = cfg
            .discord_public_key
            .map(|k| {
                VerifyingKey::from_bytes(&k).map_err(|_| {
                    ConfigErrors(vec![Diagnostic {
                        file: "[chat] discord_public_key".into(),
                        position: None,
                        message: "not an Ed25519 public key (copy the application's \"Public Key\" again)".into(),
                    }])
                })
            })
            .transpose()?;
        if slack.is_some() || discord.is_some() {
            tracing::info!(
                slack = slack.is_some(),
                discord = discord.is_some(),
                users = cfg.users.len(),
                "incident chat bot on"
            );
        }
        Ok(Chat {
            slack,
            discord,
            users: cfg.users.clone(),
            slack_seen: Mutex::new(Replays::new(REPLAYS_MAX)),
            discord_seen: Mutex::new(Replays::new(REPLAYS_MAX)),
        })
    }

    /// The liveops person a chat user is, with their role.
    pub fn caller(&self, p: Platform, user: &str) -> Option<Caller> {
        self.users
            .iter()
            .find(|u| match p {
                Platform::Slack => u.slack.as_deref() == Some(user),
                Platform::Discord => u.discord.as_deref() == Some(user),
            })
            .map(|u| Caller {
                name: u.person.clone(),
                role: u.role,
            })
    }

    /// Verifies a request of `p` and remembers its signature. `None`: that
    /// platform is not configured.
    fn verify(&self, p: Platform, headers: &HeaderMap, body: &[u8]) -> Option<Result<(), Refused>> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let now_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (verified, seen) = match p {
            Platform::Slack => (
                verify::slack(
                    self.slack.as_deref()?,
                    header("x-slack-request-timestamp"),
                    header("x-slack-signature"),
                    body,
                    now_s,
                ),
                &self.slack_seen,
            ),
            Platform::Discord => (
                verify::discord(
                    self.discord.as_ref()?,
                    header("x-signature-timestamp"),
                    header("x-signature-ed25519"),
                    body,
                    now_s,
                ),
                &self.discord_seen,
            ),
        };
        Some(verified.and_then(|v| {
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.first_time(v, now_s)
        }))
    }
}

impl Shared {
    pub(crate) fn with_chat(mut self, chat: Chat) -> Self {
        self.chat = Some(chat);
        self
    }

    pub(crate) fn chat(&self) -> Option<&Chat> {
        self.chat.as_ref()
    }
}

/// Verifies the request: `None` when it passes, else the answer that
/// says why not (404: that platform is off; 401: refused).
fn refused(s: &Shared, p: Platform, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let verdict = s.chat().and_then(|c| c.verify(p, headers, body));
    match verdict {
        Some(Ok(())) => None,
        Some(Err(why)) => {
            // Discord sends bad signatures on purpose; not worth a warning.
            tracing::info!(platform = ?p, %why, "chat request refused");
            let body = json!({ "error": format!("request refused: {why}") });
            Some((StatusCode::UNAUTHORIZED, Json(body)).into_response())
        }
        None => {
            let body = json!({ "error": format!("the chat bot is not configured for {p:?}: see [chat] in the collector's config") });
            Some((StatusCode::NOT_FOUND, Json(body)).into_response())
        }
    }
}

/// Parses and runs a command for `who`, within [`ANSWER_WITHIN`]. A
/// change still running then goes on (it is audited and lands on the
/// timeline) and the user is told to look there.
async fn answer(s: Arc<Shared>, p: Platform, user: &str, text: &str) -> Reply {
    let cmd = match command::parse(text) {
        Ok(c) => c,
        Err(e) => return Reply::private(e),
    };
    let who = s.chat().and_then(|c| c.caller(p, user));
    match tokio::time::timeout(ANSWER_WITHIN, dispatch::run(s, who, cmd)).await {
        Ok(reply) => reply,
        Err(_) => Reply::private(
            "still working on it: if it succeeds it shows on the timeline (`/incident timeline ID`)",
        ),
    }
}

/// At most `max` characters of `text`, cut on a character boundary.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[path = "chat_tests.rs"]
mod tests;
