//! A simulated world with a large state and no churn, for the snapshot
//! benchmark: it changes only when the benchmark restores entities into it,
//! so "1 % changed" is exactly what the script wrote.

use std::net::SocketAddr;

use liveops_client::Target;
use liveops_simworld::{World, WorldConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Where the world serves its state contract.
    #[arg(long, default_value = "127.0.0.1:0")]
    http: SocketAddr,
    /// Players in the state: each brings an account and two villages, so
    /// 250,000 players make 1,000,000 entities.
    #[arg(long, default_value_t = 250_000)]
    players: u32,
    /// Where its telemetry goes (nothing need listen there).
    #[arg(long, default_value = "127.0.0.1:9")]
    statsd: SocketAddr,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let mut cfg = WorldConfig::new("bench", Target::Udp(a.statsd));
    cfg.state_players = a.players;
    cfg.state_churn = 0;
    cfg.players = 100;
    let listener = tokio::net::TcpListener::bind(a.http).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let world = World::start(cfg, listener, async {
        let _ = stop_rx.await;
    })
    .await?;
    println!("{}", serde_json::json!({ "url": world.url() }));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    let _ = stop_tx.send(());
    world.stopped().await;
    Ok(())
}
