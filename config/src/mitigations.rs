//! The mitigations file: named bundles of flag values (`[mitigation."NAME"]`)
//! that the collector applies to a world or the fleet in one step.
//!
//! A bundle is only useful if it can be applied in an incident without a
//! surprise, so it is checked against the flag catalogue when loaded: every
//! key must be a flag and every value must have the type of that flag's
//! default. Errors carry `file:line:col` like the rest of the crate.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use liveops_flags::{FlagSet, FlagValue};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::document::{Document, Entry, decode, sub_entries, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::values;

pub(crate) const SECTIONS: &[&str] = &["mitigation"];

/// One validated bundle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mitigation {
    pub name: String,
    pub description: String,
    /// A path on the collector (`/runbooks/…`) or a full URL.
    pub runbook: String,
    /// Flag key → the value the bundle sets; never empty.
    pub flags: BTreeMap<String, FlagValue>,
    /// Used when the operator gives no TTL.
    #[serde(
        serialize_with = "humantime_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub default_ttl: Option<Duration>,
}

/// Every bundle of one file, in file order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Mitigations {
    pub bundles: Vec<Mitigation>,
}

impl Mitigations {
    pub fn get(&self, name: &str) -> Option<&Mitigation> {
        self.bundles.iter().find(|m| m.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.bundles.iter().map(|m| m.name.as_str()).collect()
    }
}

/// What the collector checks operator input against: the flags and the
/// mitigation bundles.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    pub flags: FlagSet,
    pub mitigations: Mitigations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMitigation {
    description: Option<Spanned<String>>,
    runbook: Option<Spanned<String>>,
    flags: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
    default_ttl: Option<Spanned<String>>,
}

/// Parses a mitigations file's text, checking it against `flags`.
pub fn parse(file: &str, text: &str, flags: &FlagSet) -> Result<Mitigations, ConfigErrors> {
    let mut sink = Sink::new(file, text);
    let mut out = Mitigations::default();
    let Some(doc) = Document::parse(text, &mut sink) else {
        return sink.finish(out);
    };
    for entry in doc.entries() {
        match entry.name.as_str() {
            "mitigation" => {
                for m in sub_entries(&entry, &mut sink) {
                    if let Some(m) = parse_one(m, flags, &mut sink) {
                        out.bundles.push(m);
                    }
                }
            }
            _ => unknown_section(&entry, SECTIONS, &mut sink),
        }
    }
    if !doc.has("mitigation") {
        sink.at(
            0..0,
            "no mitigations: add at least one [mitigation.\"NAME\"] table (the shipped config/mitigations.toml has examples)",
        );
    }
    sink.finish(out)
}

fn parse_one(entry: Entry<'_>, flags: &FlagSet, sink: &mut Sink<'_>) -> Option<Mitigation> {
    let span = entry.value.span();
    let name_ok = values::name(&entry.name, entry.key_span.clone(), "mitigation name", sink);
    let raw: RawMitigation = decode(entry.value, sink)?;
    let description = values::required(&raw.description, "description", span.clone(), sink);
    let runbook = values::required(&raw.runbook, "runbook", span.clone(), sink);
    if let Some(r) = &raw.runbook
        && !r.get_ref().starts_with('/')
    {
        values::http_url(r, "runbook", sink);
    }
    let default_ttl = raw
        .default_ttl
        .as_ref()
        .map(|t| values::duration(t, "default_ttl", sink));
    let bundle = match raw.flags {
        None => {
            sink.at(
                span,
                "missing `flags`: the flag values this mitigation sets",
            );
            None
        }
        Some(f) if f.get_ref().is_empty() => {
            sink.at(f.span(), "`flags` is empty: name at least one flag");
            None
        }
        Some(f) => bundle_flags(f.into_inner(), flags, sink),
    };
    let ttl = match default_ttl {
        Some(None) => return None,
        Some(Some(t)) => Some(t),
        None => None,
    };
    name_ok.then_some(Mitigation {
        name: entry.name,
        description: description?,
        runbook: runbook?,
        flags: bundle?,
        default_ttl: ttl,
    })
}

fn bundle_flags(
    raw: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    flags: &FlagSet,
    sink: &mut Sink<'_>,
) -> Option<BTreeMap<String, FlagValue>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, value) in raw {
        let Some(flag) = flags.get(key.get_ref()) else {
            unknown_flag(key.get_ref(), key.span(), flags, sink);
            ok = false;
            continue;
        };
        match crate::flags::value::convert(value.get_ref()) {
            Ok(v) if v.type_name() == flag.default.type_name() => {
                out.insert(key.into_inner(), v);
            }
            Ok(v) => {
                sink.at(
                    value.span(),
                    format!(
                        "`{}` is a {} flag (default {}), but this value is a {}",
                        key.get_ref(),
                        flag.default.type_name(),
                        flag.default,
                        v.type_name()
                    ),
                );
                ok = false;
            }
            Err(why) => {
                sink.at(value.span(), format!("`{}`: {why}", key.get_ref()));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn unknown_flag(key: &str, span: Range<usize>, flags: &FlagSet, sink: &mut Sink<'_>) {
    // The closest keys first would need a distance metric; the same system's
    // flags are what a typo usually meant.
    let system = key.split('.').next().unwrap_or(key);
    let mut near: Vec<&str> = flags
        .flags
        .iter()
        .map(|f| f.key.as_str())
        .filter(|k| k.split('.').next() == Some(system))
        .collect();
    if near.is_empty() {
        near = flags.flags.iter().map(|f| f.key.as_str()).collect();
    }
    sink.at(
        span,
        format!(
            "unknown flag `{key}`: not in the flag catalogue (known: {})",
            near.join(", ")
        ),
    );
}

fn humantime_opt<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests;
