//! OFREP (the OpenFeature Remote Evaluation Protocol) on the agent, so any
//! OpenFeature SDK with an OFREP provider reads the flags:
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}` → 200 `{key, value, reason,
//!   variant, metadata}`, 404 `FLAG_NOT_FOUND`, 400 `INVALID_CONTEXT` or
//!   `PARSE_ERROR` (`{key, errorCode, errorDetails}`).
//! - `POST /ofrep/v1/evaluate/flags` → 200 `{flags: [...]}` with an `ETag`;
//!   `If-None-Match` with it → 304.
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
            Err(e) => Item::Err(Failure {
                key: Some(&f.key),
                error_code: e.code(),
                error_details: match &e {
                    EvalError::ParseError(why) => why.clone(),
                    EvalError::FlagNotFound => "flag not defined".into(),
                },
                reason: Some("ERROR"),
            }),
        })
        .collect();
    json(StatusCode::OK, &Bulk { flags: items }, Some(etag))
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
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
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
        reason: None,
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
mod tests {
    use super::*;
    use liveops_flags::SnapshotDoc;

    #[test]
    fn etags_follow_the_context_and_match_lists_weak_tags_and_stars() {
        let snap = Snapshot::new(SnapshotDoc {
            version: "v1".into(),
            ..SnapshotDoc::default()
        });
        let ctx = |p: &str| Context {
            player: Some(p.into()),
            ..Context::default()
        };
        let tag = bulk_etag(&snap, &ctx("7"));
        assert_eq!(tag, bulk_etag(&snap, &ctx("7")));
        assert_ne!(tag, bulk_etag(&snap, &ctx("8")));
        assert!(tag.to_str().unwrap().starts_with("\"v1-"));

        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            h
        };
        let t = tag.to_str().unwrap();
        assert!(not_modified(&with(t), &tag));
        assert!(not_modified(&with(&format!("\"x\", W/{t}")), &tag));
        assert!(not_modified(&with("*"), &tag));
        assert!(!not_modified(&with("\"v1-0\""), &tag));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }
}
