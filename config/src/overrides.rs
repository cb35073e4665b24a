//! Settings given on the command line or in the environment.
//!
//! A binary hands them to loading ([`crate::load_agent_with`],
//! [`crate::load_collector_with`]) instead of patching the validated
//! config afterwards, so that each value goes through exactly the check
//! the same key gets in a file, cross-field checks see the value in force,
//! and a bad flag is reported together with the file's errors, naming the
//! flag or variable (`--world: world `eu 1` must be …`).
//!
//! Keys are the names the binaries give their flags, which are the file's
//! key names (`world`, `statsd_udp`, `data_dir`, `listen`, …), plus
//! `flags` (the agent's `[flags] file`), `token` (the agent's report
//! token, never in a file), `agent_token` (one more token the collector
//! accepts) and `config` (the file itself).

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

/// Spans from here on name an override, not a position in the text: a
/// value from a flag goes through the same checks as a file's value (they
/// all take a `Spanned`), and the sink tells its origin by the span.
pub(crate) const ORIGIN_SPANS: usize = usize::MAX / 2;

/// One setting from outside the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub key: String,
    /// What set it, as an operator would write it: `--world` or `LIVEOPS_COLLECTOR`.
    pub origin: String,
    pub value: String,
}

/// Settings from flags and the environment, applied over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    items: Vec<Override>,
}

impl Overrides {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key`; a later setting of the same key wins.
    pub fn set(&mut self, key: &str, origin: impl Into<String>, value: impl Into<String>) {
        self.items.push(Override {
            key: key.to_owned(),
            origin: origin.into(),
            value: value.into(),
        });
    }

    pub fn items(&self) -> &[Override] {
        &self.items
    }

    /// Every value clap was given, keyed by its argument's name, with what
    /// gave it (`--world`, or `LIVEOPS_COLLECTOR`) for the error messages.
    /// Arguments are plain strings: the checks are this crate's.
    #[cfg(feature = "clap")]
    pub fn from_clap(cmd: &clap::Command, matches: &clap::ArgMatches) -> Overrides {
        use clap::parser::ValueSource;
        let mut o = Overrides::new();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            let origin = match matches.value_source(id) {
                Some(ValueSource::CommandLine) => format!("--{}", arg.get_long().unwrap_or(id)),
                Some(ValueSource::EnvVariable) => arg
                    .get_env()
                    .map_or(id.to_owned(), |e| e.to_string_lossy().into_owned()),
                _ => continue,
            };
            if let Ok(Some(v)) = matches.try_get_one::<String>(id) {
                o.set(id, origin, v);
            }
        }
        o
    }

    /// The config file to read, and what named it.
    pub(crate) fn config(&self) -> Option<(PathBuf, &str)> {
        self.last("config")
            .map(|(_, o)| (PathBuf::from(&o.value), o.origin.as_str()))
    }

    /// `key`'s value, spanned so that errors about it name its origin.
    pub(crate) fn get(&self, key: &str) -> Option<Spanned<String>> {
        self.last(key)
            .map(|(i, o)| Spanned::new(origin_span(i), o.value.clone()))
    }

    pub(crate) fn path(&self, key: &str) -> Option<PathBuf> {
        self.last(key).map(|(_, o)| PathBuf::from(&o.value))
    }

    /// The origin of the override a span from [`Overrides::get`] names.
    pub(crate) fn origin_of(&self, span: &Range<usize>) -> Option<&str> {
        let i = span.start.checked_sub(ORIGIN_SPANS)?;
        self.items.get(i).map(|o| o.origin.as_str())
    }

    /// Overrides whose key is not one of `known`, with their span.
    pub(crate) fn unknown<'a>(
        &'a self,
        known: &'a [&str],
    ) -> impl Iterator<Item = (Range<usize>, &'a str)> + 'a {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, o)| o.key != "config" && !known.contains(&o.key.as_str()))
            .map(|(i, o)| (origin_span(i), o.key.as_str()))
    }

    fn last(&self, key: &str) -> Option<(usize, &Override)> {
        self.items
            .iter()
            .enumerate()
            .rev()
            .find(|(_, o)| o.key == key)
    }
}

fn origin_span(i: usize) -> Range<usize> {
    ORIGIN_SPANS + i..ORIGIN_SPANS + i
}

#[cfg(test)]
mod tests;
