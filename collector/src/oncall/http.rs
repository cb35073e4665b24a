//! `GET /oncall`, `GET /api/v1/oncall`, `GET /oncall.ics`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use liveops_oncall::jiff::Timestamp;
use liveops_oncall::{after, ical};
use serde_json::{Value, json};

use crate::now_ms;
use crate::state::Shared;

/// How far ahead the page and the JSON look.
pub const AHEAD_SECONDS: i64 = 4 * 7 * 86_400;
/// How far back the calendar feed starts, so this week's earlier shifts
/// stay on a subscriber's calendar.
const FEED_BEHIND_SECONDS: i64 = 7 * 86_400;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oncall", get(page))
        .route("/api/v1/oncall", get(api))
        .route("/oncall.ics", get(ics))
}

/// Now, to the second (the collector's one clock).
fn now() -> Timestamp {
    let seconds = i64::try_from(now_ms() / 1_000).unwrap_or(i64::MAX);
    after(Timestamp::UNIX_EPOCH, seconds)
}

async fn page(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    Html(super::page::render(&s.oncall(), now()))
}

async fn api(State(s): State<Arc<Shared>>) -> Json<Value> {
    let now = now();
    let schedule = s.oncall();
    Json(json!({
        "generated_at": now.to_string(),
        "on_call": schedule.who(now, None),
        "shifts": schedule.shifts(now, after(now, AHEAD_SECONDS), None),
    }))
}

async fn ics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let now = now();
    let from = after(now, -FEED_BEHIND_SECONDS);
    let body = ical::export(&s.oncall(), from, after(now, AHEAD_SECONDS), now);
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"oncall.ics\"",
            ),
        ],
        body,
    )
}
