//! The paging policy file (`config/paging.toml`): routes from alert labels
//! to an owning team and a severity, a policy per severity (steps, channels,
//! acknowledgement deadlines, repeats, working hours), inhibition rules,
//! the flap window and scheduled maintenance.
//!
//! Channel names are checked against the collector's notifiers and, when a
//! schedule is known, team names against its teams, each with its
//! `file:line:col`; every error in the file is reported at once.

mod hours;
pub mod model;
mod policy;
mod raw;
mod windows;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

use liveops_protocol::Severity;
use toml::Spanned;

use crate::document::{Document, decode, decode_array, sub_entries, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::values;
pub use model::*;
use policy::policy;
use raw::*;
use windows::{maintenance, working_hours};

pub(crate) const SECTIONS: &[&str] = &[
    "paging",
    "route",
    "default_route",
    "policy",
    "working_hours",
    "inhibit",
    "maintenance",
];

/// The on-call schedule's names a policy may use: its teams and people.
#[derive(Clone, Copy, Debug)]
pub struct ScheduleNames<'a> {
    pub teams: &'a [String],
    pub people: &'a [String],
}

/// What names in the file are checked against.
struct Known<'a> {
    /// `None` when checked alone (`liveops check-config`), without the
    /// collector file that names its notifiers.
    channels: Option<&'a [&'a str]>,
    schedule: Option<ScheduleNames<'a>>,
}

/// Parses a paging file's text. `channels` are the collector's notifier
/// names; `schedule`, when given, the names of the on-call schedule.
pub fn parse(
    file: &str,
    text: &str,
    channels: Option<&[&str]>,
    schedule: Option<ScheduleNames<'_>>,
) -> Result<Paging, ConfigErrors> {
    let mut sink = Sink::new(file, text);
    let known = Known { channels, schedule };
    let mut out = Paging {
        flap_window: Duration::from_secs(300),
        default_team: "engineering".into(),
        routes: Vec::new(),
        default_route: RouteTo {
            team: None,
            severity: Severity::Sev3,
        },
        policies: BTreeMap::new(),
        working_hours: BTreeMap::new(),
        inhibit: Vec::new(),
        maintenance: Vec::new(),
    };
    let Some(doc) = Document::parse(text, &mut sink) else {
        return sink.finish(out);
    };
    // Severities with a [policy.SEVn] table, valid or not.
    let mut written = BTreeSet::new();
    for entry in doc.entries() {
        match entry.name.as_str() {
            "paging" => {
                if let Some(raw) = decode::<RawPaging>(entry.value, &mut sink) {
                    general(raw, &known, &mut out, &mut sink);
                }
            }
            "route" => {
                for (_, raw) in decode_array::<RawRoute>(entry, &mut sink) {
                    let matchers = matchers(&raw.matches, &raw.match_re, &mut sink);
                    let to = route_to(raw.team.as_ref(), &raw.severity, &known, &mut sink);
                    if let (Some(matchers), Some(to)) = (matchers, to) {
                        out.routes.push(Route { matchers, to });
                    }
                }
            }
            "default_route" => {
                if let Some(raw) = decode::<RawDefaultRoute>(entry.value, &mut sink)
                    && let Some(to) = route_to(raw.team.as_ref(), &raw.severity, &known, &mut sink)
                {
                    out.default_route = to;
                }
            }
            "policy" => {
                for p in sub_entries(&entry, &mut sink) {
                    let Some(sev) = Severity::parse(&p.name) else {
                        sink.at(
                            p.key_span.clone(),
                            format!(
                                "unknown severity `{}`, expected SEV1, SEV2, SEV3 or SEV4",
                                p.name
                            ),
                        );
                        continue;
                    };
                    written.insert(sev);
                    let span = p.value.span();
                    if let Some(raw) = decode::<RawPolicy>(p.value, &mut sink)
                        && let Some(policy) = policy(raw, span, &known, &mut sink)
                    {
                        out.policies.insert(sev, policy);
                    }
                }
            }
            "working_hours" => {
                for h in sub_entries(&entry, &mut sink) {
                    team(&h.name, h.key_span.clone(), &known, &mut sink);
                    if let Some(raw) = decode::<RawHours>(h.value, &mut sink)
                        && let Some(wh) = working_hours(raw, &mut sink)
                    {
                        out.working_hours.insert(h.name, wh);
                    }
                }
            }
            "inhibit" => {
                for (span, raw) in decode_array::<RawInhibit>(entry, &mut sink) {
                    if raw.source_match.is_none() && raw.source_match_re.is_none() {
                        sink.at(
                            span.clone(),
                            "an inhibit rule needs `source_match` or `source_match_re`",
                        );
                    }
                    if raw.target_match.is_none() && raw.target_match_re.is_none() {
                        sink.at(
                            span,
                            "an inhibit rule needs `target_match` or `target_match_re`",
                        );
                    }
                    let source = matchers(&raw.source_match, &raw.source_match_re, &mut sink);
                    let target = matchers(&raw.target_match, &raw.target_match_re, &mut sink);
                    if let (Some(source), Some(target)) = (source, target) {
                        out.inhibit.push(Inhibit {
                            source,
                            target,
                            equal: raw.equal.unwrap_or_default(),
                        });
                    }
                }
            }
            "maintenance" => {
                for (span, raw) in decode_array::<RawMaintenance>(entry, &mut sink) {
                    if let Some(m) = maintenance(raw, span, &mut sink) {
                        out.maintenance.push(m);
                    }
                }
            }
            _ => unknown_section(&entry, SECTIONS, &mut sink),
        }
    }
    let missing: Vec<&str> = Severity::ALL
        .iter()
        .filter(|s| !written.contains(*s))
        .map(|s| s.as_str())
        .collect();
    if !missing.is_empty() {
        sink.at(
            0..0,
            format!(
                "no policy for {}: add a [policy.SEVn] table for each severity (the shipped config/paging.toml has all four)",
                missing.join(", ")
            ),
        );
    }
    sink.finish(out)
}

fn general(raw: RawPaging, known: &Known<'_>, out: &mut Paging, sink: &mut Sink<'_>) {
    if let Some(d) = raw
        .flap_window
        .as_ref()
        .and_then(|d| values::duration(d, "flap_window", sink))
    {
        out.flap_window = d;
    }
    if let Some(t) = raw.default_team
        && team(t.get_ref(), t.span(), known, sink)
    {
        out.default_team = t.into_inner();
    }
}

fn severity(s: &Spanned<String>, sink: &mut Sink<'_>) -> Option<Severity> {
    let sev = Severity::parse(s.get_ref());
    if sev.is_none() {
        sink.at(
            s.span(),
            format!(
                "unknown severity `{}`, expected SEV1, SEV2, SEV3 or SEV4",
                s.get_ref()
            ),
        );
    }
    sev
}

fn route_to(
    team_name: Option<&Spanned<String>>,
    sev: &Spanned<String>,
    known: &Known<'_>,
    sink: &mut Sink<'_>,
) -> Option<RouteTo> {
    let team_ok = team_name.is_none_or(|t| team(t.get_ref(), t.span(), known, sink));
    let severity = severity(sev, sink)?;
    team_ok.then(|| RouteTo {
        team: team_name.map(|t| t.get_ref().clone()),
        severity,
    })
}

/// A team name: the name rule, and one of the schedule's teams if known.
fn team(name: &str, span: Range<usize>, known: &Known<'_>, sink: &mut Sink<'_>) -> bool {
    if !values::name(name, span.clone(), "team name", sink) {
        return false;
    }
    match known.schedule.map(|s| s.teams) {
        Some(teams) if !teams.iter().any(|t| t == name) => {
            sink.at(
                span,
                format!(
                    "unknown team `{name}`: the on-call schedule has {}",
                    list(teams.iter().map(String::as_str))
                ),
            );
            false
        }
        _ => true,
    }
}

fn channel(c: &Spanned<String>, known: &Known<'_>, sink: &mut Sink<'_>) -> bool {
    let Some(channels) = known.channels else {
        return true;
    };
    if channels.contains(&c.get_ref().as_str()) {
        return true;
    }
    let have = if channels.is_empty() {
        "none".to_owned()
    } else {
        list(channels.iter().copied())
    };
    sink.at(
        c.span(),
        format!(
            "unknown channel `{}`: the collector's [[notifier]] channels are {have}",
            c.get_ref()
        ),
    );
    false
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn matchers(
    equal: &Option<BTreeMap<String, Spanned<String>>>,
    regex: &Option<BTreeMap<String, Spanned<String>>>,
    sink: &mut Sink<'_>,
) -> Option<Matchers> {
    let mut out = Vec::new();
    let mut ok = true;
    for (label, v) in equal.iter().flatten() {
        out.push(Matcher {
            label: label.clone(),
            value: MatchValue::Equal(v.get_ref().clone()),
        });
    }
    for (label, v) in regex.iter().flatten() {
        match regex_lite::Regex::new(&format!("^(?:{})$", v.get_ref())) {
            Ok(re) => out.push(Matcher {
                label: label.clone(),
                value: MatchValue::Regex(re),
            }),
            Err(e) => {
                let why = e.to_string();
                let first = why.lines().last().unwrap_or("invalid").trim();
                sink.at(
                    v.span(),
                    format!("`{label}`: not a regular expression: {first}"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(Matchers(out))
}

#[cfg(test)]
mod tests;
