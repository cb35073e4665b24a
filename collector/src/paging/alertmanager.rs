//! `POST /api/v1/alertmanager`: Alertmanager's webhook (payload version
//! 4), so alerts from an existing Prometheus are routed, escalated and
//! paged like the collector's own. Alertmanager sends the token through
//! its `http_config` (`authorization: { credentials: … }`); a token with
//! role `agent` (senders of alerts) or `admin` is accepted.
//!
//! Each alert is taken or refused on its own: a broken one is named (its
//! index and why) in the answer, the others are paged.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use liveops_config::Role;
use liveops_protocol::{AlertStatus, Notification};
use serde::Deserialize;
use serde_json::{Value, json};

use super::book::Input;
use super::http::pager;
use crate::http::{AppError, authorize, blocking};
use crate::state::Shared;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    status: String,
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: String,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
}

/// Largest webhook body taken: Alertmanager sends a whole group at once
/// (`max_alerts` 0 is unlimited), so more than other operator requests.
pub(super) const MAX_BYTES: usize = 1 << 20;

/// Alertmanager's "no end yet".
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub(super) async fn receive(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    authorize(&s.tokens, &headers, Role::Agent)?;
    let p = pager(&s)?;
    let (alerts, refused) = parse(&body)?;
    let taken = alerts.len();
    for (i, why) in &refused {
        tracing::warn!(index = i, error = %why, "an Alertmanager alert was refused");
    }
    blocking(move || {
        for n in alerts {
            p.handle(&s.events, Input::Alert(n), crate::now_ms())?;
        }
        Ok::<_, super::PagingError>(())
    })
    .await?;
    let refused: Vec<Value> = refused
        .into_iter()
        .map(|(index, error)| json!({ "index": index, "error": error }))
        .collect();
    Ok(Json(json!({ "accepted": taken, "refused": refused })))
}

/// Alerts refused, by index in the payload, with why.
type Refused = Vec<(usize, String)>;

/// The alerts to take, and the refused ones by index with why.
fn parse(body: &[u8]) -> Result<(Vec<Notification>, Refused), AppError> {
    let bad = |m: String| AppError::BadRequest(m);
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("not an Alertmanager webhook payload: {e}")))?;
    match v.get("version").and_then(Value::as_str) {
        Some("4") => {}
        other => {
            return Err(bad(format!(
                "webhook payload version {other:?} is not supported; Alertmanager sends \"4\""
            )));
        }
    }
    let Some(list) = v.get("alerts").and_then(Value::as_array) else {
        return Err(bad("`alerts` must be an array".into()));
    };
    let external = v.get("externalURL").and_then(Value::as_str).unwrap_or("");
    let mut taken = Vec::new();
    let mut refused = Vec::new();
    for (i, a) in list.iter().enumerate() {
        match alert(a, external) {
            Ok(n) => taken.push(n),
            Err(why) => refused.push((i, why)),
        }
    }
    Ok((taken, refused))
}

fn alert(v: &Value, external: &str) -> Result<Notification, String> {
    let a: AmAlert = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let status = match a.status.as_str() {
        "firing" => AlertStatus::Firing,
        "resolved" => AlertStatus::Resolved,
        other => {
            return Err(format!(
                "`status` is `{other}`, expected `firing` or `resolved`"
            ));
        }
    };
    if !a.labels.contains_key("alertname") {
        return Err("no `alertname` label".into());
    }
    for k in a.labels.keys() {
        liveops_protocol::name::check(k, "label name")?;
    }
    let starts_at = time(&a.starts_at, "startsAt")?;
    let ends_at = match a.ends_at {
        Some(e) if e != ZERO_TIME && status == AlertStatus::Resolved => Some(time(&e, "endsAt")?),
        _ => None,
    };
    // An alert posted without one (most that do not come from Prometheus)
    // arrives with "": the Alertmanager itself is the next best link.
    let generator_url = a
        .generator_url
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| external.to_owned());
    Ok(Notification {
        status,
        labels: a.labels,
        annotations: a.annotations,
        starts_at,
        ends_at,
        generator_url,
    })
}

/// An RFC 3339 time as Alertmanager writes it (nanoseconds, any offset)
/// in the collector's own form (UTC, milliseconds): the channels pass it
/// on to services with stricter parsers (Discord's embed timestamp).
fn time(s: &str, field: &str) -> Result<String, String> {
    let t: liveops_oncall::jiff::Timestamp = s.parse().map_err(|e| {
        format!(
            "`{field}` `{}` is not an RFC 3339 time: {e}",
            s.escape_debug()
        )
    })?;
    let ms =
        u64::try_from(t.as_millisecond()).map_err(|_| format!("`{field}` `{s}` is before 1970"))?;
    Ok(crate::rfc3339(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_alerts_are_taken_and_bad_ones_named() {
        let body = json!({
            "version": "4",
            "status": "firing",
            "externalURL": "http://am.test",
            "alerts": [
                {"status": "firing", "labels": {"alertname": "DiskFull", "world": "w1"},
                 "annotations": {"summary": "disk"}, "startsAt": "2026-10-27T12:00:00Z",
                 "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "ab12"},
                {"status": "pending", "labels": {"alertname": "X"}, "startsAt": "t"},
                {"status": "firing", "labels": {"world": "w1"}, "startsAt": "t"},
                {"labels": {}},
                {"status": "resolved", "labels": {"alertname": "DiskFull", "world": "w1"},
                 "startsAt": "2026-10-27T12:00:00Z", "endsAt": "2026-10-27T12:05:00Z"}
            ]
        });
        let (taken, refused) = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].ends_at, None);
        assert_eq!(taken[0].starts_at, "2026-10-27T12:00:00.000Z");
        assert_eq!(taken[0].generator_url, "http://am.test");
        assert_eq!(
            taken[1].ends_at.as_deref(),
            Some("2026-10-27T12:05:00.000Z")
        );
        let idx: Vec<usize> = refused.iter().map(|r| r.0).collect();
        assert_eq!(idx, [1, 2, 3]);
        assert!(refused[0].1.contains("`pending`"), "{refused:?}");
        assert!(refused[1].1.contains("alertname"), "{refused:?}");
        assert!(refused[2].1.contains("missing field"), "{refused:?}");
        for bad in [
            r#"{"version":"3","alerts":[]}"#,
            r#"{"version":"4"}"#,
            "nope",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// What a real Alertmanager 0.25 sends for an alert posted without a
    /// `generatorURL`: nanoseconds, an empty link, and later the resolve.
    #[test]
    fn alertmanagers_own_times_and_empty_links_are_taken() {
        let body = json!({
            "receiver": "hook", "status": "resolved", "version": "4",
            "externalURL": "http://am:9093", "groupKey": "{}:{alertname=\"X\"}",
            "truncatedAlerts": 0, "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "alerts": [
                {"status": "resolved", "labels": {"alertname": "X", "world": "w1"}, "annotations": {},
                 "startsAt": "2026-12-02T02:04:40.176290757Z", "endsAt": "2026-12-02T03:04:43+01:00",
                 "generatorURL": "", "fingerprint": "dce5945bdfceeacc"},
                {"status": "firing", "labels": {"alertname": "Y"}, "startsAt": "yesterday"}
            ]
        });
        let (taken, refused) = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(taken[0].starts_at, "2026-12-02T02:04:40.176Z");
        assert_eq!(
            taken[0].ends_at.as_deref(),
            Some("2026-12-02T02:04:43.000Z")
        );
        assert_eq!(taken[0].generator_url, "http://am:9093");
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, 1);
        assert!(
            refused[0]
                .1
                .starts_with("`startsAt` `yesterday` is not an RFC 3339 time"),
            "{refused:?}"
        );
    }
}
