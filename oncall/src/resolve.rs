//! The final pieces of one team and role: the rotation's shifts with the
//! overrides laid over them; and the pieces of coverage windows.
//!
//! Pieces are never cut to the range asked for: a piece's bounds depend
//! only on the schedule, so asking at any instant inside it (`who`) gives
//! the same piece as a listing (`shifts`, the iCalendar export).

use jiff::Timestamp;
use liveops_config::oncall::{Coverage, CoverageWho, OncallConfig};

use crate::layer::LayerRef;
use crate::{Handoff, OnCall, Role, Source};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// Index into the config's overrides.
    Override(usize),
    /// Index into the rotation's shifts.
    Shift(usize),
}

/// The rotation of `team`'s `role` with every override laid over it: the
/// pieces overlapping `[from, until)`.
pub(crate) fn track(
    cfg: &OncallConfig,
    team: &str,
    role: Role,
    from: Timestamp,
    until: Timestamp,
) -> Vec<OnCall> {
    let rotation = cfg
        .rotations
        .iter()
        .find(|r| r.team == team && r.role == role);
    let shifts = rotation.map_or_else(Vec::new, |r| LayerRef::new(&r.layer).shifts(from, until));
    // All of the track's overrides, not only those in range: one that
    // ends outside the range can still cut a piece that reaches into it.
    let overrides: Vec<usize> = (0..cfg.overrides.len())
        .filter(|&i| cfg.overrides[i].team == team && cfg.overrides[i].role == role)
        .collect();
    let mut cuts: Vec<Timestamp> = shifts
        .iter()
        .flat_map(|s| [s.from, s.until])
        .chain(
            overrides
                .iter()
                .flat_map(|&i| [cfg.overrides[i].from, cfg.overrides[i].until]),
        )
        .collect();
    cuts.sort();
    cuts.dedup();
    // Between two cuts one owner holds it all: the latest override that
    // covers it, else the shift that does.
    let mut pieces: Vec<(Timestamp, Timestamp, Owner)> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let owner = overrides
            .iter()
            .rev()
            .find(|&&i| cfg.overrides[i].from <= a && a < cfg.overrides[i].until)
            .map(|&i| Owner::Override(i))
            .or_else(|| {
                shifts
                    .iter()
                    .position(|s| s.from <= a && a < s.until)
                    .map(Owner::Shift)
            });
        let Some(owner) = owner else { continue };
        match pieces.last_mut() {
            Some(last) if last.2 == owner && last.1 == a => last.1 = b,
            _ => pieces.push((a, b, owner)),
        }
    }
    pieces
        .into_iter()
        .filter(|&(a, b, _)| a < until && b > from)
        .map(|(a, b, owner)| {
            let (person, source) = match owner {
                Owner::Override(i) => (
                    cfg.overrides[i].person.clone(),
                    Source::Override {
                        reason: cfg.overrides[i].reason.clone(),
                    },
                ),
                Owner::Shift(i) => (
                    shifts[i].person.clone(),
                    Source::Rotation {
                        name: rotation.map(|r| r.name.clone()).unwrap_or_default(),
                    },
                ),
            };
            OnCall {
                team: team.to_owned(),
                role,
                person,
                from: a,
                until: b,
                source,
            }
        })
        .collect()
}

/// The pieces of coverage window `c` for `team`'s `role` overlapping
/// `[from, until)`, each cut to the window (the window's own bounds).
pub(crate) fn coverage_of(
    c: &Coverage,
    team: &str,
    role: Role,
    from: Timestamp,
    until: Timestamp,
) -> Vec<OnCall> {
    if c.team != team || c.role != role || c.until <= from || c.from >= until {
        return Vec::new();
    }
    let piece = |person: &str, a: Timestamp, b: Timestamp| OnCall {
        team: team.to_owned(),
        role,
        person: person.to_owned(),
        from: a,
        until: b,
        source: Source::Coverage {
            name: c.name.clone(),
        },
    };
    match &c.who {
        CoverageWho::People(people) => people.iter().map(|p| piece(p, c.from, c.until)).collect(),
        CoverageWho::Layer(layer) => LayerRef::new(layer)
            .shifts(from.max(c.from), until.min(c.until))
            .into_iter()
            .map(|s| (s.from.max(c.from), s.until.min(c.until), s.person))
            .filter(|(a, b, _)| a < b)
            .map(|(a, b, p)| piece(&p, a, b))
            .collect(),
    }
}

/// The handoffs among one sequence of pieces (one track, or one coverage
/// window) that happen in `[from, until)`; `pieces` starts before `from`
/// so the first of them has its predecessor.
pub(crate) fn handoffs(
    pieces: &[OnCall],
    from: Timestamp,
    until: Timestamp,
    out: &mut Vec<Handoff>,
) {
    let mut previous: Option<&OnCall> = None;
    let mut by_start: Vec<&OnCall> = pieces.iter().collect();
    by_start.sort_by_key(|p| p.from);
    for p in by_start {
        // Contiguous pieces of the one person are no handoff (a single-
        // member rotation, an override by the person already on call).
        let before = previous.filter(|q| q.until == p.from);
        let same = before.is_some_and(|q| q.person == p.person);
        if p.from >= from && p.from < until && !same {
            out.push(Handoff {
                at: p.from,
                team: p.team.clone(),
                role: p.role,
                from_person: before.map(|q| q.person.clone()),
                to_person: p.person.clone(),
                source: p.source.clone(),
            });
        }
        previous = Some(p);
    }
}
