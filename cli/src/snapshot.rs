//! `liveops snapshot list|take|diff|verify --world W`: a world's state snapshots,
//! through the collector, which relays each command to the world's agent.

use std::process::ExitCode;
use std::time::Duration;

use liveops_agent::snapshot::diff::{Filter, Report};
use liveops_agent::snapshot::store::Meta;
use liveops_protocol::command::{Op, Request};
use liveops_protocol::time::rfc3339_seconds;
use serde_json::{Value, json};

use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// The world's snapshots, oldest first.
    List(Common),
    /// Take a snapshot now (role `responder`).
    Take {
        #[command(flatten)]
        common: Common,
        /// A name to find it by later (`diff LABEL live`).
        #[arg(long)]
        label: Option<String>,
        /// Why, for the audit log.
        #[arg(long, default_value = "taken by hand")]
        reason: String,
    },
    /// Read snapshots back and check every entity; exits 1 if any is damaged.
    Verify {
        #[command(flatten)]
        common: Common,
        /// One snapshot (id, label or `latest`); all when left out.
        snapshot: Option<String>,
    },
    /// Apply the retention policy now and reclaim the space of what it
    /// expires (role `responder`; it also runs after each scheduled snapshot).
    Prune {
        #[command(flatten)]
        common: Common,
        /// Why, for the audit log.
        #[arg(long, default_value = "retention applied by hand")]
        reason: String,
    },
    /// What changed from snapshot A to B (`live`: the game now).
    Diff {
        #[command(flatten)]
        common: Common,
        /// A snapshot: an id (`s-3`), a label (the newest with it) or `latest`.
        from: String,
        /// Another snapshot, or `live`.
        #[arg(default_value = "live")]
        to: String,
        /// Only these kinds (repeatable).
        #[arg(long)]
        kind: Vec<String>,
        /// Only these entity ids (repeatable).
        #[arg(long)]
        id: Vec<String>,
        /// Only entities these players or accounts own (repeatable).
        #[arg(long)]
        owner: Vec<String>,
        /// Entities shown with their fields (all are in `--json`).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(clap::Args, Debug)]
pub struct Common {
    #[command(flatten)]
    pub(crate) remote: Remote,
    /// The world whose agent holds the snapshots.
    #[arg(long)]
    pub(crate) world: String,
    /// Print the agent's answer as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// How long to wait for a snapshot or a diff against the game.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub(crate) wait: Duration,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    block_on(async move {
        match cmd {
            Command::List(c) => {
                let answer =
                    call(&c, Op::SnapshotList, json!({}), None, "listing snapshots").await?;
                let snaps: Vec<Meta> = serde_json::from_value(answer["snapshots"].clone())?;
                if c.json {
                    println!("{}", serde_json::to_string_pretty(&answer)?);
                } else {
                    print_list(
                        &c.world,
                        &snaps,
                        answer["bytes_on_disk"].as_u64().unwrap_or(0),
                    );
                }
            }
            Command::Take {
                common,
                label,
                reason,
            } => {
                let args = json!({ "label": label });
                let answer = call(
                    &common,
                    Op::SnapshotTake,
                    args,
                    Some(reason),
                    "taking a snapshot",
                )
                .await?;
                if common.json {
                    println!("{}", serde_json::to_string_pretty(&answer)?);
                } else {
                    let m: Meta = serde_json::from_value(answer)?;
                    println!(
                        "{} of {}: {} entities in {:.1} s, {} new ({} of index)",
                        m.id,
                        common.world,
                        m.entities,
                        m.took_ms as f64 / 1000.0,
                        bytes(m.bytes_added),
                        bytes(m.index_bytes_added)
                    );
                    if m.skipped > 0 {
                        println!(
                            "  {} lines from the game were not entities or repeated one",
                            m.skipped
                        );
                    }
                }
            }
            Command::Verify { common, snapshot } => {
                let args = json!({ "snapshot": snapshot });
                let answer = call(&common, Op::SnapshotVerify, args, None, "verifying").await?;
                let list = answer["snapshots"].as_array().cloned().unwrap_or_default();
                if common.json {
                    println!("{}", serde_json::to_string_pretty(&answer)?);
                }
                let mut damaged = 0;
                for v in &list {
                    let problems = v["problems"].as_array().map_or(0, Vec::len);
                    damaged += usize::from(problems > 0);
                    if !common.json {
                        let state = if problems == 0 {
                            "ok".to_string()
                        } else {
                            format!("DAMAGED: {}", v["problems"])
                        };
                        println!(
                            "{:<8} {:>10} entities  {state}",
                            v["id"].as_str().unwrap_or("?"),
                            v["entities"]
                        );
                    }
                }
                if damaged > 0 {
                    return Ok(ExitCode::FAILURE);
                }
            }
            Command::Prune { common, reason } => {
                let answer = call(
                    &common,
                    Op::SnapshotPrune,
                    json!({}),
                    Some(reason),
                    "pruning",
                )
                .await?;
                if common.json {
                    println!("{}", serde_json::to_string_pretty(&answer)?);
                } else {
                    let removed: Vec<&str> = answer["removed"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    println!(
                        "{}: {} snapshots removed ({}), {} index nodes and {} entity lines reclaimed; {} → {} on disk",
                        common.world,
                        removed.len(),
                        if removed.is_empty() {
                            "none expired".to_string()
                        } else {
                            removed.join(", ")
                        },
                        answer["nodes"],
                        answer["blobs"],
                        bytes(answer["bytes_before"].as_u64().unwrap_or(0)),
                        bytes(answer["bytes_after"].as_u64().unwrap_or(0)),
                    );
                }
            }
            Command::Diff {
                common,
                from,
                to,
                kind,
                id,
                owner,
                limit,
            } => {
                let filter = Filter { kind, id, owner };
                let args = json!({ "from": from, "to": to, "filter": filter });
                let answer = call(&common, Op::SnapshotDiff, args, None, "diffing").await?;
                if common.json {
                    println!("{}", serde_json::to_string_pretty(&answer)?);
                } else {
                    print_diff(&common.world, &serde_json::from_value(answer)?, limit);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) async fn call(
    c: &Common,
    op: Op,
    args: Value,
    reason: Option<String>,
    doing: &str,
) -> anyhow::Result<Value> {
    let remote = Remote {
        timeout: c.wait,
        ..c.remote.clone()
    };
    let spinner = crate::progress::spinner(&format!("{doing} on {}…", c.world));
    let body = serde_json::to_value(Request { op, args, reason })?;
    let answer = remote
        .post(&format!("/api/v1/worlds/{}/commands", c.world), &body)
        .await;
    spinner.finish_and_clear();
    answer
}

pub(crate) fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn print_list(world: &str, snaps: &[Meta], on_disk: u64) {
    if snaps.is_empty() {
        println!("{world} has no snapshots yet");
        return;
    }
    println!(
        "{:<8} {:<20} {:<10} {:>10} {:>10}  label",
        "id", "taken (UTC)", "trigger", "entities", "added"
    );
    for m in snaps {
        println!(
            "{:<8} {:<20} {:<10} {:>10} {:>10}  {}",
            m.id,
            rfc3339_seconds(m.at_ms),
            m.trigger,
            m.entities,
            bytes(m.bytes_added + m.index_bytes_added),
            m.label.as_deref().unwrap_or("")
        );
    }
    println!("{} snapshots, {} on disk", snaps.len(), bytes(on_disk));
}

fn print_diff(world: &str, r: &Report, limit: usize) {
    let total: u64 = r
        .kinds
        .values()
        .map(|k| k.added + k.removed + k.changed)
        .sum();
    println!(
        "{world}: {} → {}: {total} entities differ ({} unchanged)",
        r.from, r.to, r.unchanged
    );
    for (kind, k) in &r.kinds {
        println!(
            "  {kind:<12} {} changed, {} added, {} removed",
            k.changed, k.added, k.removed
        );
    }
    if total == 0 {
        return;
    }
    println!("\nfields changed most:");
    for (path, n) in r.fields.iter().take(10) {
        println!("  {path:<40} {n}");
    }
    if !r.largest.is_empty() {
        println!("\nlargest numeric changes:");
        for d in &r.largest {
            let owner = d
                .owner
                .as_deref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            let delta = format!("{:+}", d.delta);
            println!(
                "  {delta:>14} {} {}{owner} {}: {} → {}",
                d.kind, d.id, d.path, d.old, d.new
            );
        }
    }
    println!("\nentities:");
    for e in r.entities.iter().take(limit) {
        let owner = e
            .owner
            .as_deref()
            .map(|o| format!(" (owner {o})"))
            .unwrap_or_default();
        println!("  {} {} {}{owner}", e.change, e.kind, e.id);
        for f in &e.fields {
            println!("    {}: {} → {}", f.path, f.old, f.new);
        }
    }
    if r.entities.len() > limit {
        println!(
            "  … and {} more (--limit, or --json for all)",
            r.entities.len() - limit
        );
    }
}
