//! From an alert to an owning team and a severity, and the reasons not to
//! page it: a silence, a maintenance window, an inhibiting alert.

use std::collections::BTreeMap;

use liveops_config::paging::Paging;
use liveops_protocol::{Notification, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::silence::Silence;

/// The alert's identity: its labels, hashed (the same labels are the same
/// alert, whichever source sent it).
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// The owning team and severity: the first matching route, else the
/// default route; a route without a team takes the alert's `owner`, then
/// the policy's default team.
pub fn route(p: &Paging, n: &Notification) -> (String, Severity) {
    let to = p
        .routes
        .iter()
        .find(|r| r.matchers.matches(&n.labels))
        .map_or(&p.default_route, |r| &r.to);
    let team = to
        .team
        .clone()
        .or_else(|| {
            n.annotations
                .get("owner")
                .filter(|o| !o.is_empty())
                .cloned()
        })
        .unwrap_or_else(|| p.default_team.clone());
    (team, to.severity)
}

/// The world a page is grouped by; fleet-wide alerts group as `fleet`.
pub fn world(n: &Notification) -> String {
    n.label("world").unwrap_or("fleet").to_owned()
}

/// Why an alert is recorded but not paged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Suppressed {
    Silence { id: String },
    Maintenance { reason: String },
    Inhibited { alertname: String },
}

impl Suppressed {
    pub fn describe(&self) -> String {
        match self {
            Suppressed::Silence { id } => format!("silence {id}"),
            Suppressed::Maintenance { reason } => format!("maintenance: {reason}"),
            Suppressed::Inhibited { alertname } => format!("inhibited by {alertname}"),
        }
    }
}

/// Whether `n` may page now, given the silences and the other alerts
/// firing (`firing`, which may include `n` itself).
pub fn suppressed<'a>(
    p: &Paging,
    n: &Notification,
    silences: impl IntoIterator<Item = &'a Silence>,
    firing: impl IntoIterator<Item = &'a Notification> + Clone,
    now_ms: u64,
) -> Option<Suppressed> {
    if let Some(s) = silences
        .into_iter()
        .find(|s| s.active(now_ms) && s.matches(&n.labels))
    {
        return Some(Suppressed::Silence { id: s.id.clone() });
    }
    if let Some(m) = p
        .maintenance
        .iter()
        .find(|m| m.active(now_ms) && m.matchers.matches(&n.labels))
    {
        return Some(Suppressed::Maintenance {
            reason: m.reason.clone(),
        });
    }
    for rule in p.inhibit.iter().filter(|r| r.target.matches(&n.labels)) {
        let source = firing.clone().into_iter().find(|s| {
            s.labels != n.labels
                && rule.source.matches(&s.labels)
                && rule
                    .equal
                    .iter()
                    .all(|k| s.labels.get(k) == n.labels.get(k))
        });
        if let Some(s) = source {
            return Some(Suppressed::Inhibited {
                alertname: s.label("alertname").unwrap_or("?").to_owned(),
            });
        }
    }
    None
}
