//! The on-call schedule file (`oncall.toml`): `[team.NAME]`,
//! `[person.NAME]`, `[rotation.NAME]`, `[[override]]`, `[coverage.NAME]`.
//!
//! Shaped like PagerDuty schedule layers and Grafana OnCall rolling
//! shifts: a rotation is members in order, a shift length, a handoff time
//! on a named zone's wall clock and a start date that fixes who is first;
//! overrides replace the rotation's person for a while; coverage windows
//! add people beside it. Sections are read whole first and checked after,
//! so a rotation may come before the people it names.

mod layers;
mod model;
mod raw;
mod scalars;
mod windows;

use std::collections::BTreeSet;

pub use model::*;

use crate::document::{Document, Entry, decode, decode_array, sub_entries, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::model::Secret;
use crate::values;
use layers::rotation;
use raw::{RawOverride, RawPerson, RawTeam};
use windows::{a_coverage, an_override};

pub(crate) const SECTIONS: &[&str] = &["team", "person", "rotation", "override", "coverage"];

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

#[cfg(test)]
mod tests;
