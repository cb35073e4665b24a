//! Typed liveops configuration, shared by every binary.
//!
//! Files are TOML written by people. Loading goes raw → validated: each
//! section is deserialized into `deny_unknown_fields` structs (a misspelled
//! key is an error, never silently ignored), then checked and converted into
//! the types of [`model`], which cannot hold an invalid value. Every problem
//! in a file is reported at once as `file:line:col: message`.
//!
//! # Layout
//!
//! - [`model`]: the validated types the agent, collector and CLI use.
//! - [`flags`], [`mitigations`]: the flag catalogue and the mitigation
//!   bundles checked against it (the collector's [`Catalogue`]).
//! - `agent`, `collector`, `slo`, `notifier`: the raw sections of each file and their checks.
//! - `document`, `values`, [`error`]: splitting a document into sections,
//!   scalar checks (durations, addresses, URLs), and positioned errors.
//! - [`oncall`]: the on-call schedule (teams, people, rotations,
//!   overrides, coverage windows), resolved by `liveops-oncall`.
//! - [`overrides`]: values from flags and the environment, checked like
//!   the file's and reported by the flag's or variable's name.
//!
//! The shipped defaults (`config/agent.toml`, `config/collector.toml`) are
//! embedded, so `liveops demo` and a bare `liveops-collector` need no files.

mod agent;
pub mod chat;
mod collector;
pub mod comms;
mod document;
pub mod error;
pub mod flags;
mod http;
pub mod incidents;
pub mod mitigations;
pub mod model;
mod notifier;
mod notifier_names;
pub mod oncall;
pub mod overrides;
pub mod paging;
pub mod secret_file;
mod slo;
mod snapshots;
mod values;

use std::path::{Path, PathBuf};

pub use chat::{ChatConfig, ChatUser};
pub use error::{ConfigErrors, Diagnostic};
pub use incidents::{IncidentsConfig, SeverityRule};
pub use mitigations::{Catalogue, Mitigation, Mitigations};
pub use model::*;
pub use notifier::PAGERDUTY_URL;
pub use overrides::Overrides;

/// The shipped agent file (every key at its default, documented).
pub const DEFAULT_AGENT_TOML: &str = include_str!("../agent.toml");
/// The shipped collector file: the default SLO set, alerting and notifiers.
pub const DEFAULT_COLLECTOR_TOML: &str = include_str!("../collector.toml");
/// The shipped flag file: kill switches for the core systems.
pub const DEFAULT_FLAGS_TOML: &str = include_str!("../flags.toml");
/// The shipped mitigation bundles (freeze attacks, pause payments, …).
pub const DEFAULT_MITIGATIONS_TOML: &str = include_str!("../mitigations.toml");
/// The shipped on-call schedule: example teams, people and rotations.
pub const DEFAULT_ONCALL_TOML: &str = include_str!("../oncall.toml");
/// The shipped paging policy: routes, a policy per severity, inhibition.
pub const DEFAULT_PAGING_TOML: &str = include_str!("../paging.toml");

/// Parses an agent file's text; `file` names it in errors.
pub fn parse_agent(file: &str, text: &str) -> Result<AgentConfig, ConfigErrors> {
    agent::parse(file, text, &Overrides::new())
}

/// Parses a collector file's text; `file` names it in errors.
pub fn parse_collector(file: &str, text: &str) -> Result<CollectorConfig, ConfigErrors> {
    collector::parse(file, text, &Overrides::new())
}

pub fn load_agent(path: &Path) -> Result<AgentConfig, ConfigErrors> {
    let text = read(path)?;
    parse_agent(&path.display().to_string(), &text)
}

/// The agent's configuration as its command line gives it: the file named
/// by the `config` override (else the defaults) with every other override
/// checked like the file's own keys, all errors together. The report token
/// is the `token` override, else the content of `token_file`.
pub fn load_agent_with(overrides: &Overrides) -> Result<AgentConfig, ConfigErrors> {
    let mut cfg = match overrides.config() {
        Some((path, origin)) => {
            let text = read_named(&path, origin)
                .map_err(|e| also(e, agent::parse("<defaults>", "", overrides)))?;
            agent::parse(&path.display().to_string(), &text, overrides)?
        }
        None => agent::parse("<defaults>", "", overrides)?,
    };
    if cfg.token.is_none()
        && let Some(path) = &cfg.token_file
    {
        let t = std::fs::read_to_string(path)
            .map_err(|e| whole_file(path, format!("cannot read token_file: {e}")))?;
        cfg.token = Some(Secret(t.trim().to_owned()));
    }
    Ok(cfg)
}

/// The collector's configuration as its command line gives it: the file
/// named by the `config` override (else the shipped one), overrides
/// checked like the file's keys, relative catalogue paths resolved as in
/// [`load_collector`].
pub fn load_collector_with(overrides: &Overrides) -> Result<CollectorConfig, ConfigErrors> {
    match overrides.config() {
        Some((path, origin)) => {
            let text = read_named(&path, origin).map_err(|e| {
                let defaults = ("<embedded collector.toml>", DEFAULT_COLLECTOR_TOML);
                also(e, collector::parse(defaults.0, defaults.1, overrides))
            })?;
            let cfg = collector::parse(&path.display().to_string(), &text, overrides)?;
            Ok(relative_to(&path, cfg))
        }
        None => collector::parse(
            "<embedded collector.toml>",
            DEFAULT_COLLECTOR_TOML,
            overrides,
        ),
    }
}

pub fn load_flags(path: &Path) -> Result<flags::FlagSet, ConfigErrors> {
    let text = read(path)?;
    flags::parse(&path.display().to_string(), &text)
}

/// Loads a collector file. Its `flags`, `mitigations` (and other file) paths, when
/// relative, are taken from the file's directory, so a config directory
/// can be moved whole.
pub fn load_collector(path: &Path) -> Result<CollectorConfig, ConfigErrors> {
    let text = read(path)?;
    let cfg = parse_collector(&path.display().to_string(), &text)?;
    Ok(relative_to(path, cfg))
}

fn relative_to(path: &Path, mut cfg: CollectorConfig) -> CollectorConfig {
    let base = path.parent().unwrap_or(Path::new(""));
    for file in [
        &mut cfg.flags_file,
        &mut cfg.mitigations_file,
        &mut cfg.oncall_file,
        &mut cfg.paging_file,
        &mut cfg.comms.templates,
        &mut cfg.comms.discord_webhook_file,
        &mut cfg.comms.forum_webhook_file,
        &mut cfg.chat.slack_signing_secret_file,
    ]
    .into_iter()
    .flatten()
    {
        if file.is_relative() {
            *file = base.join(&*file);
        }
    }
    cfg
}

/// Parses an on-call schedule's text; `file` names it in errors.
pub fn parse_oncall(file: &str, text: &str) -> Result<OncallConfig, ConfigErrors> {
    oncall::parse(file, text)
}

pub fn load_oncall(path: &Path) -> Result<OncallConfig, ConfigErrors> {
    let text = read(path)?;
    parse_oncall(&path.display().to_string(), &text)
}

/// The collector's on-call schedule: its `oncall` file, else the shipped one.
pub fn load_collector_oncall(cfg: &CollectorConfig) -> Result<OncallConfig, ConfigErrors> {
    match &cfg.oncall_file {
        Some(path) => load_oncall(path),
        None => parse_oncall("<embedded oncall.toml>", DEFAULT_ONCALL_TOML),
    }
}

/// Parses a mitigations file's text against a flag catalogue.
pub fn parse_mitigations(
    file: &str,
    text: &str,
    flags: &flags::FlagSet,
) -> Result<Mitigations, ConfigErrors> {
    mitigations::parse(file, text, flags)
}

/// Parses a paging policy's text; channel names are checked against
/// `channels` (the collector's notifiers) and, when given, team names
/// against `teams` (the on-call schedule's).
pub fn parse_paging(
    file: &str,
    text: &str,
    channels: &[&str],
    schedule: Option<paging::ScheduleNames<'_>>,
) -> Result<paging::Paging, ConfigErrors> {
    paging::parse(file, text, Some(channels), schedule)
}

/// Loads the paging policy the collector config names, if it names one.
pub fn load_paging(
    cfg: &CollectorConfig,
    schedule: Option<paging::ScheduleNames<'_>>,
) -> Result<Option<paging::Paging>, ConfigErrors> {
    let Some(path) = &cfg.paging_file else {
        return Ok(None);
    };
    let names: Vec<String> = cfg.notifiers.iter().map(NotifierConfig::name).collect();
    let channels: Vec<&str> = names.iter().map(String::as_str).collect();
    let text = read(path)?;
    parse_paging(&path.display().to_string(), &text, &channels, schedule).map(Some)
}

/// Loads the collector's flag catalogue and mitigation bundles (the
/// shipped ones when the config names no file), each validated.
pub fn load_catalogue(cfg: &CollectorConfig) -> Result<Catalogue, ConfigErrors> {
    let flags = match &cfg.flags_file {
        Some(path) => load_flags(path)?,
        None => flags::parse("<embedded flags.toml>", DEFAULT_FLAGS_TOML)?,
    };
    let mitigations = match &cfg.mitigations_file {
        Some(path) => parse_mitigations(&path.display().to_string(), &read(path)?, &flags)?,
        None => parse_mitigations(
            "<embedded mitigations.toml>",
            DEFAULT_MITIGATIONS_TOML,
            &flags,
        )?,
    };
    Ok(Catalogue { flags, mitigations })
}

/// The agent settings used when no file is given.
pub fn default_agent() -> AgentConfig {
    agent::defaults()
}

/// The collector settings used when no file is given: the shipped file.
pub fn default_collector() -> CollectorConfig {
    parse_collector("<embedded collector.toml>", DEFAULT_COLLECTOR_TOML)
        .expect("the shipped collector.toml is valid (checked by a test)")
}

/// What a file configures, told from its top-level sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Agent,
    Collector,
    Flags,
    Mitigations,
    Oncall,
    Paging,
}

/// The outcome of checking one file.
#[derive(Debug)]
pub struct Checked {
    pub path: PathBuf,
    pub result: Result<Kind, ConfigErrors>,
}

/// Checks a file, or every `*.toml` file in a directory (sorted, not recursive).
pub fn check_path(path: &Path) -> Vec<Checked> {
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                // `config/` is also the home of this crate: its manifest is
                // not a liveops config.
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                .filter(|p| p.file_name().is_none_or(|n| n != "Cargo.toml"))
                .collect(),
            Err(e) => {
                return vec![Checked {
                    path: path.to_owned(),
                    result: Err(whole_file(path, format!("cannot read directory: {e}"))),
                }];
            }
        };
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    files
        .into_iter()
        .map(|p| Checked {
            result: check_file(&p),
            path: p,
        })
        .collect()
}

fn check_file(path: &Path) -> Result<Kind, ConfigErrors> {
    let text = read(path)?;
    let name = path.display().to_string();
    match detect(&text) {
        Some(Kind::Agent) => parse_agent(&name, &text).map(|_| Kind::Agent),
        // The collector reads its catalogue at start: a broken one named
        // here fails the check, not the next deploy.
        Some(Kind::Collector) => load_collector(path)
            .and_then(|cfg| {
                let oncall = load_collector_oncall(&cfg);
                let names: Option<(Vec<String>, Vec<String>)> = oncall.as_ref().ok().map(|o| {
                    (
                        o.teams.iter().map(|t| t.name.clone()).collect(),
                        o.people.iter().map(|p| p.name.clone()).collect(),
                    )
                });
                let paging = load_paging(
                    &cfg,
                    names.as_ref().map(|(teams, people)| paging::ScheduleNames { teams, people }),
                );
                match (load_catalogue(&cfg), oncall, paging) {
                    (Ok(_), Ok(_), Ok(_)) => Ok(Kind::Collector),
                    (Err(e), oncall, paging) => Err(also(also(e, oncall), paging)),
                    (Ok(_), Err(e), paging) => Err(also(e, paging)),
                    (Ok(_), Ok(_), Err(e)) => Err(e),
                }
            }),
        Some(Kind::Oncall) => parse_oncall(&name, &text).map(|_| Kind::Oncall),
        Some(Kind::Flags) => flags::parse(&name, &text).map(|_| Kind::Flags),
        Some(Kind::Mitigations) => {
            // Checked against the flag file beside it (as deployed), or the
            // shipped one; a flag file with errors still lends its valid
            // flags, and reports its own errors when it is checked.
            let sibling = path.with_file_name("flags.toml");
            let flag_set = match std::fs::read_to_string(&sibling) {
                Ok(t) => flags::parse_partial(&sibling.display().to_string(), &t).0,
                Err(_) => flags::parse("<embedded flags.toml>", DEFAULT_FLAGS_TOML)?,
            };
            parse_mitigations(&name, &text, &flag_set).map(|_| Kind::Mitigations)
        }
        // Alone, its channels cannot be checked: the collector file that
        // names it does that (above).
        Some(Kind::Paging) => paging::parse(&name, &text, None, None).map(|_| Kind::Paging),
        None => Err(whole_file(
            path,
            "cannot tell what this file configures: expected an agent file ([agent], [health], …), a collector file ([collector], [slo.NAME], …), a flag file ([flag.\"KEY\"]), a mitigations file ([mitigation.\"NAME\"]) an on-call schedule ([team.NAME], [rotation.NAME], …) or a paging policy ([[route]], [policy.SEVn])".into(),
        )),
    }
}

fn detect(text: &str) -> Option<Kind> {
    // A file that does not parse is still classified by its section headers so
    // that its syntax errors get reported by the right parser.
    let table: Option<toml::Table> = text.parse().ok();
    let has = |key: &str| match &table {
        // `[http]` is in both the agent's and the collector's files.
        _ if key == http::SECTION => false,
        Some(t) => t.contains_key(key),
        None => text.lines().any(|l| {
            let l = l.trim_start().trim_start_matches('[');
            l.starts_with(key) && l[key.len()..].starts_with([']', '.'])
        }),
    };
    if flags::SECTIONS.iter().any(|s| has(s)) {
        Some(Kind::Flags)
    } else if mitigations::SECTIONS.iter().any(|s| has(s)) {
        Some(Kind::Mitigations)
    } else if oncall::SECTIONS.iter().any(|s| has(s)) {
        Some(Kind::Oncall)
    } else if agent::SECTIONS.iter().any(|s| has(s)) {
        Some(Kind::Agent)
    } else if collector::SECTIONS.iter().any(|s| has(s)) {
        Some(Kind::Collector)
    } else if paging::SECTIONS.iter().any(|s| has(s)) {
        Some(Kind::Paging)
    } else {
        None
    }
}

fn read(path: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| whole_file(path, format!("cannot read: {e}")))
}

/// `first` and the errors of `then`: an unreadable file does not hide a
/// bad flag beside it.
fn also<T>(mut first: ConfigErrors, then: Result<T, ConfigErrors>) -> ConfigErrors {
    if let Err(more) = then {
        first.0.extend(more.0);
    }
    first
}

/// As [`read`], saying which flag or variable named the file.
fn read_named(path: &Path, origin: &str) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path)
        .map_err(|e| whole_file(path, format!("cannot read (named by {origin}): {e}")))
}

fn whole_file(path: &Path, message: String) -> ConfigErrors {
    ConfigErrors(vec![Diagnostic {
        file: path.display().to_string(),
        position: None,
        message,
    }])
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
