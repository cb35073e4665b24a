//! How operator commands reach a collector: `--collector` and `--token`,
//! shared by every command that talks to one.

use anyhow::Context;
use serde::de::DeserializeOwned;

#[derive(clap::Args, Debug)]
pub struct Remote {
    /// The collector's base URL.
    #[arg(
        long,
        env = "LIVEOPS_COLLECTOR",
        default_value = "http://127.0.0.1:9470"
    )]
    pub collector: String,
    /// API token (needed for commands that change something).
    #[arg(long, env = "LIVEOPS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl Remote {
    /// GETs `path` and decodes the JSON answer; an error answer's message is
    /// shown as the collector worded it.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.collector.trim_end_matches('/'));
        let mut req = reqwest::Client::new().get(&url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
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
