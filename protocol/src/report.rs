//! The agent → collector report (`POST /api/v1/reports`, JSON, bearer token).
//!
//! One report covers one interval of one world. Reports carry a per-agent
//! sequence number so the collector can drop duplicates when a spooled report
//! is replayed after a lost acknowledgement; an agent sends them strictly in
//! sequence order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Histogram;

/// Path the collector accepts reports on.
pub const REPORTS_PATH: &str = "/api/v1/reports";

/// DogStatsD tags of one series, sorted by key so that the same tags in
/// another order are the same series.
pub type Tags = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Stable identity of the reporting agent (kept in its data dir).
    pub agent: String,
    /// The world this agent sits beside.
    pub world: String,
    /// Strictly increasing per agent, across restarts.
    pub seq: u64,
    /// Interval covered, Unix milliseconds, `[start_ms, end_ms)`.
    pub start_ms: u64,
    pub end_ms: u64,
    /// Sent before the interval was over because health changed (a stall,
    /// the world going down or coming back): the collector evaluates acute
    /// alerts on it at once.
    #[serde(default)]
    pub urgent: bool,
    pub health: Health,
    #[serde(default)]
    pub counters: Vec<CounterSeries>,
    #[serde(default)]
    pub gauges: Vec<GaugeSeries>,
    #[serde(default)]
    pub histograms: Vec<HistogramSeries>,
    #[serde(default)]
    pub losses: Losses,
    /// Flag-file reloads since the last report, for the collector's audit
    /// log; spooled with the report, so none is lost while it is away.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flag_reloads: Vec<crate::flags::FlagReload>,
}

/// The world's health as the agent saw it over the interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// State at the end of the interval: probe answers healthy and ticks flow.
    pub up: bool,
    /// The last health probe succeeded.
    pub probe_ok: bool,
    /// No tick for longer than the stall threshold.
    pub stalled: bool,
    /// Milliseconds of the interval the world was up, and observed at all.
    /// Their ratio is the interval's contribution to the uptime SLI.
    pub up_ms: u64,
    pub observed_ms: u64,
    /// Milliseconds since the last tick, if any tick was ever seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tick_age_ms: Option<u64>,
    /// The world's usual tick interval as learned by the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_interval_ms: Option<f64>,
    /// Why the world is not up, in words, for the alert summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The agent probes the game's health endpoint (it was given one).
    #[serde(default)]
    pub probed: bool,
    /// Health probes failed in a row (the world is down once they reach
    /// the agent's `failures_before_down`), and the last one's error.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub probe_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_error: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterSeries {
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    /// Sum over the interval, sample rates applied.
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaugeSeries {
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    /// Last value set in or before the interval.
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramSeries {
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    pub histogram: Histogram,
}

/// What the agent could not account for, so no loss is silent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Losses {
    /// Lines that did not parse.
    pub malformed_lines: u64,
    /// Lines dropped because the series limit was reached.
    pub series_overflow_lines: u64,
    /// Reports dropped from a full spool (oldest first).
    pub spool_dropped_reports: u64,
    /// Values dropped because they would have made a series NaN or
    /// infinite (`request:1e308|c` twice): a report carries finite
    /// numbers only.
    #[serde(default)]
    pub nonfinite_values: u64,
}

/// The collector's answer to a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportAck {
    pub seq: u64,
    /// True when the collector had already accepted this sequence number.
    pub duplicate: bool,
    /// Parts of the report the collector refused while accepting the rest
    /// (a series with a value out of range, a reload record with an absurd
    /// time): each says which part and why. Empty when all was taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedPart>,
}

/// One part of a report the collector did not take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedPart {
    /// Where in the report, as a path: `counters[3]`, `flag_reloads[0]`.
    pub part: String,
    pub reason: String,
}

impl Report {
    /// Sum of every counter series named `name` whose tags include `want`.
    pub fn counter_sum(&self, name: &str, want: &Tags) -> f64 {
        self.counters
            .iter()
            .filter(|s| s.name == name && tags_match(&s.tags, want))
            .map(|s| s.value)
            .sum()
    }
}

/// Whether `have` carries every key/value of `want`.
pub fn tags_match(have: &Tags, want: &Tags) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}
