//! The book of active alerts: turns "what should be firing now" into
//! notifications, once per change.
//!
//! Rules are evaluated from scratch every time and know nothing of the
//! past; the book remembers what is firing, so a pager hears of an alert
//! when it starts and when it ends, and nothing in between. It is plain
//! data and serialisable so a restart neither re-pages nor forgets to
//! resolve.

use std::collections::{BTreeMap, BTreeSet};

use liveops_protocol::{AlertStatus, Notification};
use serde::{Deserialize, Serialize};

use super::Candidate;

/// Labels that say which rule noticed a problem, not which problem it is.
/// Left out of the fingerprint so a burn that moves from the `1h/5m` rule to
/// the `6h/30m` one stays one alert (one page); the alert keeps the value it
/// fired with, so its firing and resolved notifications carry the same label
/// set, as Alertmanager needs to match them.
const DESCRIPTIVE_LABELS: &[&str] = &["window"];

/// Active alerts by fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertBook {
    active: BTreeMap<String, Entry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at_ms: u64,
}

/// One firing alert as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActiveAlert {
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    pub starts_at: String,
    /// Always `firing`: resolved alerts leave the book.
    pub status: &'static str,
}

impl AlertBook {
    pub fn new() -> AlertBook {
        AlertBook::default()
    }

    /// Makes the book hold exactly `candidates` and returns what changed: a
    /// firing notification per new alert and a resolved one per alert no
    /// longer among the candidates. Alerts still firing only get their
    /// annotations (the figures in the summary) updated, silently.
    ///
    /// Candidates are borrowed and copied only when they start firing or
    /// their annotations change: with thousands of alerts firing, copying
    /// every one every second was most of an evaluation.
    pub fn reconcile<'a>(
        &mut self,
        candidates: impl IntoIterator<Item = &'a Candidate>,
        now_ms: u64,
        generator_url: &str,
    ) -> Vec<Notification> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for c in candidates {
            let fp = fingerprint(&c.labels);
            if !seen.insert(fp.clone()) {
                // Two rules produced the same alert; the first one speaks.
                continue;
            }
            match self.active.get_mut(&fp) {
                Some(entry) => {
                    if entry.annotations != c.annotations {
                        entry.annotations.clone_from(&c.annotations);
                    }
                }
                None => {
                    let entry = Entry {
                        labels: c.labels.clone(),
                        annotations: c.annotations.clone(),
                        starts_at_ms: now_ms,
                    };
                    out.push(notification(
                        &entry,
                        AlertStatus::Firing,
                        None,
                        generator_url,
                    ));
                    self.active.insert(fp, entry);
                }
            }
        }
        self.active.retain(|fp, entry| {
            let still = seen.contains(fp);
            if !still {
                out.push(notification(
                    entry,
                    AlertStatus::Resolved,
                    Some(now_ms),
                    generator_url,
                ));
            }
            still
        });
        out
    }

    /// Firing alerts, by fingerprint.
    pub fn active(&self) -> Vec<ActiveAlert> {
        self.active
            .iter()
            .map(|(fp, e)| ActiveAlert {
                fingerprint: fp.clone(),
                labels: e.labels.clone(),
                annotations: e.annotations.clone(),
                starts_at: rfc3339(e.starts_at_ms),
                status: "firing",
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

/// A stable 16-hex-digit identity of an alert's labels.
///
/// FNV-1a rather than `std`'s hasher: fingerprints are persisted and shown
/// in the API, and `DefaultHasher` may change between Rust releases.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let identity = labels
        .iter()
        .filter(|(k, _)| !DESCRIPTIVE_LABELS.contains(&k.as_str()));
    for (k, v) in identity {
        // The 0xff separators keep ("ab","c") and ("a","bc") apart; 0xff
        // never occurs in UTF-8.
        for byte in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xff]) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn notification(
    e: &Entry,
    status: AlertStatus,
    ends_ms: Option<u64>,
    generator_url: &str,
) -> Notification {
    Notification {
        status,
        labels: e.labels.clone(),
        annotations: e.annotations.clone(),
        starts_at: rfc3339(e.starts_at_ms),
        ends_at: ends_ms.map(rfc3339),
        generator_url: generator_url.to_string(),
    }
}

use liveops_protocol::time::rfc3339;

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
