//! The on-call schedule file (`oncall.toml`): `[team.NAME]`,
//! `[person.NAME]`, `[rotation.NAME]`, `[[override]]`, `[coverage.NAME]`.
//!
//! Shaped like PagerDuty schedule layers and Grafana OnCall rolling
//! shifts: a rotation is members in order, a shift length, a handoff time
//! on a named zone's wall clock and a start date that fixes who is first;
//! overrides replace the rotation's person for a while; coverage windows
//! add people beside it. Sections are read whole first and checked after,
//! so a rotation may come before the people it names.

mod model;
mod scalars;

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

pub use model::*;

use crate::document::{Document, Entry, decode, decode_array, sub_entries, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::model::Secret;
use crate::values;

pub(crate) const SECTIONS: &[&str] = &["team", "person", "rotation", "override", "coverage"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    zone: Spanned<String>,
    pagerduty: Option<Spanned<String>>,
    email: Option<Spanned<String>>,
    slack: Option<Spanned<String>>,
    discord: Option<Spanned<String>>,
}

/// The keys of a layer, shared by rotations and coverage windows.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRotation {
    team: Spanned<String>,
    role: Spanned<String>,
    members: Spanned<Vec<Spanned<String>>>,
    shift: Spanned<String>,
    handoff: Spanned<toml::Value>,
    zone: Spanned<String>,
    start: Spanned<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    team: Spanned<String>,
    role: Spanned<String>,
    person: Spanned<String>,
    from: Spanned<toml::Value>,
    until: Spanned<toml::Value>,
    /// The wall clock of `from` and `until` when they have no offset.
    zone: Option<Spanned<String>>,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoverage {
    team: Spanned<String>,
    role: Spanned<String>,
    from: Spanned<toml::Value>,
    until: Spanned<toml::Value>,
    zone: Option<Spanned<String>>,
    description: Option<String>,
    people: Option<Spanned<Vec<Spanned<String>>>>,
    members: Option<Spanned<Vec<Spanned<String>>>>,
    shift: Option<Spanned<String>>,
    handoff: Option<Spanned<toml::Value>>,
    start: Option<Spanned<toml::Value>>,
}

/// Names every check resolves against.
struct Known {
    teams: BTreeSet<String>,
    people: BTreeSet<String>,
}

/// Parses a schedule file's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<OncallConfig, ConfigErrors> {
    let mut sink = Sink::new(file, text);
    let mut cfg = OncallConfig::default();
    let Some(doc) = Document::parse(text, &mut sink) else {
        return sink.finish(cfg);
    };
    let (mut teams, mut people, mut rotations, mut overrides, mut coverage) =
        (vec![], vec![], vec![], vec![], vec![]);
    for entry in doc.entries() {
        match entry.name.as_str() {
            "team" => teams = sub_entries(&entry, &mut sink),
            "person" => people = sub_entries(&entry, &mut sink),
            "rotation" => rotations = sub_entries(&entry, &mut sink),
            "override" => overrides = decode_array::<RawOverride>(entry, &mut sink),
            "coverage" => coverage = sub_entries(&entry, &mut sink),
            _ => unknown_section(&entry, SECTIONS, &mut sink),
        }
    }
    // Every name counts as known even when its table has errors, so one
    // mistake is reported once, not again at each use.
    let known = Known {
        teams: teams.iter().map(|e| e.name.clone()).collect(),
        people: people.iter().map(|e| e.name.clone()).collect(),
    };
    if teams.is_empty() {
        sink.at(0..0, "no teams: add at least one [team.NAME] table (the shipped config/oncall.toml has examples)");
    }
    for e in teams {
        if values::name(&e.name, e.key_span.clone(), "team name", &mut sink)
            && let Some(raw) = decode::<RawTeam>(e.value, &mut sink)
        {
            cfg.teams.push(Team {
                name: e.name,
                description: raw.description,
            });
        }
    }
    cfg.people = people
        .into_iter()
        .filter_map(|e| person(e, &mut sink))
        .collect();
    let mut seen = Vec::<(String, OnCallRole, String)>::new();
    for e in rotations {
        if let Some(r) = rotation(e, &known, &mut seen, &mut sink) {
            cfg.rotations.push(r);
        }
    }
    for (_, raw) in overrides {
        if let Some(o) = an_override(raw, &known, &mut sink) {
            cfg.overrides.push(o);
        }
    }
    for e in coverage {
        if let Some(c) = a_coverage(e, &known, &mut sink) {
            cfg.coverage.push(c);
        }
    }
    sink.finish(cfg)
}

fn person(e: Entry<'_>, sink: &mut Sink<'_>) -> Option<Person> {
    let name_ok = values::name(&e.name, e.key_span.clone(), "person name", sink);
    let raw: RawPerson = decode(e.value, sink)?;
    let zone = scalars::zone(&raw.zone, "zone", sink);
    let contacts = Contacts {
        pagerduty: scalars::contact(&raw.pagerduty, "pagerduty", true, sink).map(Secret),
        email: scalars::contact(&raw.email, "email", false, sink),
        slack: scalars::contact(&raw.slack, "slack", false, sink),
        discord: scalars::contact(&raw.discord, "discord", false, sink),
    };
    name_ok.then_some(Person {
        name: e.name,
        zone: zone?,
        contacts,
    })
}

fn rotation(
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
fn layer(
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

fn an_override(raw: RawOverride, known: &Known, sink: &mut Sink<'_>) -> Option<Override> {
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

fn a_coverage(e: Entry<'_>, known: &Known, sink: &mut Sink<'_>) -> Option<Coverage> {
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

#[cfg(test)]
mod tests;
