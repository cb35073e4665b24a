//! A generic webhook: POST each delivery as the file line's JSON object,
//! retried with backoff on network errors, 5xx and 429 (after its
//! `Retry-After`) up to `max_attempts`. Other 4xx are the receiver saying
//! no: not retried.

use std::time::Duration;

use liveops_config::RetryConfig;
use liveops_protocol::Delivery;

use super::retry::{Schedule, deliver, post_json};
use super::{Carrier, Ctx};

/// How long one delivery is tried at most, besides `max_attempts`.
const DEADLINE: Duration = Duration::from_secs(120);

pub struct Webhook {
    http: reqwest::Client,
    url: String,
    max_attempts: u32,
    retry: RetryConfig,
}

impl Webhook {
    pub fn new(http: reqwest::Client, url: &str, max_attempts: u32, timeout: Duration) -> Self {
        Webhook {
            http,
            url: url.to_owned(),
            max_attempts,
            retry: RetryConfig {
                timeout,
                deadline: DEADLINE,
            },
        }
    }
}

impl Carrier for Webhook {
    async fn carry(&self, ctx: &Ctx, d: &Delivery) -> Result<(), String> {
        let body = super::file::line(d);
        let schedule = Schedule::new(self.retry, Some(self.max_attempts));
        deliver(ctx, schedule, || {
            post_json(&self.http, &self.url, &body, self.retry.timeout)
        })
        .await
    }
}
