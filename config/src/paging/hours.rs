//! Working hours as wall-clock times in a named zone: "09:00 Europe/Berlin"
//! is 08:00 UTC in winter and 07:00 UTC in summer, so they are resolved
//! with the zone's rules for each day rather than as fixed UTC offsets.

use jiff::Timestamp;
use jiff::civil::Date;

use super::model::WorkingHours;

impl WorkingHours {
    /// Whether `at_ms` (Unix ms) falls inside the working hours.
    pub fn contains(&self, at_ms: u64) -> bool {
        let Some(local) = timestamp(at_ms).map(|t| t.to_zoned(self.zone.clone())) else {
            return false;
        };
        let day = usize::try_from(local.date().weekday().to_monday_zero_offset()).unwrap_or(0);
        let t = local.time();
        self.days[day] && self.from <= t && t < self.until
    }

    /// `at_ms` itself when inside the working hours, else when they next
    /// start. `None` when no day is a working day.
    pub fn next_start(&self, at_ms: u64) -> Option<u64> {
        if self.contains(at_ms) {
            return Some(at_ms);
        }
        let local = timestamp(at_ms)?.to_zoned(self.zone.clone());
        let mut date: Date = local.date();
        // A week ahead covers every weekly pattern; one day more covers a
        // start earlier today that has already passed.
        for _ in 0..8 {
            let day = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
            if self.days[day] {
                // A start inside a DST gap (02:30 on a spring-forward
                // day) is taken as the instant just after it.
                let start = date
                    .to_datetime(self.from)
                    .to_zoned(self.zone.clone())
                    .ok()?;
                let ms = u64::try_from(start.timestamp().as_millisecond()).ok()?;
                if ms > at_ms {
                    return Some(ms);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

fn timestamp(ms: u64) -> Option<Timestamp> {
    Timestamp::from_millisecond(i64::try_from(ms).ok()?).ok()
}
