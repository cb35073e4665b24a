//! Silences: an operator's "not now" for alerts matching some labels, for
//! a time, with a reason and an author. A silenced alert is still
//! recorded and shown; it is only not paged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    /// label → value; all must be equal.
    pub matchers: BTreeMap<String, String>,
    pub from_ms: u64,
    pub until_ms: u64,
    pub reason: String,
    pub author: String,
    /// Set when expired by hand before `until_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_by: Option<String>,
}

impl Silence {
    pub fn active(&self, now_ms: u64) -> bool {
        self.from_ms <= now_ms && now_ms < self.until_ms
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers
            .iter()
            .all(|(k, v)| labels.get(k).map_or("", String::as_str) == v)
    }
}

/// What an operator asks for.
#[derive(Clone, Debug)]
pub struct SilenceDraft {
    pub matchers: BTreeMap<String, String>,
    pub duration_ms: u64,
    pub reason: String,
}
