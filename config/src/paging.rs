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
mod raw;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

use liveops_protocol::Severity;
use toml::Spanned;

use crate::document::{Document, decode, decode_array, sub_entries, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::values;
pub use model::*;
use raw::*;

pub(crate) const SECTIONS: &[&str] = &[
    "paging",
    "route",
    "default_route",
    "policy",
    "working_hours",
    "inhibit",
    "maintenance",
];

/// What names in the file are checked against.
struct Known<'a> {
    /// `None` when checked alone (`liveops check-config`), without the
    /// collector file that names its notifiers.
    channels: Option<&'a [&'a str]>,
    teams: Option<&'a [String]>,
}

/// Parses a paging file's text. `channels` are the collector's notifier
/// names; `teams`, when given, the teams of the on-call schedule.
pub fn parse(
    file: &str,
    text: &str,
    channels: Option<&[&str]>,
    teams: Option<&[String]>,
) -> Result<Paging, ConfigErrors> {
    let mut sink = Sink::new(file, text);
    let known = Known { channels, teams };
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
    match known.teams {
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

fn policy(
    raw: RawPolicy,
    span: Range<usize>,
    known: &Known<'_>,
    sink: &mut Sink<'_>,
) -> Option<SevPolicy> {
    let raw_steps = raw.step.unwrap_or_default();
    if raw_steps.is_empty() {
        sink.at(span, "a policy needs at least one [[policy.SEVn.step]]");
        return None;
    }
    let before = sink.errors.len();
    let steps: Vec<Step> = raw_steps
        .into_iter()
        .filter_map(|s| step(s, known, sink))
        .collect();
    let outside_hours = match &raw.outside_hours {
        None => OutsideHours::Hold,
        Some(v) if v.get_ref() == "hold" => OutsideHours::Hold,
        Some(v) => {
            channel(v, known, sink);
            OutsideHours::Channel(v.get_ref().clone())
        }
    };
    (sink.errors.len() == before).then_some(SevPolicy {
        steps,
        repeat: raw.repeat.unwrap_or(0),
        working_hours: raw.working_hours.unwrap_or(false),
        outside_hours,
    })
}

fn step(raw: RawStep, known: &Known<'_>, sink: &mut Sink<'_>) -> Option<Step> {
    let before = sink.errors.len();
    if raw.notify.get_ref().is_empty() {
        sink.at(
            raw.notify.span(),
            "`notify` is empty: say whom this step pages",
        );
    }
    if raw.channels.get_ref().is_empty() {
        sink.at(
            raw.channels.span(),
            "`channels` is empty: name at least one notifier",
        );
    }
    let mut seen = BTreeSet::new();
    for c in raw.channels.get_ref() {
        if channel(c, known, sink) && !seen.insert(c.get_ref().as_str()) {
            sink.at(
                c.span(),
                format!("channel `{}` is named twice in one step", c.get_ref()),
            );
        }
    }
    let notify: Vec<Target> = raw
        .notify
        .get_ref()
        .iter()
        .filter_map(|t| target(t, known, sink))
        .collect();
    let deadline = match &raw.ack_deadline {
        Some(d) => values::duration(d, "ack_deadline", sink),
        None => {
            sink.at(
                raw.notify.span(),
                "missing `ack_deadline` for this step, e.g. \"5m\"",
            );
            None
        }
    };
    (sink.errors.len() == before).then(|| Step {
        notify,
        channels: raw
            .channels
            .into_inner()
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        ack_deadline: deadline.unwrap_or_default(),
    })
}

fn target(t: &Spanned<RawTarget>, known: &Known<'_>, sink: &mut Sink<'_>) -> Option<Target> {
    let raw = t.get_ref();
    match (&raw.person, &raw.role) {
        (Some(p), None) if raw.team.is_none() => {
            values::name(p.get_ref(), p.span(), "person", sink)
                .then(|| Target::Person(p.get_ref().clone()))
        }
        (None, Some(r)) => {
            let role = match r.get_ref().as_str() {
                "primary" => Some(Role::Primary),
                "secondary" => Some(Role::Secondary),
                other => {
                    sink.at(
                        r.span(),
                        format!("unknown role `{other}`, expected `primary` or `secondary`"),
                    );
                    None
                }
            };
            let team_ok = raw
                .team
                .as_ref()
                .is_none_or(|tm| team(tm.get_ref(), tm.span(), known, sink));
            Some(Target::OnCall {
                team: raw.team.as_ref().map(|tm| tm.get_ref().clone()),
                role: role?,
            })
            .filter(|_| team_ok)
        }
        _ => {
            sink.at(
                t.span(),
                "a notify entry is { role = \"primary\" | \"secondary\", team = \"…\" (optional) } or { person = \"…\" }",
            );
            None
        }
    }
}

fn working_hours(raw: RawHours, sink: &mut Sink<'_>) -> Option<WorkingHours> {
    let zone = match jiff::tz::TimeZone::get(raw.zone.get_ref()) {
        Ok(z) => Some(z),
        Err(_) => {
            sink.at(
                raw.zone.span(),
                format!(
                    "unknown time zone `{}`: use an IANA name such as \"Europe/Berlin\"",
                    raw.zone.get_ref()
                ),
            );
            None
        }
    };
    let mut days = [false; 7];
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    for d in raw.days.get_ref() {
        match NAMES
            .iter()
            .position(|n| d.get_ref().eq_ignore_ascii_case(n))
        {
            Some(i) => days[i] = true,
            None => sink.at(
                d.span(),
                format!(
                    "unknown day `{}`, expected one of {}",
                    d.get_ref(),
                    NAMES.join(", ")
                ),
            ),
        }
    }
    if raw.days.get_ref().is_empty() {
        sink.at(
            raw.days.span(),
            "`days` is empty: name at least one working day",
        );
    }
    let from = clock(&raw.from, "from", sink);
    let until = clock(&raw.until, "until", sink);
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        sink.at(
            raw.until.span(),
            "`until` must be later than `from` on the same day",
        );
        return None;
    }
    Some(WorkingHours {
        zone: zone?,
        days,
        from: from?,
        until: until?,
    })
}

/// `"09:00"`, 24-hour.
fn clock(v: &Spanned<String>, what: &str, sink: &mut Sink<'_>) -> Option<jiff::civil::Time> {
    let parsed = v.get_ref().split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?);
        jiff::civil::Time::new(h, m, 0, 0).ok()
    });
    if parsed.is_none() {
        sink.at(
            v.span(),
            format!(
                "{what}: `{}` is not a time of day; write \"HH:MM\", e.g. \"09:00\"",
                v.get_ref()
            ),
        );
    }
    parsed
}

fn maintenance(
    raw: RawMaintenance,
    span: Range<usize>,
    sink: &mut Sink<'_>,
) -> Option<Maintenance> {
    if raw.matches.is_none() && raw.match_re.is_none() {
        sink.at(
            span.clone(),
            "a maintenance window needs `match` or `match_re`: which alerts it holds back",
        );
    }
    let matchers = matchers(&raw.matches, &raw.match_re, sink);
    let from = instant(&raw.from, "from", sink);
    let until = instant(&raw.until, "until", sink);
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        sink.at(raw.until.span(), "`until` must be later than `from`");
        return None;
    }
    let reason = values::required(&raw.reason, "reason", span, sink);
    Some(Maintenance {
        matchers: matchers?,
        from_ms: from?,
        until_ms: until?,
        reason: reason?,
    })
}

/// An RFC 3339 instant as Unix ms.
fn instant(v: &Spanned<String>, what: &str, sink: &mut Sink<'_>) -> Option<u64> {
    let ms = v
        .get_ref()
        .parse::<jiff::Timestamp>()
        .ok()
        .and_then(|t| u64::try_from(t.as_millisecond()).ok());
    if ms.is_none() {
        sink.at(
            v.span(),
            format!(
                "{what}: `{}` is not an RFC 3339 time; write e.g. \"2026-12-24T06:00:00Z\"",
                v.get_ref()
            ),
        );
    }
    ms
}

#[cfg(test)]
mod tests;
