//! The liveops agent: a sidecar beside one game world.
//!
//! It absorbs the world's DogStatsD telemetry, watches the world's health
//! and tick liveness, and reports to the collector every interval — at once
//! when the world goes down or stalls. Reports are spooled on disk first, so
//! a collector outage or an agent restart loses nothing. It serves the
//! world's kill switches and scoped flags over OFREP from a hot-reloaded
//! flag file, with the collector's operator overrides on top.
//!
//! # Layout
//!
//! - [`ingest`]: DogStatsD listeners (UDP, Unix datagram), parser, aggregator,
//!   tick heartbeat.
//! - [`health`]: the game health probe, stall detection, uptime accounting.
//! - [`report`]: building reports, the sled spool, delivery to the collector.
//! - [`flags`]: the flag file (watched, validated, persisted), operator
//!   overrides, OFREP and the snapshot and change-stream endpoints.
//! - [`http`]: `/metrics`, `/healthz` and the flag endpoints.
//! - [`telemetry`]: the agent's own metrics.
//! - [`run`]: wiring it together: [`Agent::start`] and shutdown.

pub mod commands;
pub mod flags;
pub mod follow;
pub mod health;
pub mod http;
pub mod ingest;
pub mod report;
pub mod run;
pub mod snapshot;
pub mod telemetry;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use run::Agent;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot use data dir {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("spool: {0}")]
    Spool(#[from] sled::Error),
    #[error("dead letters: {0}")]
    DeadLetter(String),
    #[error("cannot encode a report: {0}")]
    Encode(serde_json::Error),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Flags(#[from] flags::FlagsError),
    #[error("the {0} task failed: {1}")]
    Task(&'static str, String),
}

impl AgentError {
    pub(crate) fn bind(what: &'static str, addr: impl ToString, source: std::io::Error) -> Self {
        AgentError::Bind {
            what,
            addr: addr.to_string(),
            source,
        }
    }
}

/// Addresses the agent actually listens on (ports resolved when 0 was asked).
#[derive(Clone, Debug)]
pub struct Bound {
    pub http: SocketAddr,
    pub statsd_udp: Option<SocketAddr>,
}
