//! The paging file as written, before any check.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

type Labels = Option<BTreeMap<String, Spanned<String>>>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPaging {
    pub flap_window: Option<Spanned<String>>,
    pub default_team: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    #[serde(rename = "match")]
    pub matches: Labels,
    pub match_re: Labels,
    pub team: Option<Spanned<String>>,
    pub severity: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaultRoute {
    pub team: Option<Spanned<String>>,
    pub severity: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub repeat: Option<u32>,
    pub working_hours: Option<bool>,
    /// `"hold"` or a channel name.
    pub outside_hours: Option<Spanned<String>>,
    pub step: Option<Vec<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub notify: Spanned<Vec<Spanned<RawTarget>>>,
    pub channels: Spanned<Vec<Spanned<String>>>,
    pub ack_deadline: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub team: Option<Spanned<String>>,
    pub role: Option<Spanned<String>>,
    pub person: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHours {
    pub zone: Spanned<String>,
    pub days: Spanned<Vec<Spanned<String>>>,
    pub from: Spanned<String>,
    pub until: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInhibit {
    pub source_match: Labels,
    pub source_match_re: Labels,
    pub target_match: Labels,
    pub target_match_re: Labels,
    pub equal: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaintenance {
    #[serde(rename = "match")]
    pub matches: Labels,
    pub match_re: Labels,
    pub from: Spanned<String>,
    pub until: Spanned<String>,
    pub reason: Option<Spanned<String>>,
}
