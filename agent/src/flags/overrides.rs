//! Operator overrides: the collector's long-lived override stream, and the
//! wake-ups at which an override or a rule expires.
//!
//! The stream sends the whole set that reaches this world in every
//! `overrides` event, the first one on connect, so a reconnect is a full
//! resync and nothing is ever merged. Until the collector answers again the
//! agent keeps serving the last set it had (persisted, so a restart too),
//! and expiry is enforced locally: a time-boxed mitigation ends on time
//! even on an agent cut off from its collector.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use liveops_config::Secret;
use liveops_flags::OverrideSet;
use liveops_protocol::backoff::Backoff;
use liveops_protocol::flags::OVERRIDES_STREAM_PATH;
use tokio::sync::watch;

use super::Flags;
use liveops_protocol::sse::Parser;

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A stream silent this long (not even a keepalive) is presumed dead: a
/// half-open TCP connection would otherwise hold stale overrides forever.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Wake at least this often, so a wall-clock jump delays expiry by no more.
const MAX_EXPIRY_SLEEP: Duration = Duration::from_secs(30);

pub struct Subscription {
    pub flags: Arc<Flags>,
    /// Collector base URL.
    pub collector: String,
    pub token: Option<Secret>,
}

enum End {
    Stopped,
    /// Why the stream ended, and whether it had delivered a set (then the
    /// next attempt starts from the shortest backoff).
    Lost(String, bool),
}

impl Subscription {
    /// Keeps the subscription up until `stop`.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        // Its own client: the shared one times out whole requests, and this
        // one lasts as long as the collector keeps it open.
        let client = match reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .tcp_keepalive(Duration::from_secs(30))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the override stream client; no operator overrides");
                return;
            }
        };
        let url = format!("{}{OVERRIDES_STREAM_PATH}", self.collector);
        let mut backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF);
        let mut failures = 0u32;
        loop {
            match self.stream(&client, &url, &mut stop).await {
                End::Stopped => break,
                End::Lost(why, delivered) => {
                    self.flags.set_stream_connected(false);
                    if delivered {
                        backoff.reset();
                        failures = 0;
                    }
                    failures += 1;
                    // The collector may simply not be up yet: say so once,
                    // then keep quiet while retrying.
                    if failures == 1 {
                        tracing::info!(%url, error = %why, "override stream down; retrying");
                    } else {
                        tracing::debug!(%url, error = %why, "override stream down");
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff.next_delay()) => {}
                _ = stop.changed() => break,
            }
        }
        self.flags.set_stream_connected(false);
    }

    async fn stream(
        &self,
        client: &reqwest::Client,
        url: &str,
        stop: &mut watch::Receiver<bool>,
    ) -> End {
        let mut req = client
            .get(url)
            .query(&[("world", self.flags.world())])
            .header("accept", "text/event-stream");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let mut resp = tokio::select! {
            r = req.send() => match r {
                Ok(r) if r.status().is_success() => r,
                Ok(r) => {
                    let status = r.status();
                    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
                        tracing::warn!(%status, "collector refused the agent token on the override stream");
                    }
                    return End::Lost(format!("collector answered {status}"), false);
                }
                Err(e) => return End::Lost(e.to_string(), false),
            },
            _ = stop.changed() => return End::Stopped,
        };
        self.flags.set_stream_connected(true);
        let mut parser = Parser::default();
        let mut delivered = false;
        loop {
            let chunk = tokio::select! {
                c = tokio::time::timeout(IDLE_TIMEOUT, resp.chunk()) => c,
                _ = stop.changed() => return End::Stopped,
            };
            let bytes = match chunk {
                Ok(Ok(Some(b))) => b,
                Ok(Ok(None)) => return End::Lost("stream ended".into(), delivered),
                Ok(Err(e)) => return End::Lost(e.to_string(), delivered),
                Err(_) => return End::Lost(format!("silent for {IDLE_TIMEOUT:?}"), delivered),
            };
            let Ok(events) = parser.push(&bytes) else {
                return End::Lost("a line longer than 64 KiB".into(), delivered);
            };
            for ev in events {
                if ev.name != "overrides" {
                    continue;
                }
                match serde_json::from_str::<OverrideSet>(&ev.data) {
                    Ok(set) => {
                        delivered = true;
                        let flags = self.flags.clone();
                        let _ = tokio::task::spawn_blocking(move || flags.set_overrides(set)).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring an unreadable override set from the collector");
                    }
                }
            }
        }
    }
}

/// Re-serves the flags each time an override or rule expires, so that the
/// snapshot version (and the change stream) moves exactly then.
pub async fn expiry_loop(flags: Arc<Flags>, mut stop: watch::Receiver<bool>) {
    let mut versions = flags.subscribe();
    loop {
        let now = SystemTime::now();
        let wait = flags
            .next_expiry(now)
            .and_then(|t| t.duration_since(now).ok())
            // Just past the instant: expiry is `now > expires`.
            .map_or(MAX_EXPIRY_SLEEP, |d| d + Duration::from_millis(1))
            .min(MAX_EXPIRY_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep(wait) => flags.refresh(),
            // A new snapshot may bring an earlier expiry.
            r = versions.changed() => if r.is_err() { break },
            _ = stop.changed() => break,
        }
    }
}
