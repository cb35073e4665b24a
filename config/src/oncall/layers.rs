//! Rotations and the layer they share with coverage windows: members in
//! order, a shift length, a handoff time on a zone's wall clock, and the
//! first shift's start.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use toml::Spanned;

use super::raw::RawRotation;
use super::{Known, Layer, OnCallRole, Rotation, scalars};
use crate::document::{Entry, decode};
use crate::error::Sink;
use crate::values;

pub(super) fn rotation(
    e: Entry<'_>,
    known: &Known,
    seen: &mut Vec<(String, OnCallRole, String)>,
    sink: &mut Sink<'_>,
) -> Option<Rotation> {
    let name_ok = values::name(&e.name, e.key_span.clone(), "rotation name", sink);
    let raw: RawRotation = decode(e.value, sink)?;
    let team_ok = scalars::known(&raw.team, "team", &known.teams, sink);
    let role = scalars::role(&raw.role, sink);
    let zone = scalars::zone(&raw.zone, "zone", sink);
    let start = scalars::date(&raw.start, "start", sink);
    let layer = match start {
        Some(d) => layer(
            &raw.members,
            &raw.shift,
            &raw.handoff,
            zone,
            (Some(d), None),
            known,
            sink,
        ),
        None => {
            // Still check the rest of the layer.
            let _ = layer(
                &raw.members,
                &raw.shift,
                &raw.handoff,
                zone,
                (None, None),
                known,
                sink,
            );
            None
        }
    };
    if let (true, Some(role)) = (team_ok, role) {
        let team = raw.team.get_ref();
        if let Some((_, _, other)) = seen.iter().find(|(t, r, _)| t == team && *r == role) {
            sink.at(
                raw.role.span(),
                format!(
                    "team `{team}` already has a {role} rotation (`{other}`): one rotation per team and role; use [[override]] or a [coverage.NAME] window for exceptions"
                ),
            );
            return None;
        }
        seen.push((team.clone(), role, e.name.clone()));
    }
    (name_ok && team_ok).then_some(Rotation {
        name: e.name,
        team: raw.team.into_inner(),
        role: role?,
        layer: layer?,
    })
}

/// A layer's members and timing. Its first shift starts on `start` at
/// the handoff time; without `start` (a coverage layer), at the last
/// handoff at or before `cover_from`, so the window's start is covered.
pub(super) fn layer(
    members: &Spanned<Vec<Spanned<String>>>,
    shift: &Spanned<String>,
    handoff: &Spanned<toml::Value>,
    zone: Option<TimeZone>,
    (start, cover_from): (Option<Date>, Option<jiff::Timestamp>),
    known: &Known,
    sink: &mut Sink<'_>,
) -> Option<Layer> {
    let members = scalars::people(members, "members", &known.people, sink);
    let shift_minutes = scalars::shift(shift, sink);
    let handoff = scalars::time_of_day(handoff, "handoff", sink);
    let (shift_minutes, handoff, zone) = (shift_minutes?, handoff?, zone?);
    let first = match (start, cover_from) {
        (Some(d), _) => d.to_datetime(handoff),
        (None, Some(from)) => {
            let local = zone.to_datetime(from);
            let step = jiff::Span::new().try_minutes(shift_minutes).ok()?;
            let mut first = local.date().to_datetime(handoff);
            // A shift is at least an hour, so a day holds at most 24 steps.
            for _ in 0..48 {
                if first <= local {
                    break;
                }
                first = first.checked_sub(step).ok()?;
            }
            first
        }
        (None, None) => return None,
    };
    Some(Layer {
        members: members?,
        shift_minutes,
        zone,
        first,
    })
}
