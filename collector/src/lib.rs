//! The liveops collector: the one place that knows how every world is doing.
//!
//! Agents post a report per world every second. The collector turns them
//! into SLO time series, evaluates multi-window burn-rate alerts and acute
//! alerts (world down, tick stalled, failure bursts, silent agents), and
//! delivers notifications. State is journaled in sled, so alerts and SLO
//! history survive a restart.
//!
//! # Layout
//!
//! - [`slo`]: pure SLO math: sampling reports, time series, burn rates, budgets.
//! - [`alert`]: pure alert rules and the book of firing alerts.
//! - [`overrides`]: operator overrides and mitigations: the pure book, the
//!   service that persists and audits it, the push stream to agents.
//! - [`events`]: the one stream of domain events (actions, reloads,
//!   alerts): the audit log records each before it counts, the rest
//!   subscribe.
//! - [`audit`]: the hash-chained, tamper-evident audit log.
//! - [`state`]: the live state: accept a report, evaluate, checkpoint.
//! - [`store`]: the sled journal and checkpoints.
//! - [`notify`]: delivery channels (JSON-lines file, stdout, webhook,
//!   PagerDuty, Alertmanager, Slack, Discord, email).
//! - [`oncall`]: the on-call schedule published as a page, JSON and iCal.
//! - [`paging`]: routing, escalation, silences, handoff notices: from an
//!   alert to the person who acts on it (with a paging policy configured).
//! - [`reload`]: hot reload of `oncall.toml` and `paging.toml`.
//! - [`relay`]: operator commands (snapshots, and the rollbacks to come)
//!   relayed to a world's agent over the stream it holds open.
//! - [`incident`]: incidents: the lifecycle, severity, people and the
//!   timeline, opened by hand or from a page and fed by the event stream.
//! - [`chat`]: the incident chat bot: Slack and Discord requests verified,
//!   `/incident …` commands run as the mapped person.
//! - [`http`]: the HTTP part every subsystem plugs its routes into;
//!   [`auth`]: tokens and roles.
//! - [`runbooks`]: the runbooks every alert links to; [`public_url`]: the
//!   base of every link sent.
//! - [`telemetry`]: the collector's own metrics.
//! - [`run`]: wiring it together: [`Collector::start`] and shutdown.

pub mod alert;
pub mod audit;
pub mod auth;
pub mod background;
pub mod chat;
pub mod comms;
pub mod events;
pub mod http;
pub mod incident;
pub mod journal;
pub mod notify;
pub mod oncall;
pub mod overrides;
pub mod paging;
pub mod public;
pub mod public_url;
pub mod relay;
pub mod reload;
pub mod run;
pub mod runbooks;
pub mod slo;
pub mod state;
pub mod store;
pub mod telemetry;

use std::path::PathBuf;

pub use run::Collector;

#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot use data dir {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state store: {0}")]
    Store(#[from] sled::Error),
    #[error("report journal: {0}")]
    Journal(String),
    #[error("state store encoding: {0}")]
    Encoding(#[from] serde_json::Error),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the {0} task failed: {1}")]
    Task(&'static str, String),
    #[error("audit log {}: {source}", path.display())]
    Audit {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The audit log was replaced or altered behind the collector's back:
    /// nothing more is appended until an admin reseals it.
    #[error("the audit log is broken: {0}")]
    AuditBroken(String),
    /// The comms templates do not load (each error on a line).
    #[error("{0}")]
    Comms(String),
    /// The flag catalogue or the mitigations file is invalid.
    #[error("{0}")]
    Config(#[from] liveops_config::ConfigErrors),
}

pub use liveops_protocol::time::{now_ms, rfc3339};
