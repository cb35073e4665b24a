//! The routes of the public and internal incident pages.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use liveops_config::Role as TokenRole;

use super::{atom, html, view};
use crate::http::{AppError, authorize};
use crate::incident::IncidentError;
use crate::incident::http::id_of;
use crate::now_ms;
use crate::state::Shared;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/status", get(status))
        .route("/status.json", get(status_json))
        .route("/status/feed.atom", get(feed))
        .route("/status/incidents/{id}", get(incident))
        .route("/incidents/{id}", get(internal))
}

const HTML: &str = "text/html; charset=utf-8";

fn typed(kind: &'static str, body: String) -> Response {
    // Public pages change by the minute at most: a CDN may hold them 15 s.
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=15"),
        ],
        body,
    )
        .into_response()
}

fn view(s: &Shared) -> view::StatusView {
    let worlds = s.world_health();
    let systems: Vec<String> = s.cfg.slos.iter().map(|x| x.name.clone()).collect();
    let now = now_ms();
    s.incidents
        .read(|b| view::status(b, &s.cfg.comms.game, &worlds, &systems, now))
}

async fn status(State(s): State<Arc<Shared>>) -> Response {
    typed(HTML, html::status(&view(&s)))
}

async fn status_json(State(s): State<Arc<Shared>>) -> Response {
    let body = serde_json::to_string(&view(&s)).unwrap_or_else(|_| "{}".into());
    typed("application/json", body)
}

async fn feed(State(s): State<Arc<Shared>>) -> Response {
    let base = s.cfg.public_url.clone().unwrap_or_default();
    typed(
        "application/atom+xml; charset=utf-8",
        atom::feed(&view(&s), &base),
    )
}

/// `{id}` or `{id}.json`.
async fn incident(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (raw, json) = match id.strip_suffix(".json") {
        Some(r) => (r, true),
        None => (id.as_str(), false),
    };
    let n = id_of(raw)?;
    // Unpublished and unknown look the same from outside.
    let p = s
        .incidents
        .read(|b| b.get(n).and_then(view::public))
        .ok_or_else(|| AppError::NotFound(format!("no public incident {raw}")))?;
    Ok(if json {
        typed(
            "application/json",
            serde_json::to_string(&p).unwrap_or_default(),
        )
    } else {
        typed(HTML, html::incident(&p, &s.cfg.comms.game))
    })
}

async fn internal(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    authorize(&s.tokens, &headers, TokenRole::Viewer)?;
    let n = id_of(&id)?;
    let link = crate::comms::http::public_link(&s, n);
    let page = s
        .incidents
        .read(|b| b.get(n).map(|i| html::internal(i, &link)))
        .ok_or_else(|| AppError::NotFound(IncidentError::Unknown(n).to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, HTML),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response())
}
