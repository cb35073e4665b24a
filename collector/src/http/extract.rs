//! What every handler takes from a request: the caller behind its token,
//! its JSON body, names in it.

use axum::http::{HeaderMap, header};
use liveops_config::Role;

use super::AppError;
use crate::auth::{Caller, Tokens};

/// The caller behind the request's bearer token, if its role allows `need`.
pub fn authorize(tokens: &Tokens, headers: &HeaderMap, need: Role) -> Result<Caller, AppError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    Ok(tokens.check(auth, need)?)
}

/// Decodes a JSON request body; what is wrong goes back to the client.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("invalid request body: {e}")))
}

/// A world (or other label) name: see [`liveops_protocol::name`].
pub fn valid_name(n: &str, what: &str) -> Result<(), AppError> {
    liveops_protocol::name::check(n, what).map_err(AppError::BadRequest)
}

/// Runs blocking work (an fsync, a sled flush) off the async workers.
pub async fn blocking<T: Send + 'static, E: Into<AppError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(Into::into)
}
