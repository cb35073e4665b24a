//! The last line of defence: a handler that panics answers 500 and is
//! counted, instead of dropping the connection (which an agent would take
//! for a network error and retry forever) or taking the task down.
//! Handlers are written not to panic; this makes a missed case visible
//! rather than fatal.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use super::AppError;
use crate::state::Shared;

pub async fn catch(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let route = req.uri().path().to_owned();
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(resp) => resp,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            s.metrics.handler_panicked();
            AppError::Internal(format!("handler for {route} panicked: {what}")).into_response()
        }
    }
}
