//! `liveops flag …`: the flag catalogue, and scoped overrides set through
//! the collector.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::remote::{Remote, block_on};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Render a flag file as Markdown (docs/flags.md is this for config/flags.toml).
    Docs {
        /// The flag file; the shipped config/flags.toml when omitted.
        file: Option<PathBuf>,
    },
    /// Override one flag for one world, village, account or player (or the
    /// fleet) until reverted (`liveops mitigate revert o-N`) or expired.
    Set(Box<SetArgs>),
}

#[derive(clap::Args, Debug)]
pub struct SetArgs {
    /// The flag, e.g. combat.attacks.
    key: String,
    /// In the flag's type: false, 250, 0.5, text, or a JSON object.
    value: String,
    #[command(flatten)]
    scope: Scope,
    /// Why (required; recorded in the audit log).
    #[arg(long)]
    reason: Option<String>,
    /// Lift it by itself after this long, e.g. 30m, 2h.
    #[arg(long)]
    ttl: Option<String>,
    #[command(flatten)]
    remote: Remote,
}

#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
struct Scope {
    #[arg(long)]
    world: Option<String>,
    #[arg(long)]
    village: Option<String>,
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    player: Option<String>,
    #[arg(long)]
    fleet: bool,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Docs { file } => docs(file),
        Command::Set(args) => block_on(set(*args)),
    }
}

fn docs(file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (set, source) = match &file {
        Some(path) => match liveops_config::load_flags(path) {
            Ok(set) => (set, path.display().to_string()),
            Err(errors) => {
                eprintln!("{errors}");
                return Ok(ExitCode::FAILURE);
            }
        },
        None => (
            liveops_config::flags::parse("config/flags.toml", liveops_config::DEFAULT_FLAGS_TOML)?,
            "config/flags.toml".to_owned(),
        ),
    };
    print!("{}", liveops_config::flags::docs::markdown(&set, &source));
    Ok(ExitCode::SUCCESS)
}

async fn set(args: SetArgs) -> anyhow::Result<ExitCode> {
    crate::mitigate::require_reason(args.reason.as_deref())?;
    // The value goes as text: the collector reads it in the flag's type.
    let mut body = json!({
        "flag": args.key,
        "value": args.value,
        "reason": args.reason,
        "ttl": args.ttl,
    });
    let s = &args.scope;
    let given = [
        ("world", &s.world),
        ("village", &s.village),
        ("account", &s.account),
        ("player", &s.player),
    ];
    for (k, v) in given {
        if let Some(v) = v {
            body[k] = json!(v);
        }
    }
    if s.fleet {
        body["fleet"] = json!(true);
    }
    let o: Value = args.remote.post("/api/v1/overrides", &body).await?;
    println!("{}", o["id"].as_str().unwrap_or("?"));
    println!("  {}", crate::mitigate::describe_override(&o));
    println!(
        "revert with: liveops mitigate revert {} --reason \"…\"",
        o["id"].as_str().unwrap_or("?")
    );
    Ok(ExitCode::SUCCESS)
}
