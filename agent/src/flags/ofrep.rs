//! OFREP (the OpenFeature Remote Evaluation Protocol) on the agent, so any
//! OpenFeature SDK with an OFREP provider reads the flags:
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}` → 200 `{key, value, reason,
//!   variant, metadata}`, 404 `FLAG_NOT_FOUND`, 400 `INVALID_CONTEXT` or
//!   `PARSE_ERROR` (`{key, errorCode, errorDetails}`).
//! - `POST /ofrep/v1/evaluate/flags` → 200 `{flags: [...],
//!   refreshConnections}` with an `ETag`; `If-None-Match` with it → 304. A
//!   flag that fails to evaluate is a failure item (`{key, errorCode,
//!   errorDetails}`), as the OFREP schema has it. `refreshConnections`
//!   points at the agent's OFREP event stream (ADR 0008), so web and
//!   mobile providers refetch on change instead of polling; the
//!   `sseEtag`/`sseLastModified` query they add on a refetch is ignored
//!   (the `ETag` already tells whether anything changed).
//!
//! The request body is `{"context": {...}}`; of the context only
//! `targetingKey`, `world`, `village`, `account` and `player` matter
//! (strings, or integers, as player ids often are), other attributes are
//! ignored, and `world` defaults to this agent's world. This is the hot
//! path: the snapshot is read without a lock and answers are written
//! straight from borrowed data.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use liveops_flags::{Context, EvalError, Evaluation, FlagValue, Snapshot};
use liveops_protocol::flags::OFREP_EVENTS_PATH;
use serde::Serialize;

use super::Flags;
use super::context::parse_context;

/// Evaluates one flag.
pub async fn evaluate_one(
    State(flags): State<Arc<Flags>>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match parse_context(&body, flags.world()) {
        Ok(ctx) => ctx,
        Err(why) => return failure(StatusCode::BAD_REQUEST, Some(&key), "INVALID_CONTEXT", &why),
    };
    let current = flags.current();
    match current.snapshot.evaluate(&key, &ctx, SystemTime::now()) {
        Ok(e) => json(StatusCode::OK, &success(&key, &e), None),
        Err(EvalError::FlagNotFound) => failure(
            StatusCode::NOT_FOUND,
            Some(&key),
            "FLAG_NOT_FOUND",
            &format!("flag `{key}` is not defined in the flag file"),
        ),
        Err(EvalError::ParseError(why)) => {
            failure(StatusCode::BAD_REQUEST, Some(&key), "PARSE_ERROR", &why)
        }
    }
}

/// Evaluates every flag for one context.
pub async fn evaluate_all(
    State(flags): State<Arc<Flags>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = match parse_context(&body, flags.world()) {
        Ok(ctx) => ctx,
        Err(why) => return failure(StatusCode::BAD_REQUEST, None, "INVALID_CONTEXT", &why),
    };
    let current = flags.current();
    let etag = bulk_etag(&current.snapshot, &ctx);
    if not_modified(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let now = SystemTime::now();
    let items: Vec<Item<'_>> = current
        .snapshot
        .flags()
        .iter()
        .map(|f| match current.snapshot.evaluate(&f.key, &ctx, now) {
            Ok(e) => Item::Ok(success(&f.key, &e)),
            // Only a parse error can happen here: the key was just listed.
            Err(e) => Item::Err(Failure {
                key: Some(&f.key),
                error_code: e.code(),
                error_details: match &e {
                    EvalError::ParseError(why) => why.clone(),
                    EvalError::FlagNotFound => "flag not defined".into(),
                },
            }),
        })
        .collect();
    let refresh_connections = events_url(&headers).map(|url| [Refresh { kind: "sse", url }]);
    let bulk = Bulk {
        flags: items,
        refresh_connections,
    };
    json(StatusCode::OK, &bulk, Some(etag))
}

/// The event stream's absolute URL, on the host and port the client used
/// (which a proxy or port forward may have changed from the bound ones).
/// Without a usable `Host` (HTTP/1.1 requires one) nothing is advertised
/// and providers poll as before.
fn events_url(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let authority: axum::http::uri::Authority = host.parse().ok()?;
    // `Authority` also takes `user@host`, which has no place in a link.
    if authority.as_str().contains('@') {
        return None;
    }
    Some(format!("http://{authority}{OFREP_EVENTS_PATH}"))
}

/// One OFREP change event: `id` the version (stable per change), default
/// event type so `EventSource.onmessage` fires, and the ADR 0008 payload.
pub fn refetch_event(version: &str) -> String {
    // Versions are the agent's own hex digests and counters; a line break
    // would end the field, so none may pass in any case.
    let version: String = version.chars().filter(|c| !c.is_control()).collect();
    let data = serde_json::json!({
        "type": "refetchEvaluation",
        "etag": format!("\"{version}\""),
        "lastModified": liveops_protocol::time::now_ms() / 1000,
    });
    format!("id: {version}\ndata: {data}\n\n")
}

/// `"<snapshot version>-<hash of the context>"`: equal tags mean equal
/// answers, because an answer depends only on the snapshot (whose version
/// moves with every change, expiries included) and the context.
pub fn bulk_etag(snapshot: &Snapshot, ctx: &Context) -> HeaderValue {
    let mut h = DefaultHasher::new();
    for field in [
        &ctx.targeting_key,
        &ctx.world,
        &ctx.village,
        &ctx.account,
        &ctx.player,
    ] {
        field.hash(&mut h);
    }
    let tag = format!("\"{}-{:016x}\"", snapshot.version(), h.finish());
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether `If-None-Match` names `etag` (or `*`); weak tags compare too.
pub fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let want = etag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(|t| t.trim_ascii())
        .any(|t| t == b"*" || t.strip_prefix(b"W/").unwrap_or(t) == want)
}

#[derive(Serialize)]
struct Success<'a> {
    key: &'a str,
    value: &'a FlagValue,
    reason: &'static str,
    /// Always present: the Python OFREP provider requires it.
    variant: Shown<liveops_flags::Variant<'a>>,
    metadata: Empty,
}

#[derive(Serialize)]
struct Failure<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(rename = "errorCode")]
    error_code: &'static str,
    #[serde(rename = "errorDetails")]
    error_details: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Ok(Success<'a>),
    Err(Failure<'a>),
}

#[derive(Serialize)]
struct Bulk<'a> {
    flags: Vec<Item<'a>>,
    #[serde(rename = "refreshConnections", skip_serializing_if = "Option::is_none")]
    refresh_connections: Option<[Refresh; 1]>,
}

/// ADR 0008's `refreshConnections` item.
#[derive(Serialize)]
struct Refresh {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

/// `{}`
#[derive(Serialize)]
struct Empty {}

/// Serializes through `Display`, without an intermediate `String`.
struct Shown<T>(T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

fn success<'a>(key: &'a str, e: &Evaluation<'a>) -> Success<'a> {
    Success {
        key,
        value: e.value,
        reason: e.reason.as_str(),
        variant: Shown(e.variant),
        metadata: Empty {},
    }
}

fn failure(status: StatusCode, key: Option<&str>, code: &'static str, details: &str) -> Response {
    let body = Failure {
        key,
        error_code: code,
        error_details: details.to_owned(),
    };
    json(status, &body, None)
}

fn json<T: Serialize>(status: StatusCode, body: &T, etag: Option<HeaderValue>) -> Response {
    let mut buf = Vec::with_capacity(128);
    if serde_json::to_writer(&mut buf, body).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut resp = Response::new(Body::from(buf));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(etag) = etag {
        h.insert(header::ETAG, etag);
    }
    resp
}

#[cfg(test)]
mod tests;
