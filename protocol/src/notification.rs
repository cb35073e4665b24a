//! One alert as delivered to a notifier.
//!
//! Shaped like an Alertmanager alert (the same field names and meanings) so
//! that the JSON can be posted to Alertmanager's API or read by anything that
//! already understands it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub status: AlertStatus,
    /// Identity: `alertname`, `world`, `slo`, `severity` and more.
    pub labels: BTreeMap<String, String>,
    /// Text for people: `summary`, `description`, `runbook_url`, `owner`.
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339; set when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

impl Notification {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}
