//! One layer's shifts: member `k mod n` holds shift `k`, from handoff `k`
//! to handoff `k + 1`, where handoff `k` is `first` + k × `shift` on the
//! zone's wall clock.
//!
//! The arithmetic is civil (a `1d` shift ends at the same wall-clock time
//! the next day, 23 or 25 hours later across a DST switch); only each
//! handoff is turned into an instant, with RFC 5545's ("compatible")
//! reading of a wall-clock time that does not exist or exists twice: in a
//! gap, as if clocks had not moved yet (02:30 in a skipped hour is 03:30);
//! in a fold, the first occurrence.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use liveops_config::oncall::Layer;

/// One shift of a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shift {
    pub from: Timestamp,
    pub until: Timestamp,
    pub person: String,
}

/// Minutes from the Unix epoch to `dt`, reading it as UTC: a count in
/// which every civil minute is one step.
fn civil_minutes(dt: DateTime) -> i64 {
    TimeZone::UTC
        .to_ambiguous_timestamp(dt)
        .compatible()
        .map_or(0, |t| t.as_second().div_euclid(60))
}

fn from_civil_minutes(m: i64) -> Option<DateTime> {
    let t = Timestamp::from_second(m.checked_mul(60)?).ok()?;
    Some(TimeZone::UTC.to_datetime(t))
}

/// Far enough for any schedule, near enough that no arithmetic overflows.
const MAX_INDEX: i64 = 10_000_000;

impl<'a> LayerRef<'a> {
    pub(crate) fn new(layer: &'a Layer) -> Self {
        LayerRef {
            layer,
            anchor: civil_minutes(layer.first),
        }
    }

    /// The instant of handoff `k`.
    fn handoff(&self, k: i64) -> Option<Timestamp> {
        let m = self
            .anchor
            .checked_add(k.checked_mul(self.layer.shift_minutes)?)?;
        let dt = from_civil_minutes(m)?;
        self.layer.zone.to_ambiguous_timestamp(dt).compatible().ok()
    }

    /// The index of the shift holding `t`, if the layer has begun by then.
    fn index_at(&self, t: Timestamp) -> Option<i64> {
        let local = civil_minutes(self.layer.zone.to_datetime(t));
        let mut k = (local - self.anchor).div_euclid(self.layer.shift_minutes);
        k = k.clamp(0, MAX_INDEX);
        // The wall clock and the instants disagree by at most a DST jump:
        // a step or two either way settles it.
        for _ in 0..4 {
            match self.handoff(k) {
                Some(h) if h > t && k > 0 => k -= 1,
                _ => break,
            }
        }
        for _ in 0..4 {
            match self.handoff(k + 1) {
                Some(h) if h <= t => k += 1,
                _ => break,
            }
        }
        (self.handoff(k)? <= t).then_some(k)
    }

    /// Every shift overlapping `[from, until)`, whole (not cut to it).
    pub(crate) fn shifts(&self, from: Timestamp, until: Timestamp) -> Vec<Shift> {
        let mut out = Vec::new();
        let Some(first) = self.handoff(0) else {
            return out;
        };
        let mut k = self.index_at(from.max(first)).unwrap_or(0);
        let n = self.layer.members.len() as i64;
        while k < MAX_INDEX {
            let (Some(s), Some(e)) = (self.handoff(k), self.handoff(k + 1)) else {
                break;
            };
            if s >= until {
                break;
            }
            // A shift can vanish when both its ends fall into one DST gap.
            if e > s && e > from {
                out.push(Shift {
                    from: s,
                    until: e,
                    person: self.layer.members[k.rem_euclid(n) as usize].clone(),
                });
            }
            k += 1;
        }
        out
    }

    /// When the layer's first shift begins.
    pub(crate) fn begins(&self) -> Option<Timestamp> {
        self.handoff(0)
    }
}

/// A layer with its anchor (handoff 0 in civil minutes) worked out once.
pub(crate) struct LayerRef<'a> {
    layer: &'a Layer,
    anchor: i64,
}
