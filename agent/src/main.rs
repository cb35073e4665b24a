//! `liveops-agent`: flags and config in, [`liveops_agent::Agent`] run until
//! SIGTERM/SIGINT, exit code out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use liveops_config::{AgentConfig, Secret};

/// The liveops sidecar: run one beside each game world.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Config file (TOML); flags override it. Without one, built-in defaults.
    #[arg(long, env = "LIVEOPS_AGENT_CONFIG")]
    config: Option<PathBuf>,
    /// Name of the world this agent sits beside.
    #[arg(long)]
    world: Option<String>,
    /// Collector base URL.
    #[arg(long, env = "LIVEOPS_COLLECTOR")]
    collector: Option<String>,
    /// Token for reports (prefer the environment variable: flags show in `ps`).
    #[arg(long, env = "LIVEOPS_AGENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Game base URL; the agent probes {game}/liveops/v1/health.
    #[arg(long)]
    game: Option<String>,
    /// DogStatsD UDP address.
    #[arg(long)]
    statsd_udp: Option<SocketAddr>,
    /// DogStatsD Unix datagram socket path.
    #[arg(long)]
    statsd_unix: Option<PathBuf>,
    /// Address for /metrics, /healthz and the flag endpoints (OFREP).
    #[arg(long)]
    http: Option<SocketAddr>,
    /// Spool and identity directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Flag file to serve over OFREP, hot-reloaded on save.
    #[arg(long, env = "LIVEOPS_AGENT_FLAGS")]
    flags: Option<PathBuf>,
}

fn main() -> ExitCode {
    liveops_telemetry::init_logging();
    let cfg = match config(Args::parse()) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("liveops-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run(cfg: AgentConfig) -> anyhow::Result<()> {
    let agent = liveops_agent::Agent::start(cfg, liveops_telemetry::shutdown_signal()).await?;
    agent.wait().await?;
    Ok(())
}

fn config(args: Args) -> anyhow::Result<AgentConfig> {
    let mut cfg = match &args.config {
        Some(path) => liveops_config::load_agent(path)?,
        None => liveops_config::default_agent(),
    };
    if let Some(w) = args.world {
        cfg.world = w;
    }
    if let Some(c) = args.collector {
        cfg.collector = c.trim_end_matches('/').to_owned();
    }
    if let Some(g) = args.game {
        cfg.game = Some(g.trim_end_matches('/').to_owned());
    }
    if let Some(a) = args.statsd_udp {
        cfg.statsd_udp = Some(a);
    }
    if let Some(p) = args.statsd_unix {
        cfg.statsd_unix = Some(p);
    }
    if let Some(a) = args.http {
        cfg.http = a;
    }
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    if let Some(f) = args.flags {
        cfg.flags.file = Some(f);
    }
    cfg.token = match (args.token, &cfg.token_file) {
        (Some(t), _) => Some(Secret(t)),
        (None, Some(path)) => {
            let t = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read token_file {}: {e}", path.display()))?;
            Some(Secret(t.trim().to_owned()))
        }
        (None, None) => None,
    };
    Ok(cfg)
}
