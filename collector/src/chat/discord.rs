//! Discord's endpoint: the application's Interactions Endpoint URL
//! (`POST /api/v1/chat/discord/interactions`). `PING` (type 1) is
//! answered `{"type":1}`, as Discord checks when the URL is saved; an
//! application command (type 2) runs as `/incident` text.

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

const PING: u8 = 1;
const APPLICATION_COMMAND: u8 = 2;
/// `CHANNEL_MESSAGE_WITH_SOURCE`: the answer is a message.
const MESSAGE: u8 = 4;
/// Only the user who ran the command sees the message.
const EPHEMERAL: u32 = 1 << 6;
/// Discord's limit on a message's content is 2,000 characters.
const CONTENT_MAX: usize = 1_990;

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    data: Option<Data>,
    /// In a server: the member, and the user inside it.
    #[serde(default)]
    member: Option<Member>,
    /// In a direct message.
    #[serde(default)]
    user: Option<User>,
}

#[derive(Deserialize)]
struct Member {
    user: User,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    options: Vec<Opt>,
}

/// An option, or a subcommand holding options of its own.
#[derive(Deserialize)]
struct Opt {
    name: String,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    options: Vec<Opt>,
}

/// The command as text: a subcommand's name, then its options' values in
/// order. `/incident text:"note INC-1 …"` and `/incident note id:INC-1
/// text:…` read alike.
fn words(opts: &[Opt], out: &mut Vec<String>) {
    for o in opts {
        match &o.value {
            Some(Value::String(s)) => out.push(s.clone()),
            Some(v) => out.push(v.to_string()),
            None => {
                out.push(o.name.clone());
                words(&o.options, out);
            }
        }
    }
}

fn message(r: &Reply) -> Value {
    json!({
        "type": MESSAGE,
        "data": {
            "content": clip(&r.text, CONTENT_MAX),
            "flags": if r.public { 0 } else { EPHEMERAL },
            // What a person typed never pings anyone (`@everyone`).
            "allowed_mentions": { "parse": [] },
        },
    })
}

pub(super) async fn interactions(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(no) = refused(&s, Platform::Discord, &headers, &body) {
        return no;
    }
    let i: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            let body = json!({ "error": format!("not an interaction: {e}") });
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    match i.kind {
        PING => Json(json!({ "type": PING })).into_response(),
        APPLICATION_COMMAND => {
            let mut text = Vec::new();
            words(i.data.as_ref().map_or(&[][..], |d| &d.options), &mut text);
            let user = i.member.map(|m| m.user).or(i.user).map(|u| u.id);
            let reply = answer(
                s,
                Platform::Discord,
                user.as_deref().unwrap_or(""),
                &text.join(" "),
            )
            .await;
            Json(message(&reply)).into_response()
        }
        _ => Json(message(&Reply::private(
            "only /incident commands are handled here",
        )))
        .into_response(),
    }
}
