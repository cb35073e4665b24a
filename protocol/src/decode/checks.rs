//! The rules each part of a report is held to, once it has been read.

use super::{MAX_CLOCK_AHEAD_MS, MAX_INTERVAL_MS, MAX_LABEL_BYTES, MAX_TAGS};
use crate::flags::FlagReload;
use crate::report::{Health, HistogramSeries, Tags};
use crate::{name, time};

pub(super) fn check_envelope(
    agent: &str,
    world: &str,
    start_ms: u64,
    end_ms: u64,
    now_ms: u64,
) -> Result<(), String> {
    name::check(world, "world")?;
    if agent.is_empty() || agent.len() > 128 {
        return Err("agent id must be 1–128 characters".into());
    }
    if end_ms < start_ms {
        return Err("end_ms is before start_ms".into());
    }
    if end_ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) || end_ms > time::MAX_MS {
        return Err(format!(
            "end_ms {} is more than 5 minutes ahead of the collector's clock ({}): check the agent's clock",
            time::rfc3339(end_ms),
            time::rfc3339(now_ms)
        ));
    }
    if end_ms - start_ms > MAX_INTERVAL_MS {
        return Err("the report covers more than 24 hours".into());
    }
    Ok(())
}

pub(super) fn check_health(span: u64) -> impl Fn(&Health) -> Result<(), String> {
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

pub(super) fn check_series(n: &str, tags: &Tags) -> Result<(), String> {
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

pub(super) fn check_histogram(h: &HistogramSeries) -> Result<(), String> {
    check_series(&h.name, &h.tags)?;
    if h.histogram.is_well_formed() {
        Ok(())
    } else {
        Err("its bucket layout or counts are not this collector's".into())
    }
}

pub(super) fn check_reload(r: &FlagReload, now_ms: u64) -> Result<(), String> {
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
