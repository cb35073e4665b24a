//! `liveops action add|list|done` and `liveops postmortem export`: what an
//! incident leaves behind.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Add an action item to an incident, open or closed (role responder).
    #[command(
        after_help = "Example:\n  liveops action add INC-3 --title \"Alert on provider 5xx\" --owner bo --due 2026-12-18"
    )]
    Add {
        /// INC-7 or 7.
        id: String,
        #[arg(long)]
        title: String,
        /// The person who sees it done.
        #[arg(long)]
        owner: String,
        /// A date (due by its end, UTC) or an RFC 3339 time.
        #[arg(long)]
        due: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Action items; with --overdue, exits 1 when any is overdue (for a
    /// weekly check).
    List {
        #[arg(long)]
        overdue: bool,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Mark an item done, saying what was done (role responder).
    Done {
        /// A-7 or 7.
        id: String,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum Postmortem {
    /// Write the blameless postmortem of an incident, pre-filled from it.
    Export {
        id: String,
        /// md (the default) or json.
        #[arg(long, default_value = "md")]
        format: String,
        /// Where to write it; default `INC-N-postmortem.md` (or .json) here.
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
}

fn line(a: &Value) -> String {
    let state = match (&a["done"], a["overdue"].as_bool()) {
        (d, _) if d.is_object() => "done",
        (_, Some(true)) => "OVERDUE",
        _ => "open",
    };
    format!(
        "{} {:<7} due {}  {}  (owner {}, {})",
        a["id"].as_str().unwrap_or("?"),
        state,
        a["due"].as_str().unwrap_or("?"),
        a["title"].as_str().unwrap_or(""),
        a["owner"].as_str().unwrap_or("?"),
        a["incident"].as_str().unwrap_or("?"),
    )
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    block_on(async move {
        match cmd {
            Command::Add {
                id,
                title,
                owner,
                due,
                remote,
            } => {
                let body = json!({ "title": title, "owner": owner, "due": due });
                let a: Value = remote
                    .post(&format!("/api/v1/incidents/{id}/actions"), &body)
                    .await?;
                println!("{}", line(&a));
            }
            Command::Done { id, note, remote } => {
                let a: Value = remote
                    .post(
                        &format!("/api/v1/actions/{id}/done"),
                        &json!({ "note": note }),
                    )
                    .await?;
                println!("{}", line(&a));
            }
            Command::List {
                overdue,
                owner,
                json,
                remote,
            } => {
                let mut path = format!("/api/v1/actions?overdue={overdue}");
                if let Some(o) = owner {
                    liveops_protocol::name::check(&o, "owner").map_err(anyhow::Error::msg)?;
                    path.push_str(&format!("&owner={o}"));
                }
                let body: Value = remote.get(&path).await?;
                let items = body["actions"].as_array().cloned().unwrap_or_default();
                if json {
                    println!("{}", serde_json::to_string_pretty(&body)?);
                } else if items.is_empty() {
                    println!("no action items");
                }
                if !json {
                    for a in &items {
                        println!("{}", line(a));
                    }
                }
                let late = body["overdue"].as_u64().unwrap_or(0);
                if overdue && late > 0 {
                    eprintln!("{late} action item(s) overdue");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn export(cmd: Postmortem) -> anyhow::Result<ExitCode> {
    let Postmortem::Export {
        id,
        format,
        output,
        remote,
    } = cmd;
    let ext = match format.as_str() {
        "md" | "markdown" => "md",
        "json" => "json",
        other => anyhow::bail!("unknown format {other:?}: md or json"),
    };
    let doc: Value = block_on(async {
        remote
            .get(&format!("/api/v1/incidents/{id}/postmortem?format=json"))
            .await
    })?;
    let text = if ext == "md" {
        liveops_collector::incident::postmortem::markdown(&doc)
    } else {
        serde_json::to_string_pretty(&doc)? + "\n"
    };
    let name = doc["incident"].as_str().unwrap_or("incident");
    let path = output.unwrap_or_else(|| PathBuf::from(format!("{name}-postmortem.{ext}")));
    std::fs::write(&path, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}
