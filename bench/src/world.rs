//! A simulated world (`liveops-simworld`) whose tick loop stalls on cue.
//!
//! The fault is switched in this process, so the instant written out is the
//! instant the stall began, on the same clock the sink stamps pages with.

use std::net::SocketAddr;
use std::time::Duration;

use liveops_client::Target;
use liveops_simworld::{Fault, World, WorldConfig};

#[derive(clap::Args)]
pub struct Args {
    /// The agent's DogStatsD address.
    #[arg(long)]
    statsd: SocketAddr,
    /// Where the world serves its health contract.
    #[arg(long, default_value = "127.0.0.1:0")]
    http: SocketAddr,
    /// Stall the ticks this long after start (fractions allowed).
    #[arg(long)]
    stall_after: f64,
    /// Keep running this long after the stall, then exit.
    #[arg(long, default_value_t = 120.0)]
    then: f64,
    #[arg(long, default_value_t = 100)]
    tick_ms: u64,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let mut cfg = WorldConfig::new("bench", Target::Udp(a.statsd));
    cfg.tick_interval = Duration::from_millis(a.tick_ms);
    let listener = tokio::net::TcpListener::bind(a.http).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let world = World::start(cfg, listener, async {
        let _ = stop_rx.await;
    })
    .await?;
    println!(
        "{}",
        serde_json::json!({ "url": world.url(), "started_ms": crate::unix_ms() })
    );
    tokio::time::sleep(Duration::from_secs_f64(a.stall_after)).await;
    world.set_fault(Some(Fault::TickStall));
    let fault_ms = crate::unix_ms();
    println!(
        "{}",
        serde_json::json!({ "fault_ms": fault_ms, "ticks": world.ticks() })
    );
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs_f64(a.then)) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    let _ = stop_tx.send(());
    world.stopped().await;
    Ok(())
}
