//! `liveops ack`, `liveops resolve`, `liveops pages`: a thin client of the
//! collector's paging API. The collector checks role and reason, tells
//! the channels and writes the audit log.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Acknowledge a page: its escalation stops, and the pagers that take
    /// an acknowledgement are told (role responder).
    Ack {
        /// The page, e.g. p-3 (`liveops pages` lists them).
        page: String,
        /// Why (required; recorded in the audit log).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Resolve a page by hand at every channel that was told (role responder).
    Resolve {
        page: String,
        /// Why (required; recorded in the audit log).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Pages: state, who was notified when and through which channel, who
    /// acknowledged.
    Pages {
        /// Only pages not yet resolved.
        #[arg(long)]
        open: bool,
        /// The collector's JSON as it is.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    block_on(async move {
        match cmd {
            Command::Ack {
                page,
                reason,
                remote,
            } => settle(&remote, &page, "ack", &reason).await?,
            Command::Resolve {
                page,
                reason,
                remote,
            } => settle(&remote, &page, "resolve", &reason).await?,
            Command::Pages { open, json, remote } => {
                let path = if open {
                    "/api/v1/pages?open=true"
                } else {
                    "/api/v1/pages"
                };
                let body: Value = remote.get(path).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&body)?);
                } else {
                    let pages = body["pages"].as_array().cloned().unwrap_or_default();
                    if pages.is_empty() {
                        println!("no pages");
                    }
                    for p in &pages {
                        println!("{}", describe(p));
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `p-1 open SEV1 ops w2 WorldDown: summary` and one line per delivery.
/// `ack` or `resolve` one page with a reason, and show it as it now is.
async fn settle(remote: &Remote, page: &str, verb: &str, reason: &str) -> anyhow::Result<()> {
    let p: Value = remote
        .post(
            &format!("/api/v1/pages/{page}/{verb}"),
            &json!({ "reason": reason }),
        )
        .await?;
    println!("{}", describe(&p));
    Ok(())
}

fn describe(p: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    let lead = &p["alerts"][p["lead"].as_str().unwrap_or("")]["notification"];
    let mut out = format!(
        "{} {} {} team {} world {} {}: {}\n    opened {}  {}",
        s(&p["id"]),
        s(&p["state"]),
        s(&p["severity"]),
        s(&p["team"]),
        s(&p["world"]),
        lead["labels"]["alertname"].as_str().unwrap_or("?"),
        lead["annotations"]["summary"].as_str().unwrap_or(""),
        time(&p["opened_ms"]),
        s(&p["url"]),
    );
    for d in p["sent"].as_array().into_iter().flatten() {
        let outcome = match d["outcome"].as_str() {
            Some("failed") => format!("failed: {}", s(&d["error"])),
            Some(o) => o.to_owned(),
            None => "?".into(),
        };
        out.push_str(&format!(
            "\n    {} {} {} via {} (attempt {}): {outcome}",
            time(&d["at_ms"]),
            s(&d["action"]),
            d["person"].as_str().unwrap_or("(channel destination)"),
            s(&d["channel"]),
            d["attempt"],
        ));
    }
    for (what, key) in [("acknowledged", "acked"), ("resolved", "resolved_by")] {
        let st = &p[key];
        if st.is_object() {
            out.push_str(&format!(
                "\n    {what} by {} at {}: {}",
                s(&st["actor"]),
                time(&st["at_ms"]),
                s(&st["reason"])
            ));
        }
    }
    out
}

fn time(ms: &Value) -> String {
    ms.as_u64()
        .map_or("?".into(), liveops_protocol::time::rfc3339)
}
