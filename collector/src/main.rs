//! `liveops-collector`: config in, [`liveops_collector::Collector`] run until
//! SIGTERM/SIGINT, exit code out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use liveops_collector::auth::Tokens;
use liveops_config::Role;

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
    let args = Args::parse();
    let mut cfg = match &args.config {
        Some(path) => match liveops_config::load_collector(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        None => liveops_config::default_collector(),
    };
    if let Some(a) = args.listen {
        cfg.listen = a;
        cfg.public_url = format!("http://{a}");
    }
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    let mut tokens = Tokens::new(cfg.tokens.clone());
    if let Some(t) = &args.agent_token {
        tokens.add_plain("env-agent", Role::Agent, t);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let collector = match liveops_collector::Collector::start(
            cfg,
            tokens,
            liveops_telemetry::shutdown_signal(),
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("liveops-collector: {e}");
                return ExitCode::FAILURE;
            }
        };
        match collector.wait().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("liveops-collector: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
