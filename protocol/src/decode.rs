//! Reading a report the way a collector must: part by part.
//!
//! A report is an envelope (agent, world, sequence number, interval) and
//! parts (health, each series, losses, each flag-reload record). A bad part
//! costs only itself: it is refused and named (`counters[3]`, with why),
//! and the rest of the report is taken. Only a broken envelope, which
//! leaves nothing to attribute the parts to, refuses the whole report.
//!
//! Each part is first cut out as raw JSON (no copy), then decoded and
//! checked on its own, so one `null` where a number belongs, one absurd
//! timestamp or one oversized tag set stays local.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::flags::FlagReload;
use crate::report::{
    CounterSeries, GaugeSeries, Health, HistogramSeries, Losses, RefusedPart, Report, Tags,
};
use crate::{name, time};

/// Longest series name or tag key or value accepted, in bytes.
pub const MAX_LABEL_BYTES: usize = 200;
/// Most tags on one series.
pub const MAX_TAGS: usize = 32;
/// How far ahead of the collector's clock a report's times may be.
pub const MAX_CLOCK_AHEAD_MS: u64 = 5 * 60_000;
/// Longest interval one report may cover (an agent's shutdown report can
/// cover more than its usual second, never days).
pub const MAX_INTERVAL_MS: u64 = 24 * 3_600_000;

/// A report as far as it could be taken, and what was refused of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub report: Report,
    /// False when the health part was refused: `report.health` is then a
    /// default that says nothing, and must not count towards uptime.
    pub health_ok: bool,
    pub refused: Vec<RefusedPart>,
}

/// Every kind of part a report is read in, as [`RefusedPart::kind`] names
/// them: the bounded label set of a refusals metric.
pub const PART_KINDS: &[&str] = &[
    "counters",
    "gauges",
    "histograms",
    "health",
    "losses",
    "flag_reloads",
];

impl RefusedPart {
    /// The kind of part (`counters`, `health`, …), a bounded label.
    pub fn kind(&self) -> &str {
        self.part.split('[').next().unwrap_or(&self.part)
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    agent: String,
    world: String,
    seq: u64,
    start_ms: u64,
    end_ms: u64,
    #[serde(default)]
    urgent: bool,
    #[serde(borrow)]
    health: &'a RawValue,
    #[serde(default, borrow)]
    counters: Option<&'a RawValue>,
    #[serde(default, borrow)]
    gauges: Option<&'a RawValue>,
    #[serde(default, borrow)]
    histograms: Option<&'a RawValue>,
    #[serde(default, borrow)]
    losses: Option<&'a RawValue>,
    #[serde(default, borrow)]
    flag_reloads: Option<&'a RawValue>,
}

/// Why a whole report was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not JSON of a report's envelope.
    Malformed(String),
    /// A report whose envelope breaks a rule (a world name, a time).
    Invalid(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Malformed(why) => write!(f, "not a report: {why}"),
            Refusal::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Refusal {}

/// Decodes and checks a report body against the collector's clock
/// `now_ms`. `Err` only when the envelope is unusable.
pub fn decode_report(body: &[u8], now_ms: u64) -> Result<Decoded, Refusal> {
    let env: Envelope<'_> =
        serde_json::from_slice(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
    check_envelope(&env, now_ms).map_err(Refusal::Invalid)?;
    let mut refused = Vec::new();
    let health = part::<Health>(env.health, "health", &mut refused, check_health(&env));
    let health_ok = health.is_some();
    let report = Report {
        counters: list(
            env.counters,
            "counters",
            &mut refused,
            |c: &CounterSeries| check_series(&c.name, &c.tags),
        ),
        gauges: list(env.gauges, "gauges", &mut refused, |g: &GaugeSeries| {
            check_series(&g.name, &g.tags)
        }),
        histograms: list(
            env.histograms,
            "histograms",
            &mut refused,
            |h: &HistogramSeries| {
                check_series(&h.name, &h.tags)?;
                if h.histogram.is_well_formed() {
                    Ok(())
                } else {
                    Err("its bucket layout or counts are not this collector's".into())
                }
            },
        ),
        losses: env
            .losses
            .and_then(|raw| part(raw, "losses", &mut refused, |_: &Losses| Ok(())))
            .unwrap_or_default(),
        flag_reloads: list(
            env.flag_reloads,
            "flag_reloads",
            &mut refused,
            |r: &FlagReload| check_reload(r, now_ms),
        ),
        health: health.unwrap_or_default(),
        agent: env.agent,
        world: env.world,
        seq: env.seq,
        start_ms: env.start_ms,
        end_ms: env.end_ms,
        urgent: env.urgent,
    };
    Ok(Decoded {
        report,
        health_ok,
        refused,
    })
}

fn check_envelope(e: &Envelope<'_>, now_ms: u64) -> Result<(), String> {
    name::check(&e.world, "world")?;
    if e.agent.is_empty() || e.agent.len() > 128 {
        return Err("agent id must be 1–128 characters".into());
    }
    if e.end_ms < e.start_ms {
        return Err("end_ms is before start_ms".into());
    }
    if e.end_ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) || e.end_ms > time::MAX_MS {
        return Err(format!(
            "end_ms {} is more than 5 minutes ahead of the collector's clock ({}): check the agent's clock",
            time::rfc3339(e.end_ms),
            time::rfc3339(now_ms)
        ));
    }
    if e.end_ms - e.start_ms > MAX_INTERVAL_MS {
        return Err("the report covers more than 24 hours".into());
    }
    Ok(())
}

fn check_health(e: &Envelope<'_>) -> impl Fn(&Health) -> Result<(), String> {
    let span = e.end_ms - e.start_ms;
    move |h: &Health| {
        if h.up_ms > h.observed_ms {
            return Err("up_ms is more than observed_ms".into());
        }
        // An agent observes at most the interval it reports, plus the
        // slack of its own timers.
        if h.observed_ms > span.saturating_add(60_000) {
            return Err(format!(
                "observed_ms {} is longer than the report's interval ({span} ms)",
                h.observed_ms
            ));
        }
        if h.tick_interval_ms
            .is_some_and(|t| !(t.is_finite() && t >= 0.0))
        {
            return Err("tick_interval_ms must be a non-negative number".into());
        }
        if [&h.detail, &h.probe_error]
            .iter()
            .any(|d| d.as_ref().is_some_and(|d| d.len() > 4096))
        {
            return Err("detail or probe_error is longer than 4096 bytes".into());
        }
        Ok(())
    }
}

fn check_series(n: &str, tags: &Tags) -> Result<(), String> {
    if n.is_empty() || n.len() > MAX_LABEL_BYTES {
        return Err(format!("a series name must be 1–{MAX_LABEL_BYTES} bytes"));
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("{} tags; at most {MAX_TAGS}", tags.len()));
    }
    if tags
        .iter()
        .any(|(k, v)| k.is_empty() || k.len() > MAX_LABEL_BYTES || v.len() > MAX_LABEL_BYTES)
    {
        return Err(format!(
            "a tag key must be 1–{MAX_LABEL_BYTES} bytes and a value at most {MAX_LABEL_BYTES}"
        ));
    }
    Ok(())
}

fn check_reload(r: &FlagReload, now_ms: u64) -> Result<(), String> {
    if r.at_ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) || r.at_ms > time::MAX_MS {
        return Err(format!(
            "at_ms {} is more than 5 minutes ahead of the collector's clock",
            r.at_ms
        ));
    }
    if r.file.len() > 4096 || r.sha256.len() > 64 {
        return Err("file or sha256 is too long".into());
    }
    if r.error.as_ref().is_some_and(|e| e.len() > 16 << 10) {
        return Err("error is longer than 16 KiB".into());
    }
    if r.changes.len() > 10_000 {
        return Err("more than 10,000 flag changes in one reload".into());
    }
    Ok(())
}

/// One part: decoded, then checked; refused with its path otherwise.
fn part<T: DeserializeOwned>(
    raw: &RawValue,
    path: &str,
    refused: &mut Vec<RefusedPart>,
    check: impl Fn(&T) -> Result<(), String>,
) -> Option<T> {
    let outcome = serde_json::from_str::<T>(raw.get())
        .map_err(|e| e.to_string())
        .and_then(|v| check(&v).map(|()| v));
    match outcome {
        Ok(v) => Some(v),
        Err(reason) => {
            refused.push(RefusedPart {
                part: path.to_owned(),
                reason,
            });
            None
        }
    }
}

/// A list of parts, each taken or refused on its own. A list that is not
/// an array is refused whole.
fn list<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    path: &str,
    refused: &mut Vec<RefusedPart>,
    check: impl Fn(&T) -> Result<(), String>,
) -> Vec<T> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let items: Vec<&RawValue> = match serde_json::from_str(raw.get()) {
        Ok(items) => items,
        Err(e) => {
            refused.push(RefusedPart {
                part: path.to_owned(),
                reason: format!("not a list: {e}"),
            });
            return Vec::new();
        }
    };
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| part(item, &format!("{path}[{i}]"), refused, &check))
        .collect()
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
