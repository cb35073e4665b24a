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
use serde_json::value::RawValue;

use crate::flags::FlagReload;
use crate::report::{CounterSeries, GaugeSeries, Health, Losses, RefusedPart, Report};

mod checks;
mod parts;

use checks::{check_envelope, check_health, check_histogram, check_reload, check_series};
use parts::{keep, list, part, retain};

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
///
/// Nearly every report is well formed, so it is first read in one typed
/// pass and its parts checked in place; only a report that does not read
/// whole is cut into raw parts and read part by part. Both ways take and
/// refuse the same parts, since each part is read as the same type.
pub fn decode_report(body: &[u8], now_ms: u64) -> Result<Decoded, Refusal> {
    match serde_json::from_slice::<Report>(body) {
        Ok(report) => checked(report, now_ms),
        Err(_) => by_parts(body, now_ms),
    }
}

/// The fast path: a report that read whole, its parts checked in place.
fn checked(mut r: Report, now_ms: u64) -> Result<Decoded, Refusal> {
    check_envelope(&r.agent, &r.world, r.start_ms, r.end_ms, now_ms).map_err(Refusal::Invalid)?;
    let mut refused = Vec::new();
    let health_ok = keep(
        &r.health,
        "health",
        &mut refused,
        check_health(r.end_ms - r.start_ms),
    );
    if !health_ok {
        r.health = Health::default();
    }
    retain(&mut r.counters, "counters", &mut refused, |c| {
        check_series(&c.name, &c.tags)
    });
    retain(&mut r.gauges, "gauges", &mut refused, |g| {
        check_series(&g.name, &g.tags)
    });
    retain(
        &mut r.histograms,
        "histograms",
        &mut refused,
        check_histogram,
    );
    retain(&mut r.flag_reloads, "flag_reloads", &mut refused, |f| {
        check_reload(f, now_ms)
    });
    Ok(Decoded {
        report: r,
        health_ok,
        refused,
    })
}

/// The slow path: each part cut out raw and read on its own.
fn by_parts(body: &[u8], now_ms: u64) -> Result<Decoded, Refusal> {
    let env: Envelope<'_> =
        serde_json::from_slice(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
    check_envelope(&env.agent, &env.world, env.start_ms, env.end_ms, now_ms)
        .map_err(Refusal::Invalid)?;
    let mut refused = Vec::new();
    let span = env.end_ms - env.start_ms;
    let health = part::<Health>(env.health, "health", &mut refused, check_health(span));
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
        histograms: list(env.histograms, "histograms", &mut refused, check_histogram),
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

#[cfg(test)]
mod tests;
