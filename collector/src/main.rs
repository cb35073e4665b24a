//! `liveops-collector`: config in, [`liveops_collector::Collector`] run until
//! SIGTERM/SIGINT, exit code out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{CollectorConfig, Role};

/// The liveops collector: SLOs, alerts and notifications for the fleet.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Config file (TOML). Without one, the shipped default SLO set.
    #[arg(long, env = "LIVEOPS_COLLECTOR_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// State directory (overrides the file).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// One more token accepted from agents (plain text; from the environment).
    #[arg(long, env = "LIVEOPS_AGENT_TOKEN", hide_env_values = true)]
    agent_token: Option<String>,
}

fn main() -> ExitCode {
    liveops_telemetry::init_logging();
    let (cfg, tokens) = match config(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(cfg, tokens) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("liveops-collector: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config(args: Args) -> Result<(CollectorConfig, Tokens), liveops_config::ConfigErrors> {
    let mut cfg = match &args.config {
        Some(path) => liveops_config::load_collector(path)?,
        None => liveops_config::default_collector(),
    };
    if let Some(a) = args.listen {
        cfg.listen = a;
        cfg.public_url = format!("http://{a}");
    }
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    // The flag catalogue and mitigations are loaded again at start; checked
    // here too so that their errors exit 2 like any other config error.
    liveops_config::load_catalogue(&cfg)?;
    let mut tokens = Tokens::new(cfg.tokens.clone());
    if let Some(t) = &args.agent_token {
        tokens.add_plain("env-agent", Role::Agent, t);
    }
    Ok((cfg, tokens))
}

#[tokio::main]
async fn run(cfg: CollectorConfig, tokens: Tokens) -> anyhow::Result<()> {
    let collector = Collector::start(cfg, tokens, liveops_telemetry::shutdown_signal()).await?;
    collector.wait().await?;
    Ok(())
}
