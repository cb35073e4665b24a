//! `POST /api/v1/reports`: agents (role `agent`), a JSON report read part
//! by part ([`liveops_protocol::decode`]): the good parts are taken, each
//! bad one is refused, counted and named in the acknowledgement, so one
//! broken series never costs a world its health or its other series.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use liveops_config::Role;
use liveops_protocol::RefusedPart;
use liveops_protocol::decode::{Refusal, decode_report};
use liveops_protocol::report::ReportAck;

use super::AppError;
use crate::auth::AuthError;
use crate::events::Event;
use crate::now_ms;
use crate::state::{Accepted, Shared};

pub async fn post(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ReportAck>, AppError> {
    let started = Instant::now();
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    s.tokens.check(auth, Role::Agent).inspect_err(|e| {
        let reason = if *e == AuthError::Unauthenticated {
            "unauthenticated"
        } else {
            "forbidden"
        };
        s.metrics.rejected(reason);
    })?;
    let decoded = decode_report(&body, now_ms()).map_err(|e| {
        s.metrics.rejected(match e {
            Refusal::Malformed(_) => "malformed",
            Refusal::Invalid(_) => "invalid",
        });
        AppError::BadRequest(e.to_string())
    })?;
    let mut refused = decoded.refused;
    let mut report = decoded.report;
    let (seq, world) = (report.seq, report.world.clone());
    if !decoded.health_ok {
        // Uptime for this interval is unknown, not zero: keep the world's
        // last known state and count none of the interval.
        report.health = s.last_health(&report.world);
    }
    let outcome = s
        .accept(&report)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // Also for a duplicate: the audit log keeps its own record of which
    // reports it holds, so a replay after a crash between journal and
    // audit is recorded once, and a plain replay not again.
    if !report.flag_reloads.is_empty() {
        let n = report.flag_reloads.len();
        let shared = s.clone();
        let reloads = Event::FlagReloads {
            agent: report.agent.clone(),
            world: report.world.clone(),
            report_seq: report.seq,
            reloads: std::mem::take(&mut report.flag_reloads),
        };
        let recorded = tokio::task::spawn_blocking(move || shared.events.publish(vec![reloads]))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if let Err(e) = recorded {
            // The series and health are in; only the reload records wait.
            // The audit log refuses appends while its chain is broken:
            // that must not blind the collector to the world.
            tracing::error!(error = %e, "flag reloads of a report not audited");
            refused.extend((0..n).map(|i| RefusedPart {
                part: format!("flag_reloads[{i}]"),
                reason: format!("not recorded in the audit log: {e}"),
            }));
        }
    }
    if let Accepted::New(position) = outcome {
        let waited = Instant::now();
        s.store
            .durable(position)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        s.metrics
            .journal_wait
            .record(waited.elapsed().as_secs_f64());
    }
    let duplicate = outcome == Accepted::Duplicate;
    if duplicate {
        s.metrics.duplicates.increment(1);
    } else {
        s.metrics.reports.increment(1);
    }
    for r in &refused {
        s.metrics.part_refused(r.kind());
    }
    if !refused.is_empty() && !duplicate {
        tracing::warn!(%world, seq, refused = ?refused, "parts of a report refused; the rest was taken");
    }
    s.metrics
        .report_latency
        .record(started.elapsed().as_secs_f64());
    Ok(Json(ReportAck {
        seq,
        duplicate,
        refused,
    }))
}
