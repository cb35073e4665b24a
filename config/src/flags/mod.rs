//! The flag file: kill switches and scoped flags, edited by people and
//! hot-reloaded by the agent.
//!
//! Parsing follows the rest of the crate: each `[flag."KEY"]` table is
//! deserialized on its own into `deny_unknown_fields` structs, then checked
//! (owners, blast radius and rollback of kill switches, value types, rule
//! conflicts), every problem reported with `file:line:col`.

pub mod docs;
pub(crate) mod value;

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::document::{Document, Entry, decode, sub_entries, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::values;
pub use liveops_flags::model::*;
pub use liveops_flags::{eval, model};
use value::{flag_value, same_type};

pub(crate) const SECTIONS: &[&str] = &["flag"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    description: Option<Spanned<String>>,
    system: Option<Spanned<String>>,
    kind: Spanned<String>,
    owner: Option<Spanned<String>>,
    default: Spanned<toml::Value>,
    fail_safe: Option<Spanned<toml::Value>>,
    blast_radius: Option<Spanned<String>>,
    takes_effect: Option<Spanned<String>>,
    rollback: Option<Spanned<String>>,
    enabled: Option<bool>,
    rule: Option<Vec<Spanned<RawRule>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    world: Option<OneOrMany>,
    village: Option<OneOrMany>,
    account: Option<OneOrMany>,
    player: Option<OneOrMany>,
    percent: Option<Spanned<f64>>,
    value: Spanned<toml::Value>,
    expires: Option<Spanned<String>>,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Parses a flag file's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<FlagSet, ConfigErrors> {
    let (set, errors) = parse_partial(file, text);
    match errors {
        Some(e) => Err(e),
        None => Ok(set),
    }
}

/// Parses what it can: every flag whose own table is valid, and the errors
/// of the rest. The agent serves `fail_safe` values from this when it has
/// never loaded a valid file.
pub fn parse_partial(file: &str, text: &str) -> (FlagSet, Option<ConfigErrors>) {
    let mut sink = Sink::new(file, text);
    let mut set = FlagSet::default();
    let Some(doc) = Document::parse(text, &mut sink) else {
        return (set, sink.finish(()).err());
    };
    for entry in doc.entries() {
        match entry.name.as_str() {
            "flag" => {
                for flag in sub_entries(&entry, &mut sink) {
                    if let Some(f) = parse_flag(flag, &mut sink) {
                        set.flags.push(f);
                    }
                }
            }
            _ => unknown_section(&entry, SECTIONS, &mut sink),
        }
    }
    let errors = sink.finish(()).err();
    (set, errors)
}

fn parse_flag(entry: Entry<'_>, sink: &mut Sink<'_>) -> Option<Flag> {
    let span = entry.value.span();
    let key_span = entry.key_span.clone();
    let raw: RawFlag = decode(entry.value, sink)?;
    let key_ok = flag_key(&entry.name, key_span, sink);
    let kind = match raw.kind.get_ref().as_str() {
        "kill_switch" => Some(FlagKind::KillSwitch),
        "release" => Some(FlagKind::Release),
        "ops" => Some(FlagKind::Ops),
        other => {
            sink.at(
                raw.kind.span(),
                format!("unknown flag kind `{other}`, expected `kill_switch`, `release` or `ops`"),
            );
            None
        }
    };
    let description = values::required(&raw.description, "description", span.clone(), sink);
    let owner = values::required(&raw.owner, "owner", span.clone(), sink);
    // A kill switch is flipped in an incident by someone who did not write
    // it: what it breaks and how to undo it must be written down.
    let (blast_radius, rollback) = if kind == Some(FlagKind::KillSwitch) {
        (
            values::required(&raw.blast_radius, "blast_radius", span.clone(), sink),
            values::required(&raw.rollback, "rollback", span.clone(), sink),
        )
    } else {
        (Some(text(&raw.blast_radius)), Some(text(&raw.rollback)))
    };
    let default = flag_value(&raw.default, "default", sink);
    let fail_safe = match &raw.fail_safe {
        Some(v) => flag_value(v, "fail_safe", sink)
            .filter(|v| same_type(default.as_ref(), v, raw_span(&raw.fail_safe), sink)),
        None => default.clone(),
    };
    let rules: Vec<(Range<usize>, Rule)> = raw
        .rule
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let span = r.span();
            parse_rule(r.into_inner(), span.clone(), default.as_ref(), sink)
                .map(|rule| (span, rule))
        })
        .collect();
    check_conflicts(&rules, sink);
    let flag = Flag {
        key: entry.name,
        description: description?,
        system: text(&raw.system),
        kind: kind?,
        owner: owner?,
        default: default?,
        fail_safe: fail_safe?,
        blast_radius: blast_radius?,
        takes_effect: text(&raw.takes_effect),
        rollback: rollback?,
        enabled: raw.enabled.unwrap_or(true),
        rules: rules.into_iter().map(|(_, r)| r).collect(),
    };
    key_ok.then_some(flag)
}

fn parse_rule(
    raw: RawRule,
    span: Range<usize>,
    default: Option<&FlagValue>,
    sink: &mut Sink<'_>,
) -> Option<Rule> {
    let value = flag_value(&raw.value, "value", sink)?;
    if !same_type(default, &value, raw.value.span(), sink) {
        return None;
    }
    if let Some(p) = &raw.percent
        && !(0.0..=100.0).contains(p.get_ref())
    {
        sink.at(
            p.span(),
            format!("percent must be between 0 and 100, got {}", p.get_ref()),
        );
    }
    let expires = match &raw.expires {
        Some(e) => match humantime::parse_rfc3339_weak(e.get_ref()) {
            Ok(t) => Some(t),
            Err(_) => {
                sink.at(e.span(), format!("expires: `{}` is not a time; write RFC 3339, e.g. \"2026-12-01T18:00:00Z\"", e.get_ref()));
                None
            }
        },
        None => None,
    };
    let list = |v: Option<OneOrMany>| v.map(OneOrMany::into_vec).unwrap_or_default();
    let rule = Rule {
        world: list(raw.world),
        village: list(raw.village),
        account: list(raw.account),
        player: list(raw.player),
        percent: raw.percent.map(|p| *p.get_ref()),
        value,
        expires,
        reason: raw.reason.unwrap_or_default(),
    };
    let targets = rule.world.len() + rule.village.len() + rule.account.len() + rule.player.len();
    if targets == 0 && rule.percent.is_none() {
        sink.at(
            span,
            "a rule needs a target: world, village, account, player (a value or a list) or percent",
        );
        return None;
    }
    Some(rule)
}

/// Two rules of the same specificity that can match the same request with
/// different values would make the outcome depend on rule order: refused.
fn check_conflicts(rules: &[(Range<usize>, Rule)], sink: &mut Sink<'_>) {
    for (j, (span_b, b)) in rules.iter().enumerate() {
        for (span_a, a) in &rules[..j] {
            if a.specificity() == b.specificity() && a.value != b.value && may_overlap(a, b) {
                let line = crate::error::line_col(sink.text(), span_a.start).0;
                sink.at(
                    span_b.clone(),
                    format!(
                        "this {} rule can match the same requests as the rule on line {line} with another value; make their targets disjoint",
                        b.specificity().as_str()
                    ),
                );
            }
        }
    }
}

fn may_overlap(a: &Rule, b: &Rule) -> bool {
    let dims = [
        (&a.world, &b.world),
        (&a.village, &b.village),
        (&a.account, &b.account),
        (&a.player, &b.player),
    ];
    dims.iter()
        .all(|(x, y)| x.is_empty() || y.is_empty() || x.iter().any(|v| y.contains(v)))
}

fn flag_key(key: &str, span: Range<usize>, sink: &mut Sink<'_>) -> bool {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        sink.at(
            span,
            format!(
                "flag key `{key}` must be 1–128 characters of letters, digits, `-`, `_` or `.`"
            ),
        );
    }
    ok
}

fn raw_span<T>(v: &Option<Spanned<T>>) -> Range<usize> {
    v.as_ref().map(|s| s.span()).unwrap_or(0..0)
}

fn text(v: &Option<Spanned<String>>) -> String {
    v.as_ref()
        .map(|s| s.get_ref().trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod tests;
