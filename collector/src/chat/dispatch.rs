//! Runs a parsed command for a chat user, through the same paths as the
//! HTTP API: incident changes through the audited `Incidents::change`,
//! mitigations through `Overrides::mitigate`, signed with the person the
//! chat user is mapped to.

use std::sync::Arc;

use liveops_config::Role;
use liveops_flags::Scope;

use super::command::{Command, Target, Where};
use crate::CollectorError;
use crate::auth::Caller;
use crate::incident::model::{Entry, Incident};
use crate::incident::postmortem::describe as what;
use crate::incident::service::{Change, ChangeError};
use crate::incident::{NoteKind, Sev, State};
use crate::overrides::{Actor, OverrideError, Why};
use crate::state::Shared;

/// Entries `timeline` shows, newest last.
const TIMELINE_ENTRIES: usize = 10;

/// What the chat user is told; `public` answers go to the whole channel.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub public: bool,
    pub text: String,
}

impl Reply {
    pub fn private(text: impl Into<String>) -> Reply {
        Reply {
            public: false,
            text: text.into(),
        }
    }

    fn public(text: impl Into<String>) -> Reply {
        Reply {
            public: true,
            text: text.into(),
        }
    }
}

/// Runs `cmd` for `who` (`None`: a chat user not mapped to a person).
pub async fn run(s: Arc<Shared>, who: Option<Caller>, cmd: Command) -> Reply {
    if !cmd.changes() {
        return read(&s, cmd);
    }
    let caller = match who {
        Some(c) if c.role.allows(Role::Responder) => c,
        Some(c) => {
            return Reply::private(format!(
                "{} has role `{}`: changes need `responder`. Nothing changed.",
                c.name,
                c.role.as_str()
            ));
        }
        None => {
            return Reply::private(
                "you are not mapped to a liveops person ([[chat.user]] in the collector's config): you may read (`timeline`, `status`), not change. Nothing changed.",
            );
        }
    };
    let op = match cmd {
        Command::Mitigate {
            name,
            scope,
            reason,
        } => return mitigate(s, caller, name, scope, reason).await,
        Command::Note { id, kind, text } => (id, Op::Note(kind, text)),
        Command::Status { id, to, note } => (id, Op::Status(to, note)),
        Command::Sev { id, sev, reason } => (id, Op::Sev(sev, reason)),
        Command::Help | Command::Active | Command::Timeline(_) => return read(&s, cmd),
    };
    incident_change(s, caller, op).await
}

/// The changes of one incident a chat user can make.
enum Op {
    Note(NoteKind, String),
    Status(State, String),
    Sev(Sev, String),
}

fn read(s: &Shared, cmd: Command) -> Reply {
    match cmd {
        Command::Active => Reply::private(active(s)),
        Command::Timeline(t) => match target(s, t) {
            Ok(id) => Reply::private(
                s.incidents
                    .read(|b| b.get(id).map(timeline))
                    .unwrap_or_else(|| format!("no incident INC-{id}")),
            ),
            Err(e) => Reply::private(e),
        },
        _ => Reply::private(super::command::USAGE),
    }
}

fn target(s: &Shared, t: Target) -> Result<u64, String> {
    match t {
        Target::Id(id) => Ok(id),
        Target::Newest => s
            .incidents
            .read(|b| b.list().find(|i| i.state.is_active()).map(|i| i.id))
            .ok_or_else(|| "no active incident; give an id, like INC-7".to_owned()),
    }
}

fn active(s: &Shared) -> String {
    let lines: Vec<String> = s.incidents.read(|b| {
        b.list()
            .filter(|i| i.state.is_active())
            .take(TIMELINE_ENTRIES)
            .map(|i| {
                format!(
                    "{} {} {}: {}",
                    i.name(),
                    i.severity.current(),
                    i.state.as_str(),
                    i.title
                )
            })
            .collect()
    });
    if lines.is_empty() {
        "no active incident".into()
    } else {
        lines.join("\n")
    }
}

fn timeline(i: &Incident) -> String {
    let mut out = format!(
        "{} {} {}: {}",
        i.name(),
        i.severity.current(),
        i.state.as_str(),
        i.title
    );
    let skip = i.timeline.len().saturating_sub(TIMELINE_ENTRIES);
    for e in &i.timeline[skip..] {
        let at = liveops_protocol::time::rfc3339_seconds(e.at_ms);
        out.push_str(&format!("\n{at} {} — {}", e.by, what(e)));
        if !e.text.is_empty() {
            out.push_str(": ");
            out.push_str(&e.text);
        }
    }
    out
}

/// What a refused change is told: the book's own words, or a failure of
/// the collector's without its internals.
fn refusal(e: ChangeError) -> String {
    match e {
        ChangeError::Refused(e) => format!("{e}. Nothing changed."),
        ChangeError::Collector(e) => collector_failure(e),
    }
}

fn collector_failure(e: CollectorError) -> String {
    match e {
        CollectorError::AuditBroken(_) => {
            format!("{e}; changes are refused until it is fixed. Nothing changed.")
        }
        e => {
            tracing::error!(error = %e, "chat command failed");
            "the collector could not do this (see its log). Nothing changed.".into()
        }
    }
}

async fn incident_change(s: Arc<Shared>, caller: Caller, (id, op): (u64, Op)) -> Reply {
    let by = caller.clone();
    let done = tokio::task::spawn_blocking(move || {
        let (what, reason) = match &op {
            Op::Note(_, text) => ("note", text.as_str()),
            Op::Status(_, note) => ("status", note.as_str()),
            Op::Sev(_, reason) => ("severity", reason.as_str()),
        };
        let c = Change {
            by: &by,
            what,
            reason,
        };
        let now = liveops_protocol::time::now_ms();
        let name = by.name.as_str();
        s.incidents.change(&s.events, &c, Some(id), |b| {
            match &op {
                Op::Note(kind, text) => b.note(id, *kind, text, name, now),
                Op::Status(to, note) => b.status(id, *to, note, name, now),
                Op::Sev(sev, reason) => b.set_severity(id, *sev, reason, name, now),
            }
            .map(|i| i.id)
        })
    })
    .await;
    match done {
        Ok(Ok(inc)) => {
            let last = inc.timeline.last().map(what_said).unwrap_or_default();
            Reply::public(format!("{} {}: {last}", inc.name(), caller.name))
        }
        Ok(Err(e)) => Reply::private(refusal(e)),
        Err(e) => Reply::private(collector_failure(CollectorError::Task(
            "chat",
            e.to_string(),
        ))),
    }
}

fn what_said(e: &Entry) -> String {
    if e.text.is_empty() {
        what(e)
    } else {
        format!("{}: {}", what(e), e.text)
    }
}

async fn mitigate(
    s: Arc<Shared>,
    caller: Caller,
    name: String,
    scope: Where,
    reason: String,
) -> Reply {
    let scope = match scope {
        Where::World(w) => Scope::World(w),
        Where::Fleet => Scope::Fleet,
        Where::Incident => {
            let newest = s.incidents.read(|b| {
                b.list()
                    .find(|i| i.state.is_active())
                    .map(|i| (i.name(), i.worlds.iter().cloned().collect::<Vec<_>>()))
            });
            match newest {
                Some((_, worlds)) if worlds.len() == 1 => Scope::World(worlds[0].clone()),
                Some((inc, worlds)) => {
                    return Reply::private(format!(
                        "{inc} has {} worlds: say `world W` or `fleet`. Nothing changed.",
                        worlds.len()
                    ));
                }
                None => {
                    return Reply::private(
                        "no active incident to take the world from: say `world W` or `fleet`. Nothing changed.",
                    );
                }
            }
        }
    };
    let shared = s.clone();
    let by = caller.clone();
    let done = tokio::task::spawn_blocking(move || {
        let why = Why {
            reason: &reason,
            ttl: None,
        };
        let env = (&*shared.store, &shared.events);
        shared
            .overrides
            .mitigate(env, Actor::from(&by), why, &name, scope)
    })
    .await;
    match done {
        Ok(Ok(((app, _), _))) => {
            let until = app.expires_ms.map_or_else(
                || "until reverted".to_owned(),
                |ms| format!("until {}", liveops_protocol::time::rfc3339_seconds(ms)),
            );
            Reply::public(format!(
                "{} applied `{}` to {} ({}, {until})",
                caller.name,
                app.mitigation,
                scope_text(&app.scope),
                app.id
            ))
        }
        Ok(Err(OverrideError::Internal(e))) => Reply::private(collector_failure(e)),
        Ok(Err(e)) => Reply::private(format!("{e}. Nothing changed.")),
        Err(e) => Reply::private(collector_failure(CollectorError::Task(
            "chat",
            e.to_string(),
        ))),
    }
}

fn scope_text(s: &Scope) -> String {
    match s {
        Scope::Fleet => "the fleet".into(),
        Scope::World(w) => format!("world {w}"),
        other => format!("{other:?}"),
    }
}
