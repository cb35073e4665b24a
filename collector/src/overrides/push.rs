//! `GET /api/v1/overrides/stream?world=W`: the override stream each agent
//! holds open. Server-sent events, each `event: overrides` carrying the
//! whole `OverrideSet` that reaches world W: one on connect, one after
//! every change, and a `: keepalive` comment every 15 s so a dead
//! connection is noticed by both ends.
//!
//! Every subscriber watches one `tokio::sync::watch` channel: a change
//! wakes them all at once and each serializes its own world's set, so a
//! fleet-wide mitigation reaches a hundred agents in one round trip each.
//! Events carry the whole set, so a subscriber that misses intermediate
//! versions (the watch keeps only the newest) loses nothing.
//!
//! Open streams are counted in `liveops_collector_override_streams`, from
//! the moment a subscriber is let in until its stream is dropped (the
//! agent went away, or shutdown).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use liveops_config::Role;
use liveops_telemetry::Gauge;
use serde::Deserialize;
use tokio::sync::watch;

use super::Book;
use crate::http::{AppError, authorize, valid_name};
use crate::state::Shared;

pub const KEEPALIVE: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
pub struct StreamQuery {
    world: Option<String>,
}

pub async fn stream(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    // Agents subscribe with their report token; people may watch too.
    authorize(&s.tokens, &headers, Role::Agent)
        .or_else(|_| authorize(&s.tokens, &headers, Role::Viewer))?;
    let world = q
        .world
        .ok_or_else(|| AppError::BadRequest("`world` is required: ?world=W".into()))?;
    valid_name(&world, "world")?;
    let state = Subscriber {
        world,
        book: s.overrides.subscribe(),
        stop: s.overrides.stopped(),
        first: true,
        _open: Open::count(&s.metrics.override_streams),
    };
    let events = stream::unfold(state, |mut sub| async move {
        let event = sub.next().await?;
        Some((Ok(event), sub))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive")))
}

struct Subscriber {
    world: String,
    book: watch::Receiver<Arc<Book>>,
    stop: watch::Receiver<bool>,
    first: bool,
    _open: Open,
}

/// One on the open-streams gauge while it lives.
struct Open(Gauge);

impl Open {
    fn count(streams: &Gauge) -> Open {
        streams.increment(1.0);
        Open(streams.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl Subscriber {
    /// The next event; `None` ends the stream (shutdown), so the server's
    /// graceful stop is not held up by connections that never finish.
    async fn next(&mut self) -> Option<Event> {
        if *self.stop.borrow() {
            return None;
        }
        if !std::mem::take(&mut self.first) {
            tokio::select! {
                changed = self.book.changed() => changed.ok()?,
                _ = self.stop.wait_for(|s| *s) => return None,
            }
        }
        let set = self.book.borrow_and_update().set_for(&self.world);
        let data = serde_json::to_string(&set).ok()?;
        Some(Event::default().event("overrides").data(data))
    }
}
