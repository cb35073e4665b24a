//! The in-game banner the simulated world shows its players: set through
//! the game contract (`POST /liveops/v1/banner`, as a game's own HUD
//! message service would take it) and read back with `GET`.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Shared;

/// Where the game takes banners (the agent posts there).
pub const BANNER_PATH: &str = "/liveops/v1/banner";

/// A banner as the agent sends it; fields a later agent adds are ignored,
/// as a game's own endpoint would.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Banner {
    pub text: String,
    #[serde(default)]
    pub incident: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub link: String,
}

/// The banner showing now, if any.
#[derive(Debug, Default)]
pub(crate) struct Showing(Mutex<Option<Banner>>);

impl Showing {
    pub(crate) fn get(&self) -> Option<Banner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(BANNER_PATH, get(show).post(set))
}

async fn show(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({ "banner": s.banner.get() }))
}

/// A HUD line: what a game would refuse, this one refuses too.
async fn set(State(s): State<Arc<Shared>>, Json(b): Json<Banner>) -> Response {
    if b.text.trim().is_empty() || b.text.chars().count() > 1000 {
        return (StatusCode::BAD_REQUEST, "a banner is 1–1000 characters").into_response();
    }
    tracing::info!(world = %s.name, incident = %b.incident, text = %b.text, "banner shown");
    *s.banner.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(b);
    StatusCode::NO_CONTENT.into_response()
}
