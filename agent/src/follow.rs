//! Holding a collector's event stream open: the override stream and the
//! command stream are both server-sent events the agent subscribes to with
//! its report token, reconnecting with jittered backoff (a fleet that lost
//! its collector must not come back all in the same instant), and treating
//! a stream silent past [`IDLE_TIMEOUT`] as dead (a half-open connection
//! would otherwise go unnoticed for hours).

use std::future::Future;
use std::time::Duration;

use liveops_config::Secret;
use liveops_protocol::backoff::Backoff;
use liveops_protocol::sse::{Event, Parser};
use tokio::sync::watch;

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The collector sends a keepalive every 15 s.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// One stream to follow.
pub struct Target {
    /// Full URL of the stream.
    pub url: String,
    pub world: String,
    pub token: Option<Secret>,
    /// For the log: "override stream", "command stream".
    pub what: &'static str,
    /// Longest event line taken; a longer one drops the connection.
    pub max_line: usize,
}

enum End {
    Stopped,
    /// Why the stream ended, and whether it had delivered an event (then
    /// the next attempt starts from the shortest backoff).
    Lost(String, bool),
}

/// Follows `target` until `stop`, calling `on_event` with each event and
/// `connected` as the stream comes and goes.
pub async fn follow<F, Fut>(
    target: Target,
    mut stop: watch::Receiver<bool>,
    connected: &(dyn Fn(bool) + Sync),
    mut on_event: F,
) where
    F: FnMut(Event) -> Fut,
    Fut: Future<Output = ()>,
{
    // Its own client: the shared one times out whole requests, and this
    // one lasts as long as the collector keeps it open.
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .tcp_keepalive(Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, what = target.what, "cannot build a stream client");
            return;
        }
    };
    let mut backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF);
    let mut failures = 0u32;
    loop {
        match hold(&client, &target, &mut stop, connected, &mut on_event).await {
            End::Stopped => break,
            End::Lost(why, delivered) => {
                connected(false);
                if delivered {
                    backoff.reset();
                    failures = 0;
                }
                failures += 1;
                // The collector may simply not be up yet: say so once,
                // then keep quiet while retrying.
                if failures == 1 {
                    tracing::info!(url = %target.url, error = %why, "{} down; retrying", target.what);
                } else {
                    tracing::debug!(url = %target.url, error = %why, "{} down", target.what);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = stop.changed() => break,
        }
    }
    connected(false);
}

async fn hold<F, Fut>(
    client: &reqwest::Client,
    target: &Target,
    stop: &mut watch::Receiver<bool>,
    connected: &(dyn Fn(bool) + Sync),
    on_event: &mut F,
) -> End
where
    F: FnMut(Event) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut req = client
        .get(&target.url)
        .query(&[("world", &target.world)])
        .header("accept", "text/event-stream");
    if let Some(t) = &target.token {
        req = req.bearer_auth(t.expose());
    }
    let mut resp = tokio::select! {
        r = req.send() => match r {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                let status = r.status();
                if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
                    tracing::warn!(%status, "collector refused the agent token on the {}", target.what);
                }
                return End::Lost(format!("collector answered {status}"), false);
            }
            Err(e) => return End::Lost(e.to_string(), false),
        },
        _ = stop.changed() => return End::Stopped,
    };
    connected(true);
    let mut parser = Parser::with_max_line(target.max_line);
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
            let max = target.max_line;
            return End::Lost(format!("a line longer than {max} bytes"), delivered);
        };
        for ev in events {
            delivered = true;
            on_event(ev).await;
        }
    }
}
