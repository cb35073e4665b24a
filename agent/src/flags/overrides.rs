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
use liveops_protocol::flags::OVERRIDES_STREAM_PATH;
use tokio::sync::watch;

use super::Flags;
use crate::follow::{Target, follow};

/// Wake at least this often, so a wall-clock jump delays expiry by no more.
const MAX_EXPIRY_SLEEP: Duration = Duration::from_secs(30);

pub struct Subscription {
    pub flags: Arc<Flags>,
    /// Collector base URL.
    pub collector: String,
    pub token: Option<Secret>,
}

impl Subscription {
    /// Keeps the subscription up until `stop`.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let target = Target {
            url: format!("{}{OVERRIDES_STREAM_PATH}", self.collector),
            world: self.flags.world().to_owned(),
            token: self.token.clone(),
            what: "override stream",
            // An override event is one flag value: small.
            max_line: 64 << 10,
        };
        let flags = &self.flags;
        let connected = |up: bool| flags.set_stream_connected(up);
        follow(target, stop, &connected, |ev| {
            let flags = flags.clone();
            async move {
                if ev.name != "overrides" {
                    return;
                }
                match serde_json::from_str::<OverrideSet>(&ev.data) {
                    Ok(set) => {
                        let _ = tokio::task::spawn_blocking(move || flags.set_overrides(set)).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring an unreadable override set from the collector");
                    }
                }
            }
        })
        .await;
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
