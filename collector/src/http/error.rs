//! Errors as an HTTP client sees them: what was wrong with its request,
//! never internal detail (which is logged instead).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::CollectorError;
use crate::auth::AuthError;

#[derive(Debug)]
pub enum AppError {
    BadRequest(String),
    Unauthorized,
    Forbidden(String),
    NotFound(String),
    /// The request contradicts the current state.
    Conflict(String),
    /// The collector cannot do this now, and says why (the audit log is
    /// broken, say): 503, so callers know to retry once it is fixed.
    Unavailable(String),
    /// What the collector relied on (an agent, a game) failed: 502.
    BadGateway(String),
    Internal(String),
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated => AppError::Unauthorized,
            AuthError::Forbidden { have, need } => AppError::Forbidden(format!(
                "this needs role `{}`; the token has `{}`",
                need.as_str(),
                have.as_str()
            )),
        }
    }
}

impl From<CollectorError> for AppError {
    fn from(e: CollectorError) -> Self {
        match e {
            CollectorError::AuditBroken(_) => AppError::Unavailable(format!(
                "{e}; changes are refused until it is fixed (see `liveops audit verify`, then `liveops audit reseal`)"
            )),
            e => AppError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "a valid bearer token is required".to_owned(),
            ),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::Conflict(m) => (StatusCode::CONFLICT, m),
            AppError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            AppError::BadGateway(m) => (StatusCode::BAD_GATEWAY, m),
            AppError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; see the collector's log".to_owned(),
                )
            }
        };
        let mut resp = (status, Json(json!({ "error": msg }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
