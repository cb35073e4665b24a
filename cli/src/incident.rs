//! `liveops incident open|list|show|status|assign|note|sev`: the incident
//! everything else hangs on, run from the command line.

use std::process::ExitCode;

use serde_json::{Value, json};

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

fn severity(i: &Value) -> &str {
    i["severity"]
        .as_str()
        .or_else(|| i["severity"]["current"].as_str())
        .unwrap_or("?")
}

/// `INC-3 SEV2 investigating  Payments failing in eu-1  [eu-1, eu-2]`
fn line(i: &Value) -> String {
    let worlds: Vec<&str> = i["worlds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    format!(
        "{} {} {:<13} {}{}",
        i["id"].as_str().unwrap_or("?"),
        severity(i),
        i["state"].as_str().unwrap_or("?"),
        i["title"].as_str().unwrap_or(""),
        if worlds.is_empty() {
            String::new()
        } else {
            format!("  [{}]", worlds.join(", "))
        },
    )
}

/// The player impact as last measured, and the response times so far.
fn impact(i: &Value) -> String {
    let mut out = String::new();
    let r = &i["impact"];
    if let Some(now) = r.get("now") {
        let list = |v: &Value| {
            let names: Vec<&str> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        let pct = |v: &Value| format!("{:.1} %", v.as_f64().unwrap_or(0.0) * 100.0);
        out.push_str(&format!(
            "impact: affected {} ({}); mitigated {}; {:.0} players ({} of online); payments failing {:.1}/min ({}){}\n",
            list(&now["affected"]),
            list(&now["systems"]),
            list(&now["mitigated"]),
            now["players"].as_f64().unwrap_or(0.0),
            pct(&now["players_share"]),
            now["payments_failing_per_min"].as_f64().unwrap_or(0.0),
            pct(&now["payments_share"]),
            now.get("logins_failing")
                .map(|l| format!("; logins failing {}", pct(l)))
                .unwrap_or_default(),
        ));
        out.push_str(&format!(
            "peak: {:.0} players ({} of online), {} world(s); payments failed {:.0}\n",
            r["peak_players"].as_f64().unwrap_or(0.0),
            pct(&r["peak_players_share"]),
            r["peak_worlds"],
            r["payments_failed"].as_f64().unwrap_or(0.0),
        ));
    }
    let times: Vec<String> = ["detect", "acknowledge", "mitigate", "resolve"]
        .iter()
        .filter_map(|p| {
            let s = i["response"][format!("{p}_seconds")].as_f64()?;
            Some(format!(
                "{p} {}",
                liveops_protocol::time::human_ms(s * 1000.0)
            ))
        })
        .collect();
    if !times.is_empty() {
        out.push_str(&format!("response: {}\n", times.join(", ")));
    }
    out
}

fn details(i: &Value) -> String {
    let mut out = format!("{}\n", line(i));
    if let Some(roles) = i["roles"].as_object().filter(|r| !r.is_empty()) {
        let roles: Vec<String> = roles
            .iter()
            .map(|(r, p)| format!("{r} {}", p.as_str().unwrap_or("?")))
            .collect();
        out.push_str(&format!("people: {}\n", roles.join(", ")));
    }
    out.push_str(&impact(i));
    let time = |v: &Value| {
        v.as_u64()
            .map_or("?".into(), liveops_protocol::time::rfc3339)
    };
    for e in i["timeline"].as_array().into_iter().flatten() {
        let what = match e["kind"].as_str().unwrap_or("?") {
            "state" => format!(
                "{} → {}",
                e["from"].as_str().unwrap_or("?"),
                e["to"].as_str().unwrap_or("?")
            ),
            "severity" => format!(
                "severity {} → {}",
                e["from"].as_str().unwrap_or("?"),
                e["to"].as_str().unwrap_or("?")
            ),
            "assigned" => format!(
                "{} is {}",
                e["person"].as_str().unwrap_or("?"),
                e["role"].as_str().unwrap_or("?")
            ),
            "page" => format!(
                "page {} for {}",
                e["page"],
                e["world"].as_str().unwrap_or("?")
            ),
            "note" => e["note"].as_str().unwrap_or("note").to_owned(),
            other => other.to_owned(),
        };
        let text = e["text"].as_str().unwrap_or("");
        out.push_str(&format!(
            "  {}  {:<10} {}{}\n",
            time(&e["at_ms"]),
            e["by"].as_str().unwrap_or("?"),
            what,
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ));
    }
    out
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
