//! `liveops demo`: the whole pipeline on loopback with no files.
//!
//! A collector with the shipped default config, on-call schedule and
//! paging policy, and three simulated worlds (`w1`, `w2`, `w3`) each with
//! its own agent, all in this process. A fault can be injected into one
//! world at a set time; the demo prints alerts as they fire, the pages
//! they become (who was paged, through which channel, how to ack) and a
//! per-world SLO summary.

mod channels;
mod incidents;
mod pages;
mod ports;
mod summary;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use liveops_agent::Agent;
use liveops_client::Target;
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{Role, Secret};
use liveops_simworld::{Fault, World, WorldConfig};
use rand::RngCore;
use tokio::sync::watch;

pub const WORLDS: [&str; 3] = ["w1", "w2", "w3"];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Collector listen address; the agents listen on its host too.
    #[arg(long, default_value = "127.0.0.1:9470")]
    listen: SocketAddr,
    /// The agents of w1, w2, w3 serve /metrics, OFREP and health on this
    /// port and the next two (0: any free ports). The shipped
    /// dashboards/prometheus.yml scrapes 9470-9473.
    #[arg(long, default_value_t = 9471)]
    agent_http_base: u16,
    /// The agents of w1, w2, w3 take DogStatsD over UDP on this port and the
    /// next two (0: any free ports).
    #[arg(long, default_value_t = 8125)]
    statsd_base: u16,
    /// A token with every role, so scripts can drive the demo's collector.
    #[arg(long, env = "LIVEOPS_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Run this many seconds, then exit 0 (default: until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
    /// Inject a fault: tick-stall, error-burst, payment-failure, auth-slow, down, tick-backlog,
    /// exploit or corruption (the last two change the world's state only: see them with
    /// `snapshot diff latest live`).
    #[arg(long)]
    fault: Option<Fault>,
    /// The world the fault hits.
    #[arg(long, default_value = "w2")]
    fault_world: String,
    /// Seconds after start at which the fault begins.
    #[arg(long, default_value_t = 20)]
    fault_at: u64,
    /// Write every delivery the demo's channels receive here, as JSON lines
    /// flushed as they happen (default: DATA_DIR/deliveries.jsonl).
    #[arg(long)]
    pager_log: Option<PathBuf>,
    /// Keep state here instead of a temporary directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where the incidents' postmortems are written at the end (default:
    /// --data-dir if given, else the system's temporary directory: never
    /// the one the demo runs in).
    #[arg(long)]
    postmortem_dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !WORLDS.contains(&args.fault_world.as_str()) {
        anyhow::bail!("--fault-world must be one of {}", WORLDS.join(", "));
    }
    // Quiet logs keep the summary readable; RUST_LOG=info shows everything.
    liveops_telemetry::init_logging_with_default("warn");
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(demo(args))
}

async fn demo(args: Args) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::Builder::new()
        .prefix("liveops-demo-")
        .tempdir()
        .context("creating a temporary directory")?;
    let data = args
        .data_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_owned());
    // Worlds and agents stop first, so each agent's last report still
    // reaches the collector; the collector stops after them.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (collector_stop_tx, collector_stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    std::fs::create_dir_all(&data).context("creating the data directory")?;
    let mut cfg = liveops_config::default_collector();
    cfg.listen = args.listen;
    cfg.data_dir = data.join("collector");
    // The shipped schedule and policy, as files beside the flags so they
    // can be edited between runs (the collector reads them at start).
    cfg.oncall_file = Some(shipped(
        &data,
        "oncall.toml",
        liveops_config::DEFAULT_ONCALL_TOML,
    )?);
    cfg.paging_file = Some(shipped(
        &data,
        "paging.toml",
        liveops_config::DEFAULT_PAGING_TOML,
    )?);
    // The policy's channels, delivering to a receiver in this process; it
    // stops with the collector, answering the requests already in flight.
    let deliveries = channels::log_path(args.pager_log.as_deref(), &data);
    let (notifiers, receiver) = channels::start(
        args.listen.ip(),
        &deliveries,
        stopped(collector_stop_rx.clone()),
    )
    .await?;
    cfg.notifiers = notifiers;
    let agent_token = random_token();
    let mut tokens = Tokens::new(cfg.tokens.clone());
    tokens.add_plain("demo-agents", Role::Agent, &agent_token);
    // Without --admin-token the demo makes one for this run only, so that
    // `liveops mitigate` can be tried against it at once.
    let admin = match &args.admin_token {
        Some(t) => Admin::Given(t.clone()),
        None => Admin::Generated(random_token()),
    };
    tokens.add_plain("demo-admin", Role::Admin, admin.token());
    // One flag file for every agent, as a studio ships one: edit it while
    // the demo runs and all three worlds pick the change up.
    let flags_file = shipped(&data, "flags.toml", liveops_config::DEFAULT_FLAGS_TOML)?;
    let collector = Collector::start(cfg, tokens, stopped(collector_stop_rx))
        .await
        .with_context(|| {
            format!(
                "starting the collector on {} (another demo running? use --listen)",
                args.listen
            )
        })?;
    let liveops = ports::this_binary();
    let mut pages = pages::PagePrinter::new(
        &collector.shared(),
        &liveops,
        &collector.url(),
        &admin.shown(),
    );

    let mut agents = Vec::new();
    let mut worlds = Vec::new();
    for name in WORLDS {
        // The world's port is known before the world starts, so the agent
        // can be told where to probe and the world where to send telemetry.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let game = format!("http://{}", listener.local_addr()?);
        let mut acfg = liveops_config::default_agent();
        acfg.world = name.to_owned();
        acfg.collector = collector.url();
        acfg.token = Some(Secret(agent_token.clone()));
        acfg.game = Some(game);
        let i = agents.len();
        let host = args.listen.ip();
        acfg.statsd_udp = Some(ports::nth(host, args.statsd_base, i, "--statsd-base")?);
        acfg.http = ports::nth(host, args.agent_http_base, i, "--agent-http-base")?;
        // A simulated world sends a few hundred lines a second; the default
        // 8 MiB buffer (and its rmem_max warning) is for production floods.
        acfg.ingest.recv_buffer_bytes = 256 << 10;
        acfg.data_dir = data.join(format!("agent-{name}"));
        acfg.flags.file = Some(flags_file.clone());
        let (http, udp) = (acfg.http, acfg.statsd_udp);
        let agent = Agent::start(acfg, stopped(stop_rx.clone()))
            .await
            .with_context(|| {
                format!(
                    "starting the agent of {name} on http {http} and udp {} (taken? another demo running? \
                     use --agent-http-base and --statsd-base, 0 for any free ports)",
                    udp.map(|u| u.to_string()).unwrap_or_default()
                )
            })?;
        let statsd = agent
            .bound()
            .statsd_udp
            .context("agent has no UDP listener")?;
        // The world obeys its agent's kill switches, so a mitigation shows
        // in its traffic and SLOs (pause-payments stops a payment burn).
        let mut wcfg = WorldConfig::new(name, Target::Udp(statsd));
        wcfg.flags = Some(format!("http://{}", agent.bound().http));
        let world = World::start(wcfg, listener, stopped(stop_rx.clone())).await?;
        agents.push(agent);
        worlds.push(world);
    }
    let targets: Vec<_> = agents.iter().map(|a| a.bound().http).collect();
    let file_sd = ports::write_file_sd(&data, collector.addr(), &targets)?;
    summary::banner(&collector, &agents, &worlds, &args, &file_sd);
    let suspect = worlds.get(1).and_then(|w| w.exploit_suspect());
    summary::flags_banner(&collector, &agents, &flags_file, &admin, suspect);
    summary::paging_banner(&data, &deliveries);

    let started = Instant::now();
    let mut fault_pending = args.fault;
    let mut printer = summary::Printer::new(collector.shared());
    let mut incidents = incidents::IncidentPrinter::new(collector.shared());
    let mut every = tokio::time::interval(Duration::from_millis(200));
    let ctrl_c = liveops_telemetry::shutdown_signal();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = &mut ctrl_c => break,
        }
        let elapsed = started.elapsed();
        if let Some(fault) = fault_pending
            && elapsed >= Duration::from_secs(args.fault_at)
        {
            if let Some(w) = worlds.iter().find(|w| w.name() == args.fault_world) {
                w.set_fault(Some(fault));
                println!(
                    "{:>6.1}s  FAULT     {fault} injected into {}",
                    elapsed.as_secs_f64(),
                    w.name()
                );
            }
            fault_pending = None;
        }
        printer.alerts(elapsed);
        pages.print(elapsed);
        incidents.print(elapsed);
        printer.summary_every(elapsed, Duration::from_secs(5));
        if args
            .duration
            .is_some_and(|d| elapsed >= Duration::from_secs(d))
        {
            break;
        }
    }

    incidents.print(started.elapsed());
    let pm_dir = args
        .postmortem_dir
        .clone()
        .or_else(|| args.data_dir.clone())
        .unwrap_or_else(std::env::temp_dir);
    for path in incidents.postmortems(&pm_dir) {
        println!("postmortem written: {}", path.display());
    }
    println!("stopping…");
    let _ = stop_tx.send(true);
    for w in worlds {
        w.stopped().await;
    }
    for a in agents {
        if let Err(e) = a.wait().await {
            eprintln!("agent: {e}");
        }
    }
    drop(printer);
    let _ = collector_stop_tx.send(true);
    collector.wait().await?;
    let _ = receiver.await;
    pages.print(started.elapsed());
    Ok(ExitCode::SUCCESS)
}

/// `data/name`, written with the shipped `text` unless it is there
/// already (an edited copy from an earlier run is kept).
fn shipped(data: &std::path::Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = data.join(name);
    if !path.exists() {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path)
}

/// The demo's admin token: the user's own, or one made for this run.
pub enum Admin {
    Given(String),
    Generated(String),
}

impl Admin {
    pub fn token(&self) -> &str {
        match self {
            Admin::Given(t) | Admin::Generated(t) => t,
        }
    }

    /// The token as printed commands carry it: the user chose theirs and
    /// has it; only a token made here is shown, for this loopback-only run.
    pub fn shown(&self) -> String {
        match self {
            Admin::Given(_) => "$LIVEOPS_TOKEN".to_owned(),
            Admin::Generated(t) => t.clone(),
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
