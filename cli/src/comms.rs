//! `liveops comms draft|send`: what players are told, from the templates.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Render a message as it would go out (role viewer).
    Draft {
        /// INC-7 or 7.
        id: String,
        #[command(flatten)]
        what: What,
        #[command(flatten)]
        remote: Remote,
    },
    /// Send a message: a dry run unless --apply (role comms).
    #[command(
        after_help = "Example:\n  liveops comms send INC-3 --channel status --message \"Marches are delayed in eu-1\" --apply"
    )]
    Send {
        id: String,
        #[command(flatten)]
        what: What,
        /// Send it; without this, show what would be sent.
        #[arg(long)]
        apply: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(clap::Args, Debug)]
pub struct What {
    /// banner, discord, forum, email or status.
    #[arg(long)]
    channel: String,
    /// investigating, identified, monitoring or resolved; default: from
    /// the incident's state.
    #[arg(long)]
    state: Option<String>,
    /// Words of your own, where the template puts them.
    #[arg(long, default_value = "")]
    message: String,
}

fn print(m: &Value) {
    println!(
        "{} message ({}), from {}:",
        m["channel"].as_str().unwrap_or("?"),
        m["state"].as_str().unwrap_or("?"),
        m["template"].as_str().unwrap_or("?")
    );
    for (part, text) in m["parts"].as_object().into_iter().flatten() {
        println!("--- {part}\n{}", text.as_str().unwrap_or(""));
    }
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let (id, what, apply, remote, path) = match cmd {
            Command::Draft { id, what, remote } => {
                let p = format!("/api/v1/incidents/{id}/comms/draft");
                (id, what, false, remote, p)
            }
            Command::Send {
                id,
                what,
                apply,
                remote,
            } => {
                let p = format!("/api/v1/incidents/{id}/comms");
                (id, what, apply, remote, p)
            }
        };
        let body = json!({
            "channel": what.channel,
            "state": what.state,
            "message": what.message,
            "apply": apply,
        });
        let m: Value = remote.post(&path, &body).await?;
        print(&m);
        if m["dry_run"] == true {
            println!(
                "--- dry run: would {}; add --apply to send",
                m["would"].as_str().unwrap_or("send it")
            );
        } else if m["sent"] == true {
            println!("--- sent, on {id}'s timeline");
        }
        Ok(ExitCode::SUCCESS)
    })
}
