//! `liveops-agent`: flags and config in, [`liveops_agent::Agent`] run until
//! SIGTERM/SIGINT, exit code out.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use liveops_config::{AgentConfig, Overrides};

/// The liveops sidecar: run one beside each game world.
// Every value is a string checked by the config crate like the same key
// in a file (so a bad flag and a bad file read alike); each field's name
// is the key it sets.
#[derive(Parser, Debug)]
#[command(version, about)]
#[allow(dead_code)] // read through `ArgMatches`, by name, with their origin
struct Args {
    /// Config file (TOML); flags override it. Without one, built-in defaults.
    #[arg(long, env = "LIVEOPS_AGENT_CONFIG", value_name = "FILE")]
    config: Option<String>,
    /// Name of the world this agent sits beside.
    #[arg(long, value_name = "NAME")]
    world: Option<String>,
    /// Collector base URL.
    #[arg(long, env = "LIVEOPS_COLLECTOR", value_name = "URL")]
    collector: Option<String>,
    /// Token for reports (prefer the environment variable: flags show in `ps`).
    #[arg(long, env = "LIVEOPS_AGENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Game base URL; the agent probes {game}/liveops/v1/health.
    #[arg(long, value_name = "URL")]
    game: Option<String>,
    /// DogStatsD UDP address (empty: no UDP listener).
    #[arg(long, value_name = "ADDR")]
    statsd_udp: Option<String>,
    /// DogStatsD Unix datagram socket path.
    #[arg(long, value_name = "PATH")]
    statsd_unix: Option<String>,
    /// Address for /metrics, /healthz and the flag endpoints (OFREP).
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// Spool and identity directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// Flag file to serve over OFREP, hot-reloaded on save.
    #[arg(long, env = "LIVEOPS_AGENT_FLAGS", value_name = "FILE")]
    flags: Option<String>,
}

fn main() -> ExitCode {
    liveops_telemetry::init_logging();
    let cmd = Args::command();
    let matches = cmd.clone().get_matches();
    let cfg = match liveops_config::load_agent_with(&Overrides::from_clap(&cmd, &matches)) {
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

fn run(cfg: AgentConfig) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ran = rt.block_on(async {
        let agent = liveops_agent::Agent::start(cfg, liveops_telemetry::shutdown_signal()).await?;
        agent.wait().await?;
        anyhow::Ok(())
    });
    // A flag-file read stuck on a hung filesystem is abandoned by the
    // watcher; it must not hold the process's exit either.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    ran
}
