//! `liveops audit list|verify|reseal`: read the collector's audit log,
//! check its hash chain here, on the operator's machine, so a collector
//! (or whoever edited its data dir) cannot vouch for its own log; and,
//! after a break, reseal it (admin).

use std::process::ExitCode;

use liveops_collector::audit::{Head, verify};
use serde::Deserialize;
use serde_json::Value;

use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print every entry: who did what, where, and why.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Recompute the hash chain; exit 1 naming the first bad entry.
    Verify {
        #[command(flatten)]
        remote: Remote,
    },
    /// After the log was replaced or edited: keep the damaged file aside
    /// and start a new one that continues the recorded chain (admin).
    Reseal {
        /// Why, for the reseal entry (what happened, where the damaged
        /// file's content was checked).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Deserialize)]
struct Log {
    entries: Vec<Value>,
    head: Head,
    /// The collector's own finding: the file at the log's path is not the
    /// one it writes.
    #[serde(default)]
    broken: Option<String>,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { remote } => block_on(list(remote)),
        Command::Verify { remote } => block_on(check(remote)),
        Command::Reseal { reason, remote } => block_on(async move {
            let e: Value = remote
                .post(
                    "/api/v1/audit/reseal",
                    &serde_json::json!({ "reason": reason }),
                )
                .await?;
            println!("resealed: {}", line(&e));
            Ok(ExitCode::SUCCESS)
        }),
    }
}

async fn list(remote: Remote) -> anyhow::Result<ExitCode> {
    let log: Log = remote.get("/api/v1/audit").await?;
    if log.entries.is_empty() {
        println!("the audit log is empty");
    }
    for e in &log.entries {
        println!("{}", line(e));
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(remote: Remote) -> anyhow::Result<ExitCode> {
    let log: Log = remote.get("/api/v1/audit").await?;
    if let Some(why) = &log.broken {
        eprintln!("the collector reports its audit log broken: {why}");
    }
    match verify(&log.entries, &log.head).map(|()| log.broken.is_none()) {
        Ok(false) => Ok(ExitCode::FAILURE),
        Ok(true) => {
            println!(
                "audit log ok: {} entries, chain intact up to seq {} ({})",
                log.entries.len(),
                log.head.seq,
                log.head.hash.get(..16).unwrap_or(&log.head.hash)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("{broken}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `#12 2026-…Z alice (responder) mitigate m-3 freeze-attacks on world w1: why  {before} -> {after}`
fn line(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("?").to_owned();
    if !e.is_object() {
        return format!("(unreadable line) {e}");
    }
    let mut out = format!(
        "#{} {} {} ({}) {} {} {} on {}: {}",
        e["seq"],
        s("time"),
        s("actor"),
        s("role"),
        s("action"),
        s("id"),
        s("subject"),
        s("scope"),
        s("reason")
    );
    let empty = |v: &Value| v.is_null() || v.as_object().is_some_and(|m| m.is_empty());
    if !empty(&e["before"]) || !empty(&e["after"]) {
        out.push_str(&format!(
            "\n    before {}  after {}",
            e["before"], e["after"]
        ));
    }
    out
}
