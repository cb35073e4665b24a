//! Comms templates: `CHANNEL.STATE.SEV.j2` wins over `CHANNEL.STATE.j2`,
//! then `CHANNEL.j2` (so one file per channel is enough, and a SEV1 banner
//! can say more). Each defines the blocks of its channel (`channel.rs`);
//! the email's `html` block is rendered HTML-escaped. Variables are strict:
//! a misspelt one is an error, caught by `liveops check-config`, never a
//! blank in front of players.

use std::collections::BTreeSet;
use std::path::Path;

use liveops_config::comms::{CommsConfig, DEFAULT_TEMPLATES};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

use super::channel::{Channel, CommsState, Message};
use super::context::{context, sample};
use crate::incident::Sev;

/// A template file larger than this is refused unread.
const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;
/// The suffix of the HTML-escaping copy of a template.
const HTML: &str = "#html";

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CommsError {
    /// `file:line: what`, as the template engine found it.
    #[error("{0}")]
    Template(String),
    #[error("{file}: {why}")]
    File { file: String, why: String },
    #[error("no {channel} template (add {channel}.j2 to {dir})")]
    Missing { channel: &'static str, dir: String },
    #[error("{file}: the {part} is {len} characters; {channel} takes at most {max}")]
    TooLong {
        file: String,
        part: &'static str,
        channel: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{file}: the {channel} message does not carry the incident link ({{{{ link }}}})")]
    NoLink { file: String, channel: &'static str },
}

pub struct Templates {
    env: Environment<'static>,
    names: BTreeSet<String>,
    /// Where they came from, for errors.
    dir: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(HTML) {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_trim_blocks(true);
    env
}

/// Whether `name` is `CHANNEL[.STATE[.SEV]].j2`.
fn valid_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".j2") else {
        return false;
    };
    let mut p = stem.split('.');
    let channel = p.next().and_then(Channel::parse).is_some();
    let state = p.next().is_none_or(|s| CommsState::parse(s).is_some());
    let sev = p
        .next()
        .is_none_or(|s| Sev::parse(s).is_some_and(|v| v.as_str() == s));
    channel && state && sev && p.next().is_none()
}

impl Templates {
    /// The shipped templates (`config/comms/`).
    pub fn shipped() -> Templates {
        let files = DEFAULT_TEMPLATES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()));
        Templates::build("<shipped config/comms>", files).expect("the shipped templates parse")
    }

    /// `[comms] templates`, or the shipped ones.
    pub fn from_config(cfg: &CommsConfig) -> Result<Templates, Vec<CommsError>> {
        match &cfg.templates {
            Some(dir) => Templates::load(dir),
            None => Ok(Templates::shipped()),
        }
    }

    /// Every `*.j2` in `dir`.
    pub fn load(dir: &Path) -> Result<Templates, Vec<CommsError>> {
        let shown = dir.display().to_string();
        let err = |why: String| {
            vec![CommsError::File {
                file: shown.clone(),
                why,
            }]
        };
        let entries = std::fs::read_dir(dir).map_err(|e| err(e.to_string()))?;
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".j2") {
                continue;
            }
            let file = format!("{shown}/{name}");
            let bad = |why: &str| CommsError::File {
                file: file.clone(),
                why: why.to_owned(),
            };
            if !valid_name(&name) {
                errors.push(bad("not a template name: CHANNEL.j2, CHANNEL.STATE.j2 or CHANNEL.STATE.SEV.j2 (channels banner, discord, forum, email, status; states investigating, identified, monitoring, resolved; SEV1–SEV4)"));
                continue;
            }
            // A FIFO or a device would block or never end: regular files only.
            match std::fs::metadata(entry.path()) {
                Ok(m) if !m.is_file() => errors.push(bad("not a regular file")),
                Ok(m) if m.len() > MAX_TEMPLATE_BYTES => errors.push(bad("larger than 64 KiB")),
                Ok(_) => match std::fs::read_to_string(entry.path()) {
                    Ok(text) => files.push((name, text)),
                    Err(e) => errors.push(bad(&e.to_string())),
                },
                Err(e) => errors.push(bad(&e.to_string())),
            }
        }
        match Templates::build(&shown, files) {
            Ok(t) if errors.is_empty() => Ok(t),
            Ok(_) => Err(errors),
            Err(mut more) => {
                errors.append(&mut more);
                Err(errors)
            }
        }
    }

    fn build(
        dir: &str,
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Templates, Vec<CommsError>> {
        let mut env = environment();
        let mut names = BTreeSet::new();
        let mut errors = Vec::new();
        for (name, text) in files {
            if name.starts_with("email.") {
                // Parsed twice: once plain (subject, text), once escaping (html).
                let _ = env.add_template_owned(format!("{name}{HTML}"), text.clone());
            }
            match env.add_template_owned(name.clone(), text) {
                Ok(()) => {
                    names.insert(name);
                }
                Err(e) => errors.push(positioned(dir, &e)),
            }
        }
        let t = Templates {
            env,
            names,
            dir: dir.to_owned(),
        };
        if errors.is_empty() {
            Ok(t)
        } else {
            Err(errors)
        }
    }

    /// The template that speaks for `channel` in `state` at `sev`.
    fn pick(&self, channel: Channel, state: CommsState, sev: Sev) -> Option<&str> {
        let c = channel.as_str();
        let s = state.as_str();
        [
            format!("{c}.{s}.{sev}.j2"),
            format!("{c}.{s}.j2"),
            format!("{c}.j2"),
        ]
        .into_iter()
        .find_map(|n| self.names.get(&n).map(String::as_str))
    }

    /// Renders `channel`'s message from `ctx` (see `context.rs`).
    pub fn render(
        &self,
        channel: Channel,
        state: CommsState,
        sev: Sev,
        ctx: &Value,
    ) -> Result<Message, CommsError> {
        let name = self.pick(channel, state, sev).ok_or(CommsError::Missing {
            channel: channel.as_str(),
            dir: self.dir.clone(),
        })?;
        let file = format!("{}/{name}", self.dir);
        let mut parts = Vec::new();
        for (part, max) in channel.parts() {
            let source = if *part == "html" {
                format!("{name}{HTML}")
            } else {
                name.to_owned()
            };
            let tmpl = self
                .env
                .get_template(&source)
                .map_err(|e| positioned(&self.dir, &e))?;
            let text = tmpl
                .render_captured(ctx)
                .and_then(|mut c| c.with_state_mut(|st| st.render_block(part)))
                .map_err(|e| positioned(&self.dir, &e))?;
            let text = text.trim().to_owned();
            let len = text.chars().count();
            if len > *max {
                return Err(CommsError::TooLong {
                    file,
                    part,
                    channel: channel.as_str(),
                    len,
                    max: *max,
                });
            }
            parts.push(((*part).to_owned(), text));
        }
        let link = ctx["link"].as_str().unwrap_or_default().to_owned();
        if link.is_empty() || !parts.iter().any(|(_, t)| t.contains(&link)) {
            return Err(CommsError::NoLink {
                file,
                channel: channel.as_str(),
            });
        }
        Ok(Message {
            channel,
            state,
            template: name.to_owned(),
            parts,
            link,
        })
    }

    /// Renders every channel in every state at every severity against a
    /// sample incident: every error, once each.
    pub fn check(&self) -> Vec<CommsError> {
        let inc = sample();
        let mut errors = Vec::new();
        for channel in Channel::ALL {
            for state in CommsState::ALL {
                let ctx = context(
                    &inc,
                    state,
                    "https://status.example/status/incidents/1",
                    "the game",
                    "",
                    0,
                );
                for sev in Sev::ALL {
                    if let Err(e) = self.render(channel, state, sev, &ctx)
                        && !errors.contains(&e)
                    {
                        errors.push(e);
                    }
                }
            }
        }
        errors
    }
}

/// `dir/file.j2:LINE: what went wrong`.
fn positioned(dir: &str, e: &minijinja::Error) -> CommsError {
    let name = e.name().unwrap_or("?").trim_end_matches(HTML);
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    let what = e
        .detail()
        .map_or_else(|| e.kind().to_string(), |d| format!("{}: {d}", e.kind()));
    CommsError::Template(format!("{dir}/{name}{line}: {what}"))
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
