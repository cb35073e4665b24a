//! The flag endpoints on the agent's HTTP listener:
//!
//! - OFREP, see [`super::ofrep`].
//! - `GET /liveops/v1/flags`: the whole snapshot (`SnapshotDoc` JSON) for
//!   game servers that evaluate in process, with an `ETag` (the version);
//!   `If-None-Match` with it → 304.
//! - `GET /liveops/v1/flags/changes`: `text/event-stream`; on connect one
//!   `event: changed` whose `data` is the current version, then one per new
//!   version, and a `: keepalive` comment every 15 s of quiet.
//! - `GET /liveops/v1/flags/ofrep-events`: the same changes as OFREP
//!   providers expect them (ADR 0008), advertised by the bulk answer's
//!   `refreshConnections`: per new version, `id: {version}` and a
//!   default-type (`message`) event `{"type":"refetchEvaluation","etag":
//!   "\"{version}\"","lastModified":UNIX_SECONDS}`. Nothing on connect (a
//!   provider re-fetches after every reconnect by itself), unless a
//!   `Last-Event-ID` names an older version than the one served.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use liveops_protocol::flags::{CHANGES_PATH, OFREP_EVENTS_PATH, OFREP_FLAGS_PATH, SNAPSHOT_PATH};
use tokio::sync::watch;

use liveops_protocol::sse;

use super::{Flags, ofrep};

/// An evaluation context is a handful of ids; anything bigger is a mistake.
pub const MAX_BODY: usize = 64 * 1024;
const KEEPALIVE_EVERY: Duration = Duration::from_secs(15);

#[derive(Clone)]
struct Changes {
    flags: Arc<Flags>,
    /// The agent stopping: open change streams must end, or the HTTP
    /// server's graceful shutdown would wait on them forever.
    stop: watch::Receiver<bool>,
}

pub fn router(flags: Arc<Flags>, stop: watch::Receiver<bool>) -> Router {
    let ofrep = Router::new()
        .route(OFREP_FLAGS_PATH, post(ofrep::evaluate_all))
        .route(
            &format!("{OFREP_FLAGS_PATH}/{{key}}"),
            post(ofrep::evaluate_one),
        )
        .route(SNAPSHOT_PATH, get(snapshot))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(flags.clone());
    let changes = Router::new()
        .route(CHANGES_PATH, get(changes))
        .route(OFREP_EVENTS_PATH, get(ofrep_events))
        .with_state(Changes { flags, stop });
    ofrep.merge(changes)
}

async fn snapshot(State(flags): State<Arc<Flags>>, headers: HeaderMap) -> Response {
    let current = flags.current();
    let etag = current.etag.clone();
    if ofrep::not_modified(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
        ],
        current.json.clone(),
    )
        .into_response()
}

async fn changes(State(s): State<Changes>) -> Response {
    let mut versions = s.flags.subscribe();
    // The first event is the version now, so a client that connects after
    // fetching the snapshot can tell whether it missed a change.
    versions.mark_changed();
    event_stream(versions, s.stop, |v| sse::frame("changed", v))
}

async fn ofrep_events(State(s): State<Changes>, headers: HeaderMap) -> Response {
    let mut versions = s.flags.subscribe();
    // A provider reconnecting with the id of the last event it saw missed
    // whatever came since: tell it at once rather than at the next change.
    let seen = headers.get("last-event-id").map(HeaderValue::as_bytes);
    if seen.is_some_and(|id| id != versions.borrow().as_bytes()) {
        versions.mark_changed();
    }
    event_stream(versions, s.stop, ofrep::refetch_event)
}

/// `text/event-stream` of one frame per new version (and keepalives),
/// ending when the agent stops.
fn event_stream(
    versions: watch::Receiver<Arc<str>>,
    stop: watch::Receiver<bool>,
    frame: fn(&str) -> String,
) -> Response {
    let keepalive = tokio::time::interval_at(
        tokio::time::Instant::now() + KEEPALIVE_EVERY,
        KEEPALIVE_EVERY,
    );
    let stream = futures_util::stream::unfold(
        (versions, keepalive, stop),
        move |(mut versions, mut keepalive, mut stop)| async move {
            if *stop.borrow() {
                return None;
            }
            let bytes = tokio::select! {
                r = versions.changed() => {
                    r.ok()?;
                    let v = versions.borrow_and_update().clone();
                    keepalive.reset();
                    Bytes::from(frame(&v))
                }
                _ = keepalive.tick() => Bytes::from_static(sse::KEEPALIVE),
                _ = stop.changed() => return None,
            };
            Some((
                Ok::<_, std::convert::Infallible>(bytes),
                (versions, keepalive, stop),
            ))
        },
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
