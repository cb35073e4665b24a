//! A generic webhook: POST one notification as JSON, retried with
//! jittered exponential backoff (0.5 s, 1 s, 2 s, … capped at 30 s) on network errors,
//! 5xx and 429. A 4xx other than 429 is the receiver saying no: not retried.

use std::sync::Arc;
use std::time::Duration;

use liveops_protocol::Notification;
use liveops_protocol::backoff::Backoff;
use tokio::sync::mpsc;

use super::Job;
use crate::telemetry::CollectorMetrics;

pub struct Webhook {
    /// The `notifier` label of its metrics and log lines, unique per
    /// collector (the config sees to it), so each receiver shows apart.
    pub name: String,
    pub http: reqwest::Client,
    pub url: String,
    pub max_attempts: u32,
    pub timeout: Duration,
}

impl Webhook {
    pub async fn run(self, mut rx: mpsc::Receiver<Job>, metrics: Arc<CollectorMetrics>) {
        while let Some(job) = rx.recv().await {
            let outcome = self.deliver(&job.n).await;
            match &outcome {
                Ok(()) => metrics.notification_sent(&self.name),
                Err(why) => {
                    metrics.notification_failed(&self.name);
                    tracing::error!(notifier = %self.name, url = %self.url, alert = ?job.n.label("alertname"), error = %why, "webhook delivery failed");
                }
            }
            job.finish(outcome);
        }
    }

    async fn deliver(&self, n: &Notification) -> Result<(), String> {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            match self
                .http
                .post(&self.url)
                .timeout(self.timeout)
                .json(n)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r)
                    if r.status().is_client_error()
                        && r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS =>
                {
                    return Err(format!("receiver answered {}", r.status()));
                }
                Ok(r) => last = format!("receiver answered {}", r.status()),
                Err(e) => last = e.to_string(),
            }
            if attempt < self.max_attempts {
                let wait = backoff.next_delay();
                tracing::warn!(notifier = %self.name, url = %self.url, attempt, error = %last, retry_in = ?wait, "webhook delivery failed; retrying");
                tokio::time::sleep(wait).await;
            }
        }
        Err(format!("{last} (after {} attempts)", self.max_attempts))
    }
}
