//! Drains the spool to the collector, oldest report first.
//!
//! One report is in flight at a time so that the collector sees sequence
//! numbers in order. A report is removed from the spool only after the
//! collector acknowledged it; a lost acknowledgement means the report is
//! sent again and the collector drops the duplicate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use liveops_config::Secret;
use liveops_protocol::backoff::Backoff;
use liveops_protocol::report::REPORTS_PATH;
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
}

/// What happened to one attempt.
enum Outcome {
    Delivered,
    /// The collector refused this report for good (malformed): retrying
    /// cannot help, so it is dropped and counted rather than blocking the
    /// spool forever.
    Refused,
    Retry(String),
}

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Sender {
    pub fn new(
        http: reqwest::Client,
        collector: &str,
        token: Option<Secret>,
        spool: Arc<Spool>,
        metrics: Arc<AgentMetrics>,
    ) -> Self {
        Self {
            http,
            url: format!("{collector}{REPORTS_PATH}"),
            token,
            spool,
            metrics,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Runs until `stop` turns true, then tries once more to deliver what is
    /// spooled, for at most `final_deadline`.
    pub async fn run(self, mut stop: watch::Receiver<bool>, final_deadline: Duration) {
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

    /// Sends spooled reports until the spool is empty or one fails.
    async fn drain(&self, deadline: Option<Instant>) -> Result<(), String> {
        while let Some((seq, body)) = self.spool.first().map_err(|e| e.to_string())? {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err("shutdown deadline reached".into());
            }
            match self.send(body.to_vec()).await {
                Outcome::Delivered => self.metrics.reports_sent.increment(1),
                Outcome::Refused => {
                    self.metrics.report_failures.increment(1);
                    tracing::error!(seq, "collector refused a report as malformed; dropping it");
                }
                Outcome::Retry(why) => {
                    self.metrics.report_failures.increment(1);
                    return Err(why);
                }
            }
            self.spool.remove(seq).map_err(|e| e.to_string())?;
            self.metrics.spool_reports.set(self.spool.len() as f64);
        }
        Ok(())
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
            Ok(resp) if resp.status().is_success() => Outcome::Delivered,
            Ok(resp)
                if resp.status() == reqwest::StatusCode::BAD_REQUEST
                    || resp.status() == reqwest::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Outcome::Refused
            }
            Ok(resp) => {
                let status = resp.status();
                if status == reqwest::StatusCode::UNAUTHORIZED
                    || status == reqwest::StatusCode::FORBIDDEN
                {
                    tracing::warn!(%status, "collector refused the agent token; reports stay spooled");
                }
                Outcome::Retry(format!("collector answered {status}"))
            }
            Err(e) => Outcome::Retry(e.to_string()),
        };
        self.metrics
            .report_latency
            .record(started.elapsed().as_secs_f64());
        outcome
    }
}
