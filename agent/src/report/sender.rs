//! Drains the spool to the collector, oldest report first.
//!
//! One report is in flight at a time so that the collector sees sequence
//! numbers in order. A report is removed from the spool only after the
//! collector acknowledged it; a lost acknowledgement means the report is
//! sent again and the collector drops the duplicate.
//!
//! One bad report must neither block the spool nor vanish: what the
//! collector's answer says about the report decides (see [`classify`]).
//! A report the collector calls wrong, or keeps failing on, is moved to the
//! dead letters ([`super::dead`]) and the spool moves on; when the
//! collector or the token is at fault, the report stays and is replayed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use liveops_config::Secret;
use liveops_protocol::backoff::Backoff;
use liveops_protocol::report::{REPORTS_PATH, RefusedPart, ReportAck};
use reqwest::StatusCode;
use tokio::sync::{Notify, watch};

use super::spool::Spool;
use crate::telemetry::AgentMetrics;

pub struct Sender {
    pub http: reqwest::Client,
    pub url: String,
    pub token: Option<Secret>,
    pub spool: Arc<Spool>,
    pub metrics: Arc<AgentMetrics>,
    /// Rung when a report was spooled.
    pub wake: Arc<Notify>,
    /// Failed attempts at one report before it is dead-lettered.
    pub max_attempts: u32,
    attempts: Attempts,
}

/// What the collector's answer means for the report.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Taken; the collector may have refused some parts of it.
    Delivered(Vec<RefusedPart>),
    /// The collector says this report itself is wrong: retrying cannot
    /// help, so it is dead-lettered at once.
    Rejected { status: u16, error: String },
    /// Failed in a way that may be this report's fault (a 5xx, an
    /// unreadable acknowledgement): counts towards `max_attempts`.
    Failed { status: Option<u16>, error: String },
    /// Not the report's fault (the network, the token, throttling): it
    /// stays spooled however long this lasts.
    Retry(String),
}

/// Failed attempts at the report at the head of the spool. In memory: a
/// restart gives a report a fresh count, which only delays its dead letter.
#[derive(Debug, Default)]
struct Attempts {
    seq: u64,
    failed: u32,
}

impl Attempts {
    /// Counts one failed attempt at `seq`; returns the count so far.
    fn fail(&mut self, seq: u64) -> u32 {
        if self.seq != seq {
            *self = Attempts { seq, failed: 0 };
        }
        self.failed += 1;
        self.failed
    }

    /// Attempts made at `seq`, including one that just ended.
    fn made(&self, seq: u64) -> u32 {
        if self.seq == seq { self.failed + 1 } else { 1 }
    }
}

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Longest collector message kept in a dead letter or a log line.
const MAX_ERROR_CHARS: usize = 500;

impl Sender {
    pub fn new(
        http: reqwest::Client,
        collector: &str,
        token: Option<Secret>,
        spool: Arc<Spool>,
        metrics: Arc<AgentMetrics>,
        max_attempts: u32,
    ) -> Self {
        Self {
            http,
            url: format!("{collector}{REPORTS_PATH}"),
            token,
            spool,
            metrics,
            wake: Arc::new(Notify::new()),
            max_attempts: max_attempts.max(1),
            attempts: Attempts::default(),
        }
    }

    /// Runs until `stop` turns true, then tries once more to deliver what is
    /// spooled, for at most `final_deadline`.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>, final_deadline: Duration) {
        let mut backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF);
        loop {
            if *stop.borrow() {
                break;
            }
            match self.drain(None).await {
                Ok(()) => {
                    backoff.reset();
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = stop.changed() => {}
                    }
                }
                Err(why) => {
                    let wait = backoff.next_delay();
                    tracing::debug!(error = %why, retry_in = ?wait, "report not delivered");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
        let deadline = Instant::now() + final_deadline;
        if let Err(why) = self.drain(Some(deadline)).await {
            tracing::warn!(spooled = self.spool.len(), error = %why, "collector unreachable at shutdown; reports stay spooled for the next start");
        }
    }

    /// Sends spooled reports until the spool is empty or one must wait.
    async fn drain(&mut self, deadline: Option<Instant>) -> Result<(), String> {
        while let Some((seq, body)) = self.spool.first().map_err(|e| e.to_string())? {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err("shutdown deadline reached".into());
            }
            match self.send(body.to_vec()).await {
                Outcome::Delivered(refused) => {
                    self.metrics.reports_sent.increment(1);
                    self.note_refused(seq, &refused);
                    self.spool.remove(seq).map_err(|e| e.to_string())?;
                }
                Outcome::Rejected { status, error } => {
                    self.metrics.report_failures.increment(1);
                    let attempts = self.attempts.made(seq);
                    self.dead_letter(seq, attempts, Some(status), &error)?;
                }
                Outcome::Failed { status, error } => {
                    self.metrics.report_failures.increment(1);
                    let attempts = self.attempts.fail(seq);
                    if attempts < self.max_attempts {
                        return Err(error);
                    }
                    self.dead_letter(seq, attempts, status, &error)?;
                }
                Outcome::Retry(why) => {
                    self.metrics.report_failures.increment(1);
                    return Err(why);
                }
            }
            self.metrics.spool_reports.set(self.spool.len() as f64);
        }
        Ok(())
    }

    fn dead_letter(
        &self,
        seq: u64,
        attempts: u32,
        status: Option<u16>,
        error: &str,
    ) -> Result<(), String> {
        let dropped_before = self.spool.dead().dropped();
        if self
            .spool
            .dead_letter(seq, attempts, status, error)
            .map_err(|e| e.to_string())?
            .is_some()
        {
            self.metrics.dead_lettered.increment(1);
            tracing::error!(
                seq,
                attempts,
                ?status,
                error,
                "the collector will not take this report; moved to the dead letters (see `liveops agent dead-letters`)"
            );
        }
        let dropped = self.spool.dead().dropped() - dropped_before;
        if dropped > 0 {
            self.metrics.dead_letters_dropped.increment(dropped);
            tracing::warn!(dropped, "dead letters full: oldest dropped");
        }
        self.metrics
            .dead_letters
            .set(self.spool.dead().len() as f64);
        Ok(())
    }

    /// The report was taken but some parts of it were not: said once each,
    /// since the report will not be sent again.
    fn note_refused(&self, seq: u64, refused: &[RefusedPart]) {
        for p in refused {
            tracing::warn!(seq, part = %p.part, reason = %p.reason, "the collector refused part of a report");
        }
        if !refused.is_empty() {
            self.metrics
                .report_refused_parts
                .increment(refused.len() as u64);
        }
    }

    async fn send(&self, body: Vec<u8>) -> Outcome {
        let started = Instant::now();
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let outcome = match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                    tracing::warn!(%status, "collector refused the agent token; reports stay spooled");
                }
                let body = resp.bytes().await;
                match body {
                    Ok(body) => classify(status, &body),
                    // The answer was cut off: as good as no answer.
                    Err(e) => Outcome::Retry(format!("reading the collector's answer: {e}")),
                }
            }
            Err(e) => Outcome::Retry(e.to_string()),
        };
        self.metrics
            .report_latency
            .record(started.elapsed().as_secs_f64());
        outcome
    }
}

/// What a collector's answer (`status`, `body`) means for the report.
///
/// 401, 403 (the token), 408 (a timeout) and 429 (throttling) are about
/// the collector or the agent, not this report: retried forever, as a
/// network error is. Any other 4xx is the collector calling this report
/// wrong. A 5xx, a 2xx that is not an acknowledgement, or anything else
/// may be either: a few attempts, then a dead letter.
pub fn classify(status: StatusCode, body: &[u8]) -> Outcome {
    let code = status.as_u16();
    if status.is_success() {
        return match serde_json::from_slice::<ReportAck>(body) {
            Ok(ack) => Outcome::Delivered(ack.refused),
            Err(e) => Outcome::Failed {
                status: Some(code),
                error: format!("unreadable acknowledgement ({status}): {e}"),
            },
        };
    }
    let error = format!("collector answered {status}{}", message(body));
    match code {
        401 | 403 | 408 | 429 => Outcome::Retry(error),
        400..=499 => Outcome::Rejected {
            status: code,
            error,
        },
        _ => Outcome::Failed {
            status: Some(code),
            error,
        },
    }
}

/// `: <the collector's message>`, from its JSON `{"error": …}` or its text,
/// shortened; empty when there is none.
fn message(body: &[u8]) -> String {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let text = match json.as_ref().and_then(|v| v.get("error")) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if text.is_empty() {
        return String::new();
    }
    let short: String = text.chars().take(MAX_ERROR_CHARS).collect();
    format!(": {short}")
}

#[cfg(test)]
#[path = "sender_tests.rs"]
mod tests;
