//! Wall-clock time as liveops carries it: Unix milliseconds, written as
//! RFC 3339 in UTC. One place, so every part formats the same way and no
//! value can make formatting fail.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last millisecond RFC 3339 can write with a four-digit year
/// (9999-12-31T23:59:59.999Z). Times past it come from a broken clock or a
/// hostile peer; they are clamped when written, refused where accepted.
pub const MAX_MS: u64 = 253_402_300_799_999;

/// Now, in Unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `ms` as RFC 3339 with milliseconds, e.g. `2026-11-26T16:58:13.204Z`.
/// Total: a time past [`MAX_MS`] is written as that instant.
/// A duration for people: `100 ms`, `1.2 s`, `4.5 min`, `13.8 h`, `2.5 days`.
pub fn human_ms(ms: f64) -> String {
    match ms {
        ms if ms < 1000.0 => format!("{ms:.0} ms"),
        ms if ms < 60_000.0 => format!("{:.1} s", ms / 1000.0),
        ms if ms < 3_600_000.0 => format!("{:.1} min", ms / 60_000.0),
        ms if ms < 86_400_000.0 => format!("{:.1} h", ms / 3_600_000.0),
        ms => format!("{:.1} days", ms / 86_400_000.0),
    }
}

pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(to_system(ms)).to_string()
}

/// `ms` as RFC 3339 to the second, e.g. `2026-11-26T16:58:13Z`.
pub fn rfc3339_seconds(ms: u64) -> String {
    humantime::format_rfc3339_seconds(to_system(ms)).to_string()
}

/// A [`SystemTime`] as Unix milliseconds, clamped to `0..=MAX_MS`.
pub fn system_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .min(MAX_MS)
}

/// Unix milliseconds as a [`SystemTime`], clamped to [`MAX_MS`].
pub fn to_system(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.min(MAX_MS))
}

/// Parses an RFC 3339 time into Unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    humantime::parse_rfc3339_weak(s.trim()).ok().map(system_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_is_total_and_clamped() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_176_293_204), "2025-11-26T16:58:13.204Z");
        for ms in [MAX_MS, MAX_MS + 1, u64::MAX] {
            assert_eq!(rfc3339(ms), "9999-12-31T23:59:59.999Z");
            assert_eq!(rfc3339_seconds(ms), "9999-12-31T23:59:59Z");
        }
        assert_eq!(
            parse_rfc3339("2025-11-26T16:58:13.204Z"),
            Some(1_764_176_293_204)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
