//! How operator commands reach a collector: `--collector`, `--token` and
//! `--timeout`, shared by every command that talks to one.
//!
//! Every call is bounded: these commands run in incidents, against a
//! collector that may be overloaded or wedged, and an operator waiting on a
//! command that never returns is worse than one told which timeout fired.

use std::time::Duration;

use anyhow::Context;
use serde::de::DeserializeOwned;

/// The longest a TCP connect may take: a collector that cannot accept a
/// connection in this long is down or unreachable, however long the
/// request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(clap::Args, Clone, Debug)]
pub struct Remote {
    /// The collector's base URL.
    // Global, so that `liveops mitigate list --collector …` works as well
    // as `liveops mitigate --collector … list`.
    #[arg(
        long,
        global = true,
        env = "LIVEOPS_COLLECTOR",
        default_value = "http://127.0.0.1:9470"
    )]
    pub collector: String,
    /// API token (needed for commands that change something).
    #[arg(long, global = true, env = "LIVEOPS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// How long one call to the collector may take in all, e.g. `500ms`,
    /// `10s`; connecting is also bounded by 3 s (or this, if shorter).
    #[arg(
        long,
        global = true,
        env = "LIVEOPS_TIMEOUT",
        default_value = "10s",
        value_parser = parse_timeout
    )]
    pub timeout: Duration,
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("the timeout must be longer than zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "`{s}` is not a duration ({e}); write e.g. \"500ms\" or \"10s\""
        )),
    }
}

impl Remote {
    /// GETs `path` and decodes the JSON answer; an error answer's message is
    /// shown as the collector worded it.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// POSTs `body` as JSON to `path` and decodes the JSON answer.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<T> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    fn connect_timeout(&self) -> Duration {
        CONNECT_TIMEOUT.min(self.timeout)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.collector.trim_end_matches('/'));
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout())
            .build()
            .context("cannot set up an HTTP client")?;
        let mut req = client.request(method, &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        // One deadline over connect, request, answer and body: a collector
        // that sends headers and then stalls is as stuck as a silent one.
        let call = async {
            let resp = req.send().await.map_err(|e| self.unreachable(e))?;
            let status = resp.status();
            if !status.is_success() {
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                let msg = body
                    .get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("no detail");
                anyhow::bail!("{url}: {status}: {msg}");
            }
            resp.json()
                .await
                .with_context(|| format!("{url}: unexpected answer"))
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => anyhow::bail!(
                "the collector at {} did not answer within {} (request timeout; --timeout or LIVEOPS_TIMEOUT to change it)",
                self.collector,
                humantime::format_duration(self.timeout)
            ),
        }
    }

    fn unreachable(&self, e: reqwest::Error) -> anyhow::Error {
        if e.is_connect() && e.is_timeout() {
            anyhow::anyhow!(
                "cannot connect to the collector at {} within {} (connect timeout)",
                self.collector,
                humantime::format_duration(self.connect_timeout())
            )
        } else {
            anyhow::Error::new(e)
                .context(format!("cannot reach the collector at {}", self.collector))
        }
    }
}

/// Runs one remote call to completion on a small runtime.
pub fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}
