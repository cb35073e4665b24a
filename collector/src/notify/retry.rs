//! The one retry loop every HTTP and SMTP channel shares.
//!
//! [`Schedule`] is the pure part: given how long the delivery has been
//! tried and what the receiver asked for (`Retry-After`), it says how long
//! to wait or that it is time to give up. [`deliver`] runs attempts on it.
//! A refusal (a 4xx other than 429, a permanent SMTP error) is the receiver
//! saying no, and is not retried.

use std::future::Future;
use std::time::{Duration, SystemTime};

use liveops_config::RetryConfig;
use liveops_protocol::backoff::Backoff;

use super::Ctx;

/// What one attempt came to.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Delivered,
    /// Final: trying again would get the same answer.
    Refused(String),
    /// Worth another try, not before `retry_after` when the receiver said so.
    Failed {
        why: String,
        retry_after: Option<Duration>,
    },
}

/// The first wait between attempts, doubling up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

pub(crate) struct Schedule {
    deadline: Duration,
    max_attempts: u32,
    attempts: u32,
    backoff: Backoff,
}

impl Schedule {
    pub(crate) fn new(retry: RetryConfig, max_attempts: Option<u32>) -> Schedule {
        Schedule {
            deadline: retry.deadline,
            max_attempts: max_attempts.unwrap_or(u32::MAX).max(1),
            attempts: 0,
            backoff: Backoff::new(BACKOFF_MIN, BACKOFF_MAX),
        }
    }

    /// After a failed attempt, `elapsed` since the first one began: the
    /// wait before the next, or `None` to give up. A backoff that would
    /// end past the deadline is shortened to one last try at it; a
    /// `Retry-After` past the deadline is respected, so that is giving up.
    pub(crate) fn after_failure(
        &mut self,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        self.attempts += 1;
        let left = self
            .deadline
            .checked_sub(elapsed)
            .filter(|l| !l.is_zero())?;
        if self.attempts >= self.max_attempts {
            return None;
        }
        match retry_after {
            Some(wait) if wait > left => None,
            Some(wait) => Some(wait.max(BACKOFF_MIN.min(left))),
            None => Some(self.backoff.next_delay().min(left)),
        }
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// Runs `attempt` until it delivers, is refused, or the schedule gives up;
/// every retry is counted and logged (without secrets: `ctx.shown`).
pub(crate) async fn deliver<F, Fut>(
    ctx: &Ctx,
    mut schedule: Schedule,
    mut attempt: F,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Outcome>,
{
    let started = tokio::time::Instant::now();
    loop {
        match attempt().await {
            Outcome::Delivered => return Ok(()),
            Outcome::Refused(why) => return Err(why),
            Outcome::Failed { why, retry_after } => {
                match schedule.after_failure(started.elapsed(), retry_after) {
                    Some(wait) => {
                        ctx.metrics.notification_retried(&ctx.name);
                        tracing::warn!(notifier = %ctx.name, to = %ctx.shown, attempt = schedule.attempts(), error = %why, retry_in = ?wait, "delivery failed; retrying");
                        tokio::time::sleep(wait).await;
                    }
                    None => {
                        return Err(format!(
                            "{why} (gave up after {} attempts in {:.1} s)",
                            schedule.attempts(),
                            started.elapsed().as_secs_f64()
                        ));
                    }
                }
            }
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// One POST of a JSON body, classified: 2xx delivered; 408, 429 and 5xx
/// worth a retry (after `Retry-After` when given); other 4xx refused, with
/// the start of the receiver's answer (PagerDuty's `errors` say why).
pub(crate) async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: &[u8],
    timeout: Duration,
) -> Outcome {
    let sent = http
        .post(url)
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Failed {
                why: error_chain(&e.without_url()),
                retry_after: None,
            };
        }
    };
    let status = resp.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let text = resp.text().await.unwrap_or_default();
    let why = match text.trim() {
        "" => format!("receiver answered {status}"),
        t => format!(
            "receiver answered {status}: {}",
            super::text::truncate(&t.replace(['\r', '\n'], " "), 300)
        ),
    };
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        Outcome::Failed { why, retry_after }
    } else {
        Outcome::Refused(why)
    }
}

/// An error and its causes on one line ("error sending request: connection
/// refused"), as reqwest's own message stops at the first.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(deadline_s: u64) -> RetryConfig {
        RetryConfig {
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(deadline_s),
        }
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = httpdate::parse_http_date("Tue, 01 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // A date already past means now.
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn the_schedule_backs_off_within_the_deadline_then_gives_up() {
        let mut s = Schedule::new(retry(10), None);
        let mut elapsed = Duration::ZERO;
        let mut waits = Vec::new();
        while let Some(w) = s.after_failure(elapsed, None) {
            waits.push(w);
            elapsed += w;
        }
        assert!(elapsed <= Duration::from_secs(10), "{elapsed:?}");
        // 0.5, 1, 2, 4 s bases (each up to half off), then one last try at the deadline.
        assert!(waits.len() >= 4, "{waits:?}");
        assert!(
            waits.windows(2).take(3).all(|w| w[1] > w[0] / 2),
            "{waits:?}"
        );
        assert_eq!(
            elapsed,
            Duration::from_secs(10),
            "the last try is at the deadline"
        );
    }

    #[test]
    fn retry_after_is_honoured_and_one_past_the_deadline_gives_up() {
        let mut s = Schedule::new(retry(120), None);
        assert_eq!(
            s.after_failure(Duration::ZERO, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        // "Retry-After: 0" still waits the floor: no hot loop.
        assert_eq!(
            s.after_failure(Duration::from_secs(7), Some(Duration::ZERO)),
            Some(BACKOFF_MIN)
        );
        assert_eq!(
            s.after_failure(Duration::from_secs(100), Some(Duration::from_secs(30))),
            None
        );
    }

    #[test]
    fn max_attempts_bounds_the_tries() {
        let mut s = Schedule::new(retry(3_600), Some(3));
        assert!(s.after_failure(Duration::ZERO, None).is_some());
        assert!(s.after_failure(Duration::from_secs(1), None).is_some());
        assert_eq!(s.after_failure(Duration::from_secs(2), None), None);
        assert_eq!(s.attempts(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_retries_failures_until_delivered_on_the_controlled_clock() {
        let ctx = Ctx::for_tests("t");
        let mut answers = vec![
            Outcome::Delivered,
            Outcome::Failed {
                why: "503".into(),
                retry_after: None,
            },
            Outcome::Failed {
                why: "429".into(),
                retry_after: Some(Duration::from_secs(1)),
            },
        ];
        let started = tokio::time::Instant::now();
        let got = deliver(&ctx, Schedule::new(retry(120), None), || {
            let a = answers.pop().unwrap();
            async move { a }
        })
        .await;
        assert_eq!(got, Ok(()));
        // 1 s asked by the 429, then a backoff of 0.25–0.5 s.
        let took = started.elapsed();
        // (The paused clock may round each timer up to its millisecond.)
        assert!(
            took >= Duration::from_millis(1_250) && took <= Duration::from_millis(1_510),
            "{took:?}"
        );
        assert_eq!(ctx.metrics_retried(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_stops_at_a_refusal_or_the_deadline() {
        let ctx = Ctx::for_tests("t");
        let refused = deliver(&ctx, Schedule::new(retry(120), None), || async {
            Outcome::Refused("receiver answered 400".into())
        })
        .await;
        assert_eq!(refused, Err("receiver answered 400".into()));
        let started = tokio::time::Instant::now();
        let failed = deliver(&ctx, Schedule::new(retry(60), None), || async {
            Outcome::Failed {
                why: "receiver answered 500".into(),
                retry_after: None,
            }
        })
        .await;
        let why = failed.unwrap_err();
        assert!(
            why.starts_with("receiver answered 500 (gave up after "),
            "{why}"
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(60) && took < Duration::from_millis(60_100),
            "{took:?}"
        );
    }
}
