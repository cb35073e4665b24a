//! The scalar kinds of a schedule file: zones, times of day, dates,
//! instants, shift lengths, roles, name lists. Each reports to the sink at
//! the value's own position.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use toml::Spanned;

use super::model::OnCallRole;
use crate::error::Sink;

/// An IANA zone from the bundled tz database.
pub(super) fn zone(v: &Spanned<String>, what: &str, sink: &mut Sink<'_>) -> Option<TimeZone> {
    let name = v.get_ref().trim();
    // `TimeZone::get` also takes a few odd spellings; a schedule names a
    // region the way people and calendars do.
    let looks_iana = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
    match TimeZone::get(name) {
        Ok(tz) if looks_iana => Some(tz),
        _ => {
            sink.at(
                v.span(),
                format!(
                    "{what}: `{name}` is not a time zone of the IANA database; write e.g. \"Europe/Berlin\", \"America/New_York\" or \"UTC\""
                ),
            );
            None
        }
    }
}

/// A string, or a TOML date/time value written without quotes.
fn text(v: &Spanned<toml::Value>) -> Option<String> {
    match v.get_ref() {
        toml::Value::String(s) => Some(s.trim().to_owned()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        _ => None,
    }
}

/// `"09:00"` or `"09:00:00"`.
pub(super) fn time_of_day(
    v: &Spanned<toml::Value>,
    what: &str,
    sink: &mut Sink<'_>,
) -> Option<Time> {
    let parsed = text(v).and_then(|s| {
        let mut parts = s.split(':');
        let h: i8 = parts.next()?.parse().ok()?;
        let m: i8 = parts.next()?.parse().ok()?;
        let sec: i8 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        if parts.next().is_some() {
            return None;
        }
        Time::new(h, m, sec, 0).ok()
    });
    if parsed.is_none() {
        sink.at(
            v.span(),
            format!("{what} must be a time of day as \"HH:MM\" (00:00 to 23:59), e.g. \"09:00\""),
        );
    }
    parsed
}

/// `"2026-01-05"`.
pub(super) fn date(v: &Spanned<toml::Value>, what: &str, sink: &mut Sink<'_>) -> Option<Date> {
    let parsed = text(v).and_then(|s| {
        // jiff would also read a date with a time; a start is a day.
        (s.len() == 10).then(|| s.parse::<Date>().ok()).flatten()
    });
    if parsed.is_none() {
        sink.at(
            v.span(),
            format!("{what} must be a date as \"YYYY-MM-DD\", e.g. \"2026-01-05\""),
        );
    }
    parsed
}

/// An instant: RFC 3339 with an offset (`"2026-12-24T18:00:00+01:00"`), or
/// a local date and time (`"2026-12-24 18:00"`) on the wall clock of `zone`.
pub(super) fn instant(
    v: &Spanned<toml::Value>,
    what: &str,
    zone: Option<&TimeZone>,
    sink: &mut Sink<'_>,
) -> Option<Timestamp> {
    let Some(s) = text(v) else {
        sink.at(
            v.span(),
            format!(
                "{what} must be a date and time as a string, e.g. \"2026-12-24T18:00:00+01:00\""
            ),
        );
        return None;
    };
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    match (s.parse::<DateTime>(), zone) {
        (Ok(dt), Some(tz)) => match tz.to_ambiguous_timestamp(dt).compatible() {
            Ok(t) => Some(t),
            Err(_) => {
                sink.at(v.span(), format!("{what}: `{s}` is out of range"));
                None
            }
        },
        (Ok(_), None) => {
            sink.at(
                v.span(),
                format!(
                    "{what}: `{s}` has no UTC offset; add one (e.g. \"{s}+01:00\") or set `zone` in this table"
                ),
            );
            None
        }
        (Err(_), _) => {
            sink.at(
                v.span(),
                format!(
                    "{what}: `{s}` is not a date and time; write RFC 3339, e.g. \"2026-12-24T18:00:00+01:00\", or \"2026-12-24 18:00\" with a `zone`"
                ),
            );
            None
        }
    }
}

/// `"1w"`, `"1d"`, `"12h"`, `"1d 12h"`: wall-clock minutes, at least an hour.
pub(super) fn shift(v: &Spanned<String>, sink: &mut Sink<'_>) -> Option<i64> {
    let minutes = humantime::parse_duration(v.get_ref())
        .ok()
        .filter(|d| d.as_secs() % 60 == 0 && d.subsec_nanos() == 0)
        .map(|d| d.as_secs() / 60);
    match minutes.and_then(|m| i64::try_from(m).ok()) {
        // Shorter shifts could fall wholly inside a DST gap; longer than a
        // year is surely a typo.
        Some(m) if (60..=366 * 24 * 60).contains(&m) => Some(m),
        _ => {
            sink.at(
                v.span(),
                format!(
                    "shift: `{}` is not a shift length of whole minutes from 1h to 366d; write e.g. \"1w\", \"1d\", \"12h\"",
                    v.get_ref()
                ),
            );
            None
        }
    }
}

pub(super) fn role(v: &Spanned<String>, sink: &mut Sink<'_>) -> Option<OnCallRole> {
    let role = OnCallRole::parse(v.get_ref());
    if role.is_none() {
        sink.at(
            v.span(),
            format!(
                "unknown role `{}`, expected `primary` or `secondary`",
                v.get_ref()
            ),
        );
    }
    role
}

/// A name that must be one of `known` (teams or people).
pub(super) fn known(
    v: &Spanned<String>,
    what: &str,
    known: &BTreeSet<String>,
    sink: &mut Sink<'_>,
) -> bool {
    if known.contains(v.get_ref()) {
        return true;
    }
    let list: Vec<&str> = known.iter().map(String::as_str).collect();
    sink.at(
        v.span(),
        format!(
            "unknown {what} `{}` (known: {})",
            v.get_ref(),
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        ),
    );
    false
}

/// A non-empty list of known people, none twice.
pub(super) fn people(
    v: &Spanned<Vec<Spanned<String>>>,
    what: &str,
    known_people: &BTreeSet<String>,
    sink: &mut Sink<'_>,
) -> Option<Vec<String>> {
    if v.get_ref().is_empty() {
        sink.at(
            v.span(),
            format!("`{what}` is empty: name at least one person"),
        );
        return None;
    }
    let mut ok = true;
    let mut seen = BTreeSet::new();
    for p in v.get_ref() {
        ok &= known(p, "person", known_people, sink);
        if !seen.insert(p.get_ref().as_str()) {
            sink.at(
                p.span(),
                format!("`{}` is listed twice in `{what}`", p.get_ref()),
            );
            ok = false;
        }
    }
    ok.then(|| v.get_ref().iter().map(|p| p.get_ref().clone()).collect())
}

/// A contact value: non-empty, no spaces. `secret` values are never echoed.
pub(super) fn contact(
    v: &Option<Spanned<String>>,
    what: &str,
    secret: bool,
    sink: &mut Sink<'_>,
) -> Option<String> {
    let v = v.as_ref()?;
    let s = v.get_ref().trim();
    let shown = if secret { "this value" } else { s };
    if s.is_empty() {
        sink.at(
            v.span(),
            format!("{what} must not be empty (leave the key out instead)"),
        );
        None
    } else if s.contains(char::is_whitespace) {
        sink.at(v.span(), format!("{what}: {shown} must not contain spaces"));
        None
    } else if what == "email" && !s.contains('@') {
        sink.at(v.span(), format!("email: `{s}` is not an address (no `@`)"));
        None
    } else {
        Some(s.to_owned())
    }
}
