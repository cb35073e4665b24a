//! `liveops-collector`: config in, [`liveops_collector::Collector`] run until
//! SIGTERM/SIGINT, exit code out.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{CollectorConfig, Overrides, Role};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The liveops collector: SLOs, alerts and notifications for the fleet.
// Every value is a string checked by the config crate like the same key
// in a file (so a bad flag and a bad file read alike); each field's name
// is the key it sets.
#[derive(Parser, Debug)]
#[command(version, about)]
#[allow(dead_code)] // read through `ArgMatches`, by name, with their origin
struct Args {
    /// Config file (TOML). Without one, the shipped default SLO set.
    #[arg(long, env = "LIVEOPS_COLLECTOR_CONFIG", value_name = "FILE")]
    config: Option<String>,
    /// Address to listen on (overrides the file).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// State directory (overrides the file).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// One more token accepted from agents (plain text; from the environment).
    #[arg(long, env = "LIVEOPS_AGENT_TOKEN", hide_env_values = true)]
    agent_token: Option<String>,
}

fn main() -> ExitCode {
    liveops_telemetry::init_logging();
    let cmd = Args::command();
    let matches = cmd.clone().get_matches();
    let (cfg, tokens) = match config(&Overrides::from_clap(&cmd, &matches)) {
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

fn config(o: &Overrides) -> Result<(CollectorConfig, Tokens), liveops_config::ConfigErrors> {
    let cfg = liveops_config::load_collector_with(o)?;
    // The flag catalogue and mitigations are loaded again at start; checked
    // here too so that their errors exit 2 like any other config error.
    liveops_config::load_catalogue(&cfg)?;
    liveops_config::load_collector_oncall(&cfg)?;
    liveops_config::load_paging(&cfg, None)?;
    let mut tokens = Tokens::new(cfg.tokens.clone());
    if let Some(t) = &cfg.agent_token {
        tokens.add_plain("env-agent", Role::Agent, t.expose());
    }
    Ok((cfg, tokens))
}

#[tokio::main]
async fn run(cfg: CollectorConfig, tokens: Tokens) -> anyhow::Result<()> {
    let collector = Collector::start(cfg, tokens, liveops_telemetry::shutdown_signal()).await?;
    collector.wait().await?;
    Ok(())
}
