//! `/incident …` text into a typed command, the same for Slack and
//! Discord. Pure; what is wrong comes back as the message to show.
//!
//! The incident id is required by every command that changes something
//! (`INC-7` or `7`): a note that starts with a number must never land on
//! the wrong incident. Only `timeline` may leave it out, for the newest
//! active incident.

use crate::incident::model::parse_id;
use crate::incident::{NoteKind, Sev, State};

/// Which incident a command is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Id(u64),
    /// The newest incident still active.
    Newest,
}

/// Where a mitigation applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Where {
    World(String),
    Fleet,
    /// Not said: the world of the newest active incident, when it has
    /// exactly one.
    Incident,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    /// `status` alone: the active incidents.
    Active,
    Timeline(Target),
    Note {
        id: u64,
        kind: NoteKind,
        text: String,
    },
    Status {
        id: u64,
        to: State,
        note: String,
    },
    Sev {
        id: u64,
        sev: Sev,
        reason: String,
    },
    Mitigate {
        name: String,
        scope: Where,
        reason: String,
    },
}

impl Command {
    /// Whether it changes anything (and so needs a mapped person with
    /// role `responder`).
    pub fn changes(&self) -> bool {
        !matches!(self, Command::Help | Command::Active | Command::Timeline(_))
    }
}

pub const USAGE: &str = "\
/incident note ID TEXT · decision ID TEXT · link ID URL [TEXT]
/incident status ID STATE [NOTE] (triage, investigating, identified, mitigated, resolved, closed, cancelled)
/incident sev ID SEV1..SEV4 REASON
/incident mitigate NAME [world W | fleet] REASON
/incident timeline [ID] · status (the active incidents) · help
ID is INC-7 or 7.";

/// The first word and the rest (trimmed at its start).
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.split_once(char::is_whitespace) {
        Some((w, rest)) => (w, rest.trim_start()),
        None => (s, ""),
    }
}

fn id(w: &str, verb: &str) -> Result<u64, String> {
    if w.is_empty() {
        return Err(format!(
            "`{verb}` needs an incident id, like INC-7\n{USAGE}"
        ));
    }
    parse_id(w).ok_or_else(|| format!("`{w}` is not an incident id: ids look like INC-7"))
}

fn needed<'a>(rest: &'a str, what: &str, verb: &str) -> Result<&'a str, String> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(format!("`{verb}` needs {what}\n{USAGE}"));
    }
    Ok(rest)
}

/// The link a text starts with, and the rest. Slack may send a link as
/// `<https://…>` or `<https://…|label with spaces>` (the label is dropped).
fn split_link(text: &str) -> (&str, &str) {
    match text.strip_prefix('<').and_then(|t| t.split_once('>')) {
        Some((inner, rest)) => (inner.split('|').next().unwrap_or(inner), rest.trim_start()),
        None => word(text),
    }
}

fn link(url: &str) -> Option<String> {
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    (!host.is_empty()).then(|| url.to_owned())
}

/// Parses the text after `/incident` (a leading `incident` is skipped, so
/// a whole command line parses too).
pub fn parse(text: &str) -> Result<Command, String> {
    let (mut verb, mut rest) = word(text);
    if verb == "incident" || verb == "/incident" {
        (verb, rest) = word(rest);
    }
    let verb_lower = verb.to_ascii_lowercase();
    match verb_lower.as_str() {
        "" | "help" => Ok(Command::Help),
        "timeline" => match word(rest).0 {
            "" => Ok(Command::Timeline(Target::Newest)),
            w => Ok(Command::Timeline(Target::Id(id(w, verb)?))),
        },
        "note" | "decision" | "link" => {
            let (w, text) = word(rest);
            let id = id(w, verb)?;
            let kind = match verb_lower.as_str() {
                "note" => NoteKind::Observation,
                "decision" => NoteKind::Decision,
                _ => NoteKind::Link,
            };
            let text = needed(text, "some text", verb)?;
            let text = if kind == NoteKind::Link {
                let (url, label) = split_link(text);
                let url = link(url)
                    .ok_or_else(|| format!("`{url}` is not an http:// or https:// link"))?;
                format!("{url} {label}").trim_end().to_owned()
            } else {
                text.to_owned()
            };
            Ok(Command::Note { id, kind, text })
        }
        "status" => {
            let (w, rest) = word(rest);
            if w.is_empty() {
                return Ok(Command::Active);
            }
            let id = id(w, verb)?;
            let (state, note) = word(rest);
            let state = needed(state, "a state", verb)?;
            let to = State::parse(&state.to_ascii_lowercase()).ok_or_else(|| {
                let all: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown state `{state}`: one of {}", all.join(", "))
            })?;
            Ok(Command::Status {
                id,
                to,
                note: note.trim().to_owned(),
            })
        }
        "sev" | "severity" => {
            let (w, rest) = word(rest);
            let id = id(w, verb)?;
            let (sev, reason) = word(rest);
            let sev = needed(sev, "a severity (SEV1 to SEV4) and a reason", verb)?;
            let sev =
                Sev::parse(sev).ok_or_else(|| format!("unknown severity `{sev}`: SEV1 to SEV4"))?;
            let reason = needed(reason, "a reason", verb)?.to_owned();
            Ok(Command::Sev { id, sev, reason })
        }
        "mitigate" => {
            let (name, rest) = word(rest);
            let name = needed(name, "a mitigation name", verb)?.to_owned();
            let (w, after) = word(rest);
            let (scope, reason) = match w {
                "world" => {
                    let (world, reason) = word(after);
                    let world = needed(world, "a world after `world`", verb)?;
                    liveops_protocol::name::check(world, "world")?;
                    (Where::World(world.to_owned()), reason)
                }
                "fleet" => (Where::Fleet, after),
                _ => (Where::Incident, rest),
            };
            let reason = needed(reason, "a reason", verb)?.to_owned();
            Ok(Command::Mitigate {
                name,
                scope,
                reason,
            })
        }
        _ => Err(format!("unknown command `{verb}`\n{USAGE}")),
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
