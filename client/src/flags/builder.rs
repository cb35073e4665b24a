//! Settings for a [`FlagClient`]; the defaults suit a game server with its
//! agent on the same host.

use std::sync::Arc;
use std::time::Duration;

use liveops_protocol::flags::{CHANGES_PATH, SNAPSHOT_PATH};

use super::client::FlagClient;
use super::store::Store;
use super::sync;

#[derive(Debug, thiserror::Error)]
pub enum FlagClientError {
    #[error("agent URL `{url}` is not an http(s) base URL: {why}")]
    Url { url: String, why: String },
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot start the flag sync thread: {0}")]
    Thread(#[from] std::io::Error),
}

#[derive(Clone, Debug)]
pub struct FlagClientBuilder {
    agent: String,
    world: Option<String>,
    settings: Settings,
}

/// What the sync thread needs to know.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) snapshot_url: String,
    pub(crate) changes_url: String,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) request_timeout: Duration,
}

impl FlagClientBuilder {
    /// `agent` is the agent's HTTP base URL, e.g. `http://127.0.0.1:9471`.
    pub fn new(agent: impl Into<String>) -> Self {
        Self {
            agent: agent.into(),
            world: None,
            settings: Settings {
                snapshot_url: String::new(),
                changes_url: String::new(),
                // The agent is local: a refused connect costs nothing, and
                // after an agent restart a flag flip should land within
                // about two seconds, not wait out a long backoff.
                backoff_min: Duration::from_millis(100),
                backoff_max: Duration::from_secs(2),
                // Well above the agent's keepalive interval: a stream that
                // stays silent this long is dead even if TCP has not said so.
                idle_timeout: Duration::from_secs(45),
                request_timeout: Duration::from_secs(5),
            },
        }
    }

    /// The world this server runs; [`FlagClient::context`] presets it.
    pub fn world(mut self, world: impl Into<String>) -> Self {
        self.world = Some(world.into());
        self
    }

    /// First and longest wait between reconnects.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.settings.backoff_min = min;
        self.settings.backoff_max = max.max(min);
        self
    }

    /// How long the change stream may stay silent (keepalives included)
    /// before it is dropped and reopened.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.settings.idle_timeout = timeout;
        self
    }

    /// Limit on connecting and on each snapshot fetch.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// Starts the sync thread and returns at once: an agent that is not up
    /// yet is not an error, reads serve defaults until it is.
    pub fn build(self) -> Result<FlagClient, FlagClientError> {
        let mut settings = self.settings;
        let base = base_url(&self.agent)?;
        settings.snapshot_url = format!("{base}{SNAPSHOT_PATH}");
        settings.changes_url = format!("{base}{CHANGES_PATH}");
        let http = reqwest::Client::builder()
            // The agent is a sidecar on this host: an HTTP_PROXY meant for
            // the game's outbound traffic must not carry flag reads.
            .no_proxy()
            .connect_timeout(settings.request_timeout)
            // A pooled connection to an agent that restarted is dead; a
            // short idle life keeps the first fetch after it from failing.
            .pool_idle_timeout(Duration::from_secs(10))
            .build()?;
        // Built here rather than in the thread so that failing to create it
        // is reported to the caller instead of logged nowhere.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let store = Arc::new(Store::default());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread_store = Arc::clone(&store);
        let thread = std::thread::Builder::new()
            .name("liveops-flags".into())
            .spawn(move || sync::run(runtime, thread_store, http, settings, stopped))?;
        Ok(FlagClient::new(store, self.world, Some((stop, thread))))
    }
}

fn base_url(agent: &str) -> Result<String, FlagClientError> {
    let bad = |why: &str| FlagClientError::Url {
        url: agent.to_owned(),
        why: why.to_owned(),
    };
    let url = reqwest::Url::parse(agent).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment"));
    }
    Ok(agent.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        assert_eq!(
            base_url("http://127.0.0.1:9471/").unwrap(),
            "http://127.0.0.1:9471"
        );
        assert_eq!(base_url("https://agent/x").unwrap(), "https://agent/x");
        let err = base_url("127.0.0.1:8126").unwrap_err().to_string();
        assert!(
            err.starts_with("agent URL `127.0.0.1:8126` is not"),
            "{err}"
        );
        assert!(base_url("ftp://agent").is_err());
        assert!(base_url("http://agent/?a=1").is_err());
    }
}
