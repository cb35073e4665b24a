//! Which snapshots to keep: everything young, then the newest of each hour,
//! then the newest of each day, and nothing older (the usual backup
//! ladder). The newest complete snapshot is always kept, so a world whose
//! agent was off for a month still has something to diff against.

use std::collections::HashSet;
use std::time::Duration;

use super::store::Meta;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Every snapshot younger than this.
    pub all: Duration,
    /// Then the newest of each clock hour, up to this age.
    pub hourly: Duration,
    /// Then the newest of each UTC day, up to this age.
    pub daily: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            all: Duration::from_secs(6 * 3600),
            hourly: Duration::from_secs(2 * 86_400),
            daily: Duration::from_secs(14 * 86_400),
        }
    }
}

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 86_400_000;

/// The ids of `snaps` that the policy no longer keeps, at `now_ms`.
/// Incomplete snapshots are not judged here (the store discards them).
pub fn expired(snaps: &[Meta], policy: &Retention, now_ms: u64) -> Vec<String> {
    // A safety snapshot holds only a rollback's entities and is kept as
    // long as the rollback may be undone.
    let mut done: Vec<&Meta> = snaps
        .iter()
        .filter(|m| m.complete && m.trigger != "safety")
        .collect();
    done.sort_by_key(|m| std::cmp::Reverse(m.at_ms));
    let ms = |d: Duration| d.as_millis() as u64;
    let (mut hours, mut days) = (HashSet::new(), HashSet::new());
    let mut out = Vec::new();
    for (i, m) in done.iter().enumerate() {
        // A time in the future (a clock that jumped back) counts as new.
        let age = now_ms.saturating_sub(m.at_ms);
        let (hour, day) = (m.at_ms / HOUR_MS, m.at_ms / DAY_MS);
        let keep = i == 0
            || age <= ms(policy.all)
            || (age <= ms(policy.hourly) && !hours.contains(&hour))
            || (age <= ms(policy.daily) && !days.contains(&day));
        if keep {
            // What is kept stands for its hour and its day, so an older
            // snapshot of the same day is not kept beside it.
            hours.insert(hour);
            days.insert(day);
        } else {
            out.push(m.id.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(n: u64, at_ms: u64) -> Meta {
        Meta {
            id: format!("s-{n}"),
            complete: true,
            ..Meta::new(at_ms, None, "scheduled")
        }
    }

    #[test]
    fn a_ladder_of_every_fifteen_minutes_for_three_weeks() {
        let now = 30 * DAY_MS;
        let every = 15 * 60_000;
        let snaps: Vec<Meta> = (0..(21 * DAY_MS / every))
            .map(|i| snap(i, now - i * every))
            .collect();
        let gone: HashSet<String> = expired(&snaps, &Retention::default(), now)
            .into_iter()
            .collect();
        let kept: Vec<&Meta> = snaps.iter().filter(|m| !gone.contains(&m.id)).collect();
        let age = |m: &Meta| now - m.at_ms;
        let count = |lo: u64, hi: u64| kept.iter().filter(|m| age(m) > lo && age(m) <= hi).count();
        assert_eq!(
            count(0, 6 * HOUR_MS) + 1,
            6 * 4 + 1,
            "all of the first six hours"
        );
        assert_eq!(
            count(6 * HOUR_MS, 2 * DAY_MS),
            42,
            "one an hour to two days"
        );
        assert!(
            (12..=13).contains(&count(2 * DAY_MS, 14 * DAY_MS)),
            "one a day to two weeks"
        );
        assert_eq!(count(14 * DAY_MS, u64::MAX), 0, "nothing older");
    }

    #[test]
    fn the_newest_is_kept_however_old_and_incomplete_ones_are_not_judged() {
        let now = 400 * DAY_MS;
        let mut old = snap(2, DAY_MS);
        let mut snaps = vec![snap(1, 0), old.clone()];
        assert_eq!(expired(&snaps, &Retention::default(), now), ["s-1"]);
        old.complete = false;
        snaps[1] = old;
        assert_eq!(
            expired(&snaps, &Retention::default(), now),
            Vec::<String>::new()
        );
        let future = [snap(3, u64::MAX), snap(4, now)];
        assert!(expired(&future, &Retention::default(), now).is_empty());
    }
}
