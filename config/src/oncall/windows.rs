//! Overrides and coverage windows: a team, a role and an interval, with
//! either a person in place of the rotation's or people beside it.

use jiff::tz::TimeZone;
use toml::Spanned;

use super::layers::layer;
use super::raw::{RawCoverage, RawOverride};
use super::{Coverage, CoverageWho, Known, OnCallRole, Override, scalars};
use crate::document::{Entry, decode};
use crate::error::Sink;
use crate::values;

/// Team, role and interval, checked alike for overrides and coverage.
struct Window {
    team: Option<String>,
    role: Option<OnCallRole>,
    from: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
    zone: Option<TimeZone>,
}

fn window(
    team: &Spanned<String>,
    role: &Spanned<String>,
    (from, until): (&Spanned<toml::Value>, &Spanned<toml::Value>),
    zone: Option<&Spanned<String>>,
    known: &Known,
    sink: &mut Sink<'_>,
) -> Window {
    let team_ok = scalars::known(team, "team", &known.teams, sink);
    let role = scalars::role(role, sink);
    let zone = zone.and_then(|z| scalars::zone(z, "zone", sink));
    let f = scalars::instant(from, "from", zone.as_ref(), sink);
    let u = scalars::instant(until, "until", zone.as_ref(), sink);
    if let (Some(f), Some(u)) = (f, u)
        && f >= u
    {
        sink.at(
            until.span(),
            format!("until ({u}) must be after from ({f})"),
        );
        return Window {
            team: None,
            role,
            from: None,
            until: None,
            zone,
        };
    }
    Window {
        team: team_ok.then(|| team.get_ref().clone()),
        role,
        from: f,
        until: u,
        zone,
    }
}

pub(super) fn an_override(
    raw: RawOverride,
    known: &Known,
    sink: &mut Sink<'_>,
) -> Option<Override> {
    let w = window(
        &raw.team,
        &raw.role,
        (&raw.from, &raw.until),
        raw.zone.as_ref(),
        known,
        sink,
    );
    let person_ok = scalars::known(&raw.person, "person", &known.people, sink);
    person_ok.then_some(())?;
    Some(Override {
        team: w.team?,
        role: w.role?,
        person: raw.person.into_inner(),
        from: w.from?,
        until: w.until?,
        reason: raw.reason,
    })
}

pub(super) fn a_coverage(e: Entry<'_>, known: &Known, sink: &mut Sink<'_>) -> Option<Coverage> {
    let span = e.value.span();
    let name_ok = values::name(&e.name, e.key_span.clone(), "coverage name", sink);
    let raw: RawCoverage = decode(e.value, sink)?;
    let w = window(
        &raw.team,
        &raw.role,
        (&raw.from, &raw.until),
        raw.zone.as_ref(),
        known,
        sink,
    );
    let who = match (&raw.people, &raw.members) {
        (Some(p), None) => {
            scalars::people(p, "people", &known.people, sink).map(CoverageWho::People)
        }
        (None, Some(m)) => {
            let (Some(shift), Some(handoff), Some(_)) = (&raw.shift, &raw.handoff, &raw.zone)
            else {
                sink.at(span, "a coverage layer (`members`) needs `shift`, `handoff` and `zone`, like a rotation");
                return None;
            };
            let start = match &raw.start {
                Some(s) => Some(scalars::date(s, "start", sink)?),
                None => None,
            };
            let cover_from = w.from;
            layer(
                m,
                shift,
                handoff,
                w.zone.clone(),
                (start, cover_from),
                known,
                sink,
            )
            .map(CoverageWho::Layer)
        }
        (Some(p), Some(_)) => {
            sink.at(p.span(), "give either `people` (each on call for the whole window) or `members` (an extra layer taking turns), not both");
            None
        }
        (None, None) => {
            sink.at(span, "missing `people` (each on call for the whole window) or `members` with `shift`, `handoff` and `zone` (an extra layer taking turns)");
            None
        }
    };
    if raw.people.is_some()
        && let Some(s) = raw.shift.as_ref()
    {
        sink.at(s.span(), "`shift` is for a layer (`members`), not `people`");
    }
    name_ok.then_some(())?;
    Some(Coverage {
        name: e.name,
        team: w.team?,
        role: w.role?,
        from: w.from?,
        until: w.until?,
        description: raw.description,
        who: who?,
    })
}
