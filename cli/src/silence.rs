//! `liveops silence add|list|expire`: alerts matching some labels are
//! recorded but not paged, for a while, with a reason.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::{Value, json};

use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Silence alerts whose labels match every `--match` (role responder).
    #[command(
        after_help = "Example:\n  liveops silence add --match world=w2 --match alertname=TickStalled --for 2h --reason \"load test\""
    )]
    Add {
        /// LABEL=VALUE, e.g. world=w2; repeat to narrow it.
        #[arg(long = "match", value_name = "LABEL=VALUE", required = true)]
        matchers: Vec<String>,
        /// How long, e.g. 30m, 2h.
        #[arg(long = "for", value_name = "DURATION")]
        duration: String,
        /// Why (required; recorded in the audit log).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Silences, active and ended.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// End a silence now (role responder).
    Expire {
        /// The silence, e.g. s-2.
        id: String,
        #[arg(long, default_value = "ended early with `liveops silence expire`")]
        reason: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    block_on(async move {
        match cmd {
            Command::Add {
                matchers,
                duration,
                reason,
                remote,
            } => {
                let mut m = BTreeMap::new();
                for given in &matchers {
                    match given.split_once('=') {
                        Some((k, v)) if !k.trim().is_empty() => {
                            m.insert(k.trim().to_owned(), v.trim().to_owned());
                        }
                        _ => bail!("--match `{given}`: write LABEL=VALUE, e.g. world=w2"),
                    }
                }
                let body = json!({ "matchers": m, "duration": duration, "reason": reason });
                let s: Value = remote.post("/api/v1/silences", &body).await?;
                println!("{}", line(&s));
            }
            Command::List { json, remote } => {
                let body: Value = remote.get("/api/v1/silences").await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&body)?);
                } else {
                    let list = body["silences"].as_array().cloned().unwrap_or_default();
                    if list.is_empty() {
                        println!("no silences");
                    }
                    for s in &list {
                        println!("{}", line(s));
                    }
                }
            }
            Command::Expire { id, reason, remote } => {
                let s: Value = remote
                    .post(
                        &format!("/api/v1/silences/{id}/expire"),
                        &json!({ "reason": reason }),
                    )
                    .await?;
                println!("expired: {}", line(&s));
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `s-1 world=w2 until 2026-…Z by alice: load test`
fn line(s: &Value) -> String {
    let matchers: Vec<String> = s["matchers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
        .collect();
    let time = |v: &Value| {
        v.as_u64()
            .map_or("?".into(), liveops_protocol::time::rfc3339)
    };
    format!(
        "{} {} until {} by {}: {}{}",
        s["id"].as_str().unwrap_or("?"),
        matchers.join(" "),
        time(&s["until_ms"]),
        s["author"].as_str().unwrap_or("?"),
        s["reason"].as_str().unwrap_or(""),
        if s["active"] == false { " (ended)" } else { "" },
    )
}
