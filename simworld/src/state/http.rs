//! The state's endpoints (see [`crate::http`] for the contract): the
//! listing streamed chunk by chunk, the restore checked and applied off the
//! async workers.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use futures_util::stream;

use super::query::{CHUNK, Cursor, Filter};
use super::{read, restore};
use crate::Shared;
use crate::http::{RESTORE_PATH, STATE_PATH};

/// Largest restore body: a quarter of a million villages, more than any
/// rollback plan sends at once; beyond it the answer is 413.
pub(crate) const RESTORE_LIMIT: usize = 64 << 20;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(STATE_PATH, get(list).post(list_posted))
        .route(
            RESTORE_PATH,
            post(restore).layer(DefaultBodyLimit::max(RESTORE_LIMIT)),
        )
}

async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    listing(shared, query.as_deref().unwrap_or_default())
}

/// The same listing with the query in the body. A URI is at most 64 KiB
/// (the `http` crate's limit, which hyper answers with 414), about 4,000
/// `owner=` values; a rollback's selection of tens of thousands of owners
/// fits a body (axum's default limit, 2 MiB, is ~140,000 of them).
async fn list_posted(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match std::str::from_utf8(&body) {
        Ok(query) => listing(shared, query.trim_ascii()),
        Err(_) => (StatusCode::BAD_REQUEST, "the query is not UTF-8").into_response(),
    }
}

/// Streams the listing. The lock is taken for each chunk and released
/// before the chunk is sent, so a slow reader never holds up the tick; the
/// price is that a listing is consistent chunk by chunk, not as a whole,
/// exactly as a snapshot of a live game server's database would be.
fn listing(shared: Arc<Shared>, query: &str) -> Response {
    let filter = match Filter::parse(query) {
        Ok(filter) => filter,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let cursor = Cursor::start(&read(&shared.state), &filter);
    let chunks = stream::unfold(
        (shared, filter, cursor),
        |(shared, filter, mut cursor)| async move {
            // Most village lines are 200–250 bytes.
            let mut buf = Vec::with_capacity(CHUNK * 256);
            // An empty chunk is skipped rather than sent: a selection whose
            // entities all went away since it started yields nothing.
            while buf.is_empty() && !cursor.is_done() {
                let filled = cursor.fill(&read(&shared.state), &filter, &mut buf);
                if let Err(error) = filled {
                    return Some((Err(error), (shared, filter, Cursor::Done)));
                }
            }
            (!buf.is_empty()).then(|| (Ok(Bytes::from(buf)), (shared, filter, cursor)))
        },
    );
    (
        [(CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// Parsing a 64 MiB body is tens of milliseconds of CPU: it runs on a
/// blocking thread so it does not stall the other requests.
async fn restore(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let task = {
        let shared = Arc::clone(&shared);
        tokio::task::spawn_blocking(move || restore::restore(&shared.state, &body))
    };
    match task.await {
        Ok(report) => {
            tracing::info!(world = %shared.name, applied = report.applied, failed = report.failed, "state restored");
            Json(report).into_response()
        }
        Err(error) => {
            tracing::error!(world = %shared.name, %error, "state restore failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the restore failed").into_response()
        }
    }
}
