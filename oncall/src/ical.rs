//! The final schedule as RFC 5545 iCalendar, for calendar subscriptions
//! (`/oncall.ics`) and `liveops oncall export --ical`.
//!
//! One `VEVENT` per final piece, times in UTC (every calendar shows them
//! on its own wall clock, so no `VTIMEZONE` is needed). A piece's `UID` is
//! its start, team and role (plus the window and person for coverage), so
//! it is the same in every export: a calendar that re-reads the feed
//! updates an event whose person an override changed instead of showing
//! both.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::{OnCall, Schedule, Source};

/// Lines longer than this many octets are folded (RFC 5545 §3.1).
const FOLD_AT: usize = 75;

/// The calendar of every piece overlapping `[from, until)`, stamped `now`.
pub fn export(schedule: &Schedule, from: Timestamp, until: Timestamp, now: Timestamp) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//liveops//on-call schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:liveops on-call",
        // How often a subscribed calendar should fetch again.
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ] {
        fold(line, &mut out);
    }
    let stamp = utc(now);
    for p in schedule.shifts(from, until, None) {
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", uid(&p)), &mut out);
        fold(&format!("DTSTAMP:{stamp}"), &mut out);
        fold(&format!("DTSTART:{}", utc(p.from)), &mut out);
        fold(&format!("DTEND:{}", utc(p.until)), &mut out);
        let summary = format!("{} {}: {}", p.team, p.role, p.person);
        fold(&format!("SUMMARY:{}", text(&summary)), &mut out);
        fold(&format!("DESCRIPTION:{}", text(&describe(&p))), &mut out);
        fold(&format!("CATEGORIES:{}", text(p.source.kind())), &mut out);
        // Being on call does not make anyone busy.
        fold("TRANSP:TRANSPARENT", &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

fn uid(p: &OnCall) -> String {
    let start = utc(p.from);
    match &p.source {
        Source::Coverage { name } => format!(
            "{start}-{}-{}-coverage-{name}-{}@liveops",
            p.team, p.role, p.person
        ),
        _ => format!("{start}-{}-{}@liveops", p.team, p.role),
    }
}

fn describe(p: &OnCall) -> String {
    match &p.source {
        Source::Rotation { name } => format!("{} of {}: rotation {name}", p.role, p.team),
        Source::Override { reason: Some(r) } => format!("override: {r}"),
        Source::Override { reason: None } => "override".to_owned(),
        Source::Coverage { name } => format!("coverage window {name}, beside the rotation"),
    }
}

/// `20261224T170000Z`.
pub fn utc(t: Timestamp) -> String {
    let d = TimeZone::UTC.to_datetime(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// A TEXT value escaped (RFC 5545 §3.3.11); control characters dropped.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` ending in CRLF, folded so that no physical line has
/// more than 75 octets; never inside a UTF-8 sequence.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > FOLD_AT {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "é".repeat(60));
        fold(&line, &mut out);
        for physical in out.split_terminator("\r\n") {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne\u{7}"), "a\\,b\\;c\\\\d\\ne");
    }
}
