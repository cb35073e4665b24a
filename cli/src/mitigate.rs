//! `liveops mitigate`: apply a named bundle of kill switches to a world or
//! the fleet in one command, list what is in force, revert it. A thin
//! client of the collector's API: the collector checks roles and reasons,
//! pushes the change to the agents and writes the audit log.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::remote::{Remote, block_on};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  liveops mitigate freeze-attacks --world w1 --reason \"dupe exploit\" --ttl 2h\n  liveops mitigate list\n  liveops mitigate revert m-3 --reason \"hotfix deployed\""
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The mitigation to apply (`liveops mitigate list` shows them).
    name: Option<String>,
    /// Apply to this world.
    #[arg(long, conflicts_with = "fleet")]
    world: Option<String>,
    /// Apply to every world.
    #[arg(long)]
    fleet: bool,
    /// Why (required; recorded in the audit log).
    #[arg(long)]
    reason: Option<String>,
    /// Lift it by itself after this long, e.g. 30m, 2h.
    #[arg(long)]
    ttl: Option<String>,
    #[command(flatten)]
    remote: Remote,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// The mitigations available and those in force.
    List,
    /// Lift a mitigation (m-N) or one override (o-N).
    Revert {
        id: String,
        /// Why (required; recorded in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Deserialize)]
struct Listing {
    bundles: Vec<Bundle>,
    active: Vec<Applied>,
}

#[derive(Deserialize)]
struct Bundle {
    name: String,
    description: String,
    flags: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
struct Applied {
    id: String,
    mitigation: String,
    scope: Value,
    reason: String,
    actor: String,
    expires_ms: Option<u64>,
    overrides: Vec<Value>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(Command::List) => block_on(list(&args.remote)),
        Some(Command::Revert { id, reason }) => block_on(revert(&args.remote, &id, reason)),
        None => block_on(apply(&args)),
    }
}

async fn apply(args: &Args) -> anyhow::Result<ExitCode> {
    let Some(name) = &args.name else {
        anyhow::bail!(
            "name a mitigation (`liveops mitigate list` shows them), or use `list` or `revert`"
        );
    };
    let mut body = json!({ "name": name, "reason": args.reason, "ttl": args.ttl });
    match (&args.world, args.fleet) {
        (Some(w), false) => body["world"] = json!(w),
        (None, true) => body["fleet"] = json!(true),
        _ => anyhow::bail!("say where: --world W or --fleet"),
    }
    require_reason(args.reason.as_deref())?;
    let app: Applied = args.remote.post("/api/v1/mitigations", &body).await?;
    println!("{}", app.id);
    print_applied(&app);
    println!(
        "revert with: liveops mitigate revert {} --reason \"…\"",
        app.id
    );
    Ok(ExitCode::SUCCESS)
}

async fn list(remote: &Remote) -> anyhow::Result<ExitCode> {
    let l: Listing = remote.get("/api/v1/mitigations").await?;
    println!("MITIGATIONS");
    for b in &l.bundles {
        let flags: Vec<String> = b.flags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  {:<18} {}", b.name, flags.join(" "));
        println!("  {:<18} {}", "", b.description);
    }
    println!();
    if l.active.is_empty() {
        println!("IN FORCE: none");
    } else {
        println!("IN FORCE");
        for a in &l.active {
            print_applied(a);
        }
    }
    let lone: Value = remote.get("/api/v1/overrides").await?;
    let lone: Vec<&Value> = lone["overrides"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["mitigation"].is_null())
        .collect();
    if !lone.is_empty() {
        println!();
        println!("OVERRIDES (liveops flag set)");
        for o in lone {
            println!("  {}", describe_override(o));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn revert(remote: &Remote, id: &str, reason: Option<String>) -> anyhow::Result<ExitCode> {
    require_reason(reason.as_deref())?;
    let body = json!({ "reason": reason });
    let r: Value = remote
        .post(&format!("/api/v1/mitigations/{id}/revert"), &body)
        .await?;
    let n = r["overrides"].as_array().map_or(0, Vec::len);
    println!(
        "reverted {} ({}): {n} override(s) lifted",
        r["reverted"].as_str().unwrap_or(id),
        r["subject"].as_str().unwrap_or("")
    );
    Ok(ExitCode::SUCCESS)
}

/// Checked here too, so a missing reason is said before any request.
pub fn require_reason(reason: Option<&str>) -> anyhow::Result<()> {
    if reason.is_none_or(|r| r.trim().is_empty()) {
        anyhow::bail!("--reason is required: say why, for the audit log and whoever comes next");
    }
    Ok(())
}

fn print_applied(a: &Applied) {
    println!(
        "  {} {} on {}, by {}: {}{}",
        a.id,
        a.mitigation,
        scope(&a.scope),
        a.actor,
        a.reason,
        expiry(a.expires_ms)
    );
    for o in &a.overrides {
        println!("      {}", describe_override(o));
    }
}

/// `o-3 combat.attacks = false on world w1 (expires in 2h)`.
pub fn describe_override(o: &Value) -> String {
    format!(
        "{} {} = {} on {}{}",
        o["id"].as_str().unwrap_or("?"),
        o["flag"].as_str().unwrap_or("?"),
        o["value"],
        scope(&o["scope"]),
        expiry(o["expires"].as_u64())
    )
}

/// A scope as the API spells it (`{"kind": "world", "id": "w1"}`), in words.
pub fn scope(s: &Value) -> String {
    match (s["kind"].as_str(), s["id"].as_str()) {
        (Some(kind), Some(id)) => format!("{kind} {id}"),
        (Some(kind), None) => kind.to_owned(),
        _ => s.to_string(),
    }
}

fn expiry(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    let at = liveops_protocol::time::to_system(ms);
    let left = at
        .duration_since(SystemTime::now())
        .map(|d| Duration::from_secs(d.as_secs()))
        .unwrap_or_default();
    format!(
        " (expires {}, in {})",
        liveops_protocol::time::rfc3339_seconds(ms),
        humantime::format_duration(left)
    )
}
