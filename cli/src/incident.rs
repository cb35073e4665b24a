//! `liveops incident open|list|show|status|assign|note|sev`: the incident
//! everything else hangs on, run from the command line.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::incident_view::{details, line};
use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Open an incident by hand (role responder).
    #[command(
        after_help = "Example:\n  liveops incident open --title \"Payments failing in eu-1\" --world eu-1 --sev SEV2"
    )]
    Open {
        #[arg(long)]
        title: String,
        /// A world it affects; repeat for several.
        #[arg(long = "world", value_name = "W")]
        worlds: Vec<String>,
        /// SEV1 (worst) to SEV4; left out, the collector rates it.
        #[arg(long)]
        sev: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Incidents, newest first.
    List {
        /// Only those not resolved, closed or cancelled.
        #[arg(long)]
        active: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// One incident with its timeline.
    Show {
        /// INC-7 or 7.
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Move it through triage → investigating → identified → mitigated →
    /// resolved → closed, or cancelled (role responder). Going back and
    /// cancelling need --note.
    Status {
        id: String,
        state: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Give someone a role: commander, comms or scribe (role responder).
    Assign {
        id: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        person: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Add a note to the timeline (role responder).
    Note {
        id: String,
        text: String,
        /// observation (the default), decision or link.
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Set the severity by hand, with a reason (role responder); the
    /// computed one is kept beside it.
    Sev {
        id: String,
        sev: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let (remote, path, body) = match cmd {
            Command::List {
                active,
                json,
                remote,
            } => {
                let body: Value = remote.get("/api/v1/incidents").await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&body)?);
                    return Ok(ExitCode::SUCCESS);
                }
                let list = body["incidents"].as_array().cloned().unwrap_or_default();
                let shown: Vec<&Value> = list
                    .iter()
                    .filter(|i| !active || is_active(i["state"].as_str().unwrap_or("")))
                    .collect();
                if shown.is_empty() {
                    println!("no incidents");
                }
                for i in shown {
                    println!("{}", line(i));
                }
                return Ok(ExitCode::SUCCESS);
            }
            Command::Show { id, json, remote } => {
                let i: Value = remote.get(&format!("/api/v1/incidents/{id}")).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&i)?);
                } else {
                    print!("{}", details(&i));
                }
                return Ok(ExitCode::SUCCESS);
            }
            Command::Open {
                title,
                worlds,
                sev,
                remote,
            } => {
                let sev = sev.map(|s| normalize_sev(&s));
                let body = json!({ "title": title, "worlds": worlds, "sev": sev });
                (remote, "/api/v1/incidents".to_owned(), body)
            }
            Command::Status {
                id,
                state,
                note,
                remote,
            } => (
                remote,
                format!("/api/v1/incidents/{id}/status"),
                json!({ "state": state, "note": note }),
            ),
            Command::Assign {
                id,
                role,
                person,
                remote,
            } => (
                remote,
                format!("/api/v1/incidents/{id}/assign"),
                json!({ "role": role, "person": person }),
            ),
            Command::Note {
                id,
                text,
                kind,
                remote,
            } => (
                remote,
                format!("/api/v1/incidents/{id}/notes"),
                json!({ "text": text, "kind": kind }),
            ),
            Command::Sev {
                id,
                sev,
                reason,
                remote,
            } => (
                remote,
                format!("/api/v1/incidents/{id}/severity"),
                json!({ "sev": sev, "reason": reason }),
            ),
        };
        let i: Value = remote.post(&path, &body).await?;
        println!("{}", line(&i));
        Ok(ExitCode::SUCCESS)
    })
}

fn is_active(state: &str) -> bool {
    matches!(
        state,
        "triage" | "investigating" | "identified" | "mitigated"
    )
}

/// `sev2` and `2` as the collector spells them.
fn normalize_sev(s: &str) -> String {
    let digits = s.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if digits.len() < s.len() || s.chars().all(|c| c.is_ascii_digit()) {
        format!("SEV{digits}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_written_as_the_collector_spells_them() {
        assert_eq!(normalize_sev("sev2"), "SEV2");
        assert_eq!(normalize_sev("2"), "SEV2");
        assert_eq!(normalize_sev("SEV1"), "SEV1");
    }
}
