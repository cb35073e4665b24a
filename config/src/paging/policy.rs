//! A `[policy.SEVn]` table: its steps, whom each notifies, through which
//! channels, and what happens outside working hours.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::Spanned;

use super::model::{OutsideHours, Role, SevPolicy, Step, Target};
use super::raw::{RawPolicy, RawStep, RawTarget};
use super::{Known, channel, team};
use crate::error::Sink;
use crate::values;

pub(super) fn policy(
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
            let name = p.get_ref();
            if !values::name(name, p.span(), "person", sink) {
                return None;
            }
            if let Some(people) = known.schedule.map(|s| s.people)
                && !people.iter().any(|q| q == name)
            {
                sink.at(
                    p.span(),
                    format!("unknown person `{name}`: not in the on-call schedule's people"),
                );
                return None;
            }
            Some(Target::Person(name.clone()))
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
