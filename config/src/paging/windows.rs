//! Time in the paging file: a team's working hours and maintenance windows.

use std::ops::Range;

use toml::Spanned;

use super::matchers;
use super::model::{Maintenance, WorkingHours};
use super::raw::{RawHours, RawMaintenance};
use crate::error::Sink;
use crate::values;

pub(super) fn working_hours(raw: RawHours, sink: &mut Sink<'_>) -> Option<WorkingHours> {
    let zone = match jiff::tz::TimeZone::get(raw.zone.get_ref()) {
        Ok(z) => Some(z),
        Err(_) => {
            sink.at(
                raw.zone.span(),
                format!(
                    "unknown time zone `{}`: use an IANA name such as \"Europe/Berlin\"",
                    raw.zone.get_ref()
                ),
            );
            None
        }
    };
    let mut days = [false; 7];
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    for d in raw.days.get_ref() {
        match NAMES
            .iter()
            .position(|n| d.get_ref().eq_ignore_ascii_case(n))
        {
            Some(i) => days[i] = true,
            None => sink.at(
                d.span(),
                format!(
                    "unknown day `{}`, expected one of {}",
                    d.get_ref(),
                    NAMES.join(", ")
                ),
            ),
        }
    }
    if raw.days.get_ref().is_empty() {
        sink.at(
            raw.days.span(),
            "`days` is empty: name at least one working day",
        );
    }
    let from = clock(&raw.from, "from", sink);
    let until = clock(&raw.until, "until", sink);
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        sink.at(
            raw.until.span(),
            "`until` must be later than `from` on the same day",
        );
        return None;
    }
    Some(WorkingHours {
        zone: zone?,
        days,
        from: from?,
        until: until?,
    })
}

/// `"09:00"`, 24-hour.
fn clock(v: &Spanned<String>, what: &str, sink: &mut Sink<'_>) -> Option<jiff::civil::Time> {
    let parsed = v.get_ref().split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?);
        jiff::civil::Time::new(h, m, 0, 0).ok()
    });
    if parsed.is_none() {
        sink.at(
            v.span(),
            format!(
                "{what}: `{}` is not a time of day; write \"HH:MM\", e.g. \"09:00\"",
                v.get_ref()
            ),
        );
    }
    parsed
}

pub(super) fn maintenance(
    raw: RawMaintenance,
    span: Range<usize>,
    sink: &mut Sink<'_>,
) -> Option<Maintenance> {
    if raw.matches.is_none() && raw.match_re.is_none() {
        sink.at(
            span.clone(),
            "a maintenance window needs `match` or `match_re`: which alerts it holds back",
        );
    }
    let matchers = matchers(&raw.matches, &raw.match_re, sink);
    let from = instant(&raw.from, "from", sink);
    let until = instant(&raw.until, "until", sink);
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        sink.at(raw.until.span(), "`until` must be later than `from`");
        return None;
    }
    let reason = values::required(&raw.reason, "reason", span, sink);
    Some(Maintenance {
        matchers: matchers?,
        from_ms: from?,
        until_ms: until?,
        reason: reason?,
    })
}

/// An RFC 3339 instant as Unix ms.
fn instant(v: &Spanned<String>, what: &str, sink: &mut Sink<'_>) -> Option<u64> {
    let ms = v
        .get_ref()
        .parse::<jiff::Timestamp>()
        .ok()
        .and_then(|t| u64::try_from(t.as_millisecond()).ok());
    if ms.is_none() {
        sink.at(
            v.span(),
            format!(
                "{what}: `{}` is not an RFC 3339 time; write e.g. \"2026-12-24T06:00:00Z\"",
                v.get_ref()
            ),
        );
    }
    ms
}
