//! The schedule file's tables as written, before any check: every field
//! spanned, so each error points at its value.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeam {
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    pub(super) zone: Spanned<String>,
    pub(super) pagerduty: Option<Spanned<String>>,
    pub(super) email: Option<Spanned<String>>,
    pub(super) slack: Option<Spanned<String>>,
    pub(super) discord: Option<Spanned<String>>,
}

/// The keys of a layer, shared by rotations and coverage windows.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRotation {
    pub(super) team: Spanned<String>,
    pub(super) role: Spanned<String>,
    pub(super) members: Spanned<Vec<Spanned<String>>>,
    pub(super) shift: Spanned<String>,
    pub(super) handoff: Spanned<toml::Value>,
    pub(super) zone: Spanned<String>,
    pub(super) start: Spanned<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverride {
    pub(super) team: Spanned<String>,
    pub(super) role: Spanned<String>,
    pub(super) person: Spanned<String>,
    pub(super) from: Spanned<toml::Value>,
    pub(super) until: Spanned<toml::Value>,
    /// The wall clock of `from` and `until` when they have no offset.
    pub(super) zone: Option<Spanned<String>>,
    pub(super) reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoverage {
    pub(super) team: Spanned<String>,
    pub(super) role: Spanned<String>,
    pub(super) from: Spanned<toml::Value>,
    pub(super) until: Spanned<toml::Value>,
    pub(super) zone: Option<Spanned<String>>,
    pub(super) description: Option<String>,
    pub(super) people: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) members: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) shift: Option<Spanned<String>>,
    pub(super) handoff: Option<Spanned<toml::Value>>,
    pub(super) start: Option<Spanned<toml::Value>>,
}
