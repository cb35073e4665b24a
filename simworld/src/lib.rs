//! A small simulated strategy-game world that speaks every liveops contract
//! and can be told to misbehave.
//!
//! It is what `liveops demo` runs, what the integration tests drive, and the
//! reference for game teams wiring their own servers to liveops: a game loop
//! on its own thread reporting each tick and each player action over
//! DogStatsD with [`liveops_client`], and a few HTTP endpoints beside it:
//! health, faults, and the world's persistent state (accounts, players,
//! villages) for snapshots and targeted rollback.
//!
//! ```no_run
//! use liveops_simworld::{Fault, World, WorldConfig};
//! use liveops_client::Target;
//!
//! # async fn demo() -> std::io::Result<()> {
//! let statsd = Target::Udp("127.0.0.1:8125".parse().unwrap());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = async { tokio::signal::ctrl_c().await.unwrap_or(()) };
//! let world = World::start(WorldConfig::new("eu-1", statsd), listener, shutdown).await?;
//! println!("{} is up at {}", world.name(), world.url());
//! world.set_fault(Some(Fault::ErrorBurst));
//! world.stopped().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - `world.rs`: the simulation and one tick of it: villages produce,
//!   armies march, players act. Plain data that tests step directly; it
//!   makes the telemetry.
//! - `state/`: the world's persistent state (accounts, players, villages)
//!   that snapshots read and a rollback restores: typed entities and their
//!   JSON lines, the population generated from the seed, each tick's churn
//!   and the state faults, and the listing and restore endpoints.
//! - `traffic.rs`: simulated players: how many are online, what they do in
//!   a tick, and the DogStatsD lines that produces.
//! - `switches.rs`: the kill switches the world obeys, from the agent's
//!   flags through the Rust flag client.
//! - `ticker.rs`: the game loop thread that ticks the world on schedule,
//!   reports each tick, and stops on shutdown.
//! - [`faults`]: the misbehaviours a drill can switch on.
//! - [`http`]: the HTTP contract: health, fault admin, state listing and
//!   restore.
//! - `tests.rs`: the whole world driven over real UDP and HTTP.

pub mod banner;
pub mod faults;
pub mod http;
mod state;
mod switches;
mod ticker;
mod traffic;
mod world;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use liveops_client::flags::FlagClient;
use liveops_client::{Client, Target};

pub use faults::{Fault, ParseFaultError};
pub use http::{FAULT_PATH, RESTORE_PATH, STATE_PATH};

/// How to run one world.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// Shown in health answers and logs; the agent beside the world knows it
    /// by its own configuration, so telemetry lines do not carry it.
    pub name: String,
    /// Where DogStatsD lines go: the sidecar agent's listener.
    pub statsd: Target,
    /// Time between tick starts; must be above zero.
    pub tick_interval: Duration,
    /// Mean players online; the actual count drifts about ±10% around it.
    /// Traffic is proportional: 2,000 players make about 125 lines a second.
    pub players: u32,
    /// Seeds every random draw, so a run's player activity can be replayed.
    pub seed: u64,
    /// The agent's HTTP address (`http://127.0.0.1:9471`): the world then
    /// obeys its kill switches (attacks, trade, chat, purchases, logins),
    /// read every tick through the Rust flag client. None: all systems on.
    pub flags: Option<String>,
    /// Players in the persistent state, each with one account and
    /// `villages_per_player` villages. Separate from `players` (the online
    /// crowd making telemetry); [`WorldConfig::new`] starts them equal. The
    /// state is generated at start: 250,000 players (a million entities)
    /// take about a second and a few hundred MB.
    pub state_players: u32,
    /// Villages each player of the state owns.
    pub villages_per_player: u32,
    /// Villages changed each tick by normal play: production, and about one
    /// tick in four a trade between villages of two owners. 0 freezes the
    /// state (the state faults still change it).
    pub state_churn: u32,
}

impl WorldConfig {
    /// 100 ms ticks, 2,000 players, and a seed derived from the name so that
    /// worlds started side by side differ while each replays the same way.
    pub fn new(name: impl Into<String>, statsd: Target) -> WorldConfig {
        let name = name.into();
        let seed = fnv1a(name.as_bytes());
        WorldConfig {
            name,
            statsd,
            tick_interval: Duration::from_millis(100),
            players: 2000,
            seed,
            flags: None,
            state_players: 2000,
            villages_per_player: 2,
            state_churn: 5,
        }
    }
}

/// A stable hash (unlike std's hasher, whose output may change between Rust
/// releases, which would change every default seed).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What the tick thread and the HTTP handlers both see.
#[derive(Debug)]
struct Shared {
    name: String,
    fault: faults::FaultSwitch,
    ticks: AtomicU64,
    players_online: AtomicU32,
    state: state::SharedStore,
    banner: banner::Showing,
}

impl Shared {
    fn set_fault(&self, fault: Option<Fault>) {
        let before = self.fault.set(fault);
        if before != fault {
            let name = |f: Option<Fault>| f.map_or("none", Fault::name);
            tracing::info!(world = %self.name, from = name(before), to = name(fault), "fault changed");
        }
    }
}

/// A running world: its tick thread and its HTTP server.
///
/// Dropping the handle does not stop the world; the `shutdown` future given
/// to [`World::start`] does.
#[derive(Debug)]
pub struct World {
    shared: Arc<Shared>,
    exploit_suspect: Option<String>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<io::Result<()>>,
    ticker: std::thread::JoinHandle<()>,
}

impl World {
    /// Starts the tick thread and serves the HTTP contract on `listener`
    /// until `shutdown` resolves. Call it within a Tokio runtime.
    ///
    /// The fault and state endpoints have no authentication yet: bind
    /// `listener` to loopback (a warning is logged otherwise).
    pub async fn start(
        config: WorldConfig,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<World> {
        if config.tick_interval.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "tick_interval must be above zero",
            ));
        }
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(world = %config.name, %addr, "world HTTP is not on loopback; its fault and state endpoints have no authentication");
        }
        let (store, churn, suspect) = state::start(&config).await?;
        let stats = Client::builder(config.statsd.clone()).build()?;
        let shared = Arc::new(Shared {
            name: config.name,
            fault: faults::FaultSwitch::default(),
            ticks: AtomicU64::new(0),
            players_online: AtomicU32::new(config.players),
            banner: banner::Showing::default(),
            state: std::sync::RwLock::new(store),
        });

        // Nothing is ever sent on this channel: the tick thread stops when
        // `stop` is dropped, which happens when shutdown fires, and also if
        // the server ends for any other reason, so the thread cannot outlive
        // the world.
        let (stop, stopped) = std::sync::mpsc::channel();
        let schedule = ticker::Schedule {
            interval: config.tick_interval,
            players: config.players,
            seed: config.seed,
            flags: match &config.flags {
                Some(agent) => {
                    Some(FlagClient::connect(agent, &shared.name).map_err(std::io::Error::other)?)
                }
                None => None,
            },
            churn,
        };
        let ticker = ticker::spawn(schedule, Arc::clone(&shared), stats, stopped)?;
        let app = http::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let shutdown = async move {
                shutdown.await;
                drop(stop);
            };
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        });
        Ok(World {
            shared,
            exploit_suspect: suspect.map(|n| format!("p{n}")),
            addr,
            server,
            ticker,
        })
    }

    /// The address the HTTP contract is served on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of the HTTP contract, e.g. `http://127.0.0.1:40123`; a
    /// wildcard bind is given as loopback so the URL can be dialled.
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        match addr.ip() {
            ip if !ip.is_unspecified() => {}
            std::net::IpAddr::V4(_) => addr.set_ip(Ipv4Addr::LOCALHOST.into()),
            std::net::IpAddr::V6(_) => addr.set_ip(Ipv6Addr::LOCALHOST.into()),
        }
        format!("http://{addr}")
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Switches a fault on (`Some`) or off (`None`), effective from the next
    /// tick and the next health request.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.shared.set_fault(fault);
    }

    pub fn fault(&self) -> Option<Fault> {
        self.shared.fault.get()
    }

    /// The player [`Fault::Exploit`] runs for (`p{seed % state_players}`),
    /// or None when the state has no players.
    pub fn exploit_suspect(&self) -> Option<String> {
        self.exploit_suspect.clone()
    }

    /// Ticks completed so far.
    pub fn ticks(&self) -> u64 {
        self.shared.ticks.load(Ordering::Relaxed)
    }

    /// Waits for the HTTP server and the tick thread to end, which they do
    /// once `shutdown` has resolved. The telemetry client's last lines are
    /// sent from its own thread as the tick thread drops it.
    pub async fn stopped(self) {
        let name = &self.shared.name;
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(world = %name, %error, "world HTTP server failed"),
            Err(error) => tracing::error!(world = %name, %error, "world HTTP server panicked"),
        }
        // Joining blocks, so it happens off the async worker threads.
        let ticker = self.ticker;
        if !matches!(
            tokio::task::spawn_blocking(move || ticker.join()).await,
            Ok(Ok(()))
        ) {
            tracing::error!(world = %name, "world tick thread panicked");
        }
    }
}
