//! How operator commands reach a collector: `--collector` and `--token`,
//! shared by every command that talks to one.

use anyhow::Context;
use serde::de::DeserializeOwned;

#[derive(clap::Args, Debug)]
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

    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.collector.trim_end_matches('/'));
        let mut req = reqwest::Client::new().request(method, &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the collector at {}", self.collector))?;
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
    }
}

/// Runs one remote call to completion on a small runtime.
pub fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}
