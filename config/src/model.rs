//! Validated configuration: types that cannot hold an invalid value.
//!
//! Produced from the raw TOML structs in [`crate::raw`] by [`crate::load`];
//! every consumer (agent, collector, CLI) works only with these.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use liveops_protocol::Tags;

pub use crate::oncall::{OnCallRole, OncallConfig};

/// A secret read from config or the environment; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------- agent

#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// The world this agent sits beside; label of everything it reports.
    pub world: String,
    /// Base URL of the collector.
    pub collector: String,
    /// Bearer token for reports (flag or `LIVEOPS_AGENT_TOKEN`; never in a file).
    pub token: Option<Secret>,
    /// A file holding the token, read at start.
    pub token_file: Option<PathBuf>,
    /// Base URL of the game's HTTP contract; no health probe without it.
    pub game: Option<String>,
    pub statsd_udp: Option<SocketAddr>,
    pub statsd_unix: Option<PathBuf>,
    /// Where `/metrics` and `/healthz` are served.
    pub http: SocketAddr,
    pub data_dir: PathBuf,
    pub report_interval: Duration,
    pub health: HealthConfig,
    pub ingest: IngestConfig,
    pub spool: SpoolConfig,
    pub flags: FlagsConfig,
    /// How the `http` server treats connections (`[http]`).
    pub http_server: HttpConfig,
    /// Snapshots of the world's state (`[snapshots]`).
    pub snapshots: SnapshotsConfig,
}

/// When the agent snapshots the world's state and what it keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotsConfig {
    /// The cadence; `None` (`"off"`): only on demand and before deploys.
    pub every: Option<Duration>,
    /// Every snapshot younger than this is kept…
    pub keep_all: Duration,
    /// …then the newest of each hour up to this age…
    pub keep_hourly: Duration,
    /// …then the newest of each day up to this age; nothing older.
    pub keep_daily: Duration,
    /// The longest a snapshot may take to read from the game.
    pub timeout: Duration,
}

/// How an HTTP server treats its connections (`[http]`, in both files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// A request head must arrive whole within this of its first byte.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight (kept alive, or not yet sent
    /// a byte) is closed after this.
    pub idle_timeout: Duration,
    /// Open connections at most; also capped at start below the process's
    /// descriptor limit. At the limit the longest-idle ones are closed.
    pub max_connections: usize,
}

/// The flag file the agent serves over OFREP and hot-reloads.
#[derive(Clone, Debug)]
pub struct FlagsConfig {
    /// No file: the agent serves no flags (every key is `FLAG_NOT_FOUND`).
    pub file: Option<PathBuf>,
    /// Fallback re-read for when change events do not arrive (network and
    /// some overlay filesystems); a change is normally seen in milliseconds.
    pub poll_interval: Duration,
    /// Larger files are refused unread.
    pub max_file_bytes: u64,
}

#[derive(Clone, Debug)]
pub struct HealthConfig {
    pub probe_interval: Duration,
    pub probe_timeout: Duration,
    /// Consecutive failed probes before the world counts as down.
    pub failures_before_down: u32,
    /// A world is stalled after `stall_factor` × its usual tick interval
    /// without a tick, and never sooner than `stall_min`.
    pub stall_factor: f64,
    pub stall_min: Duration,
}

#[derive(Clone, Debug)]
pub struct IngestConfig {
    /// Distinct series held per interval; lines for more are counted and dropped.
    pub max_series: usize,
    /// Socket receive buffer asked of the kernel (capped by `rmem_max`).
    pub recv_buffer_bytes: usize,
}

#[derive(Clone, Debug)]
pub struct SpoolConfig {
    /// Reports kept while the collector is unreachable; oldest dropped first.
    pub max_reports: u64,
    /// Attempts at one report answered 5xx (or with an unreadable
    /// acknowledgement) before it is moved to the dead-letter tree.
    pub max_attempts: u32,
    /// Dead letters kept; oldest dropped first.
    pub max_dead_letters: u64,
}

// ------------------------------------------------------------ collector

#[derive(Clone, Debug)]
pub struct CollectorConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Base of the links in notifications (`generatorURL`, runbooks); `None`
    /// is derived from the address bound (`liveops_collector::public_url`).
    pub public_url: Option<String>,
    /// One more token accepted from agents (`--agent-token`, `LIVEOPS_AGENT_TOKEN`).
    pub agent_token: Option<Secret>,
    /// An agent silent this long raises the no-data alert.
    pub no_data_after: Duration,
    pub evaluation_interval: Duration,
    pub tokens: Vec<TokenEntry>,
    pub alerting: AlertingConfig,
    pub slos: Vec<Slo>,
    pub notifiers: Vec<NotifierConfig>,
    /// The flag catalogue operator overrides are checked against; `None`
    /// is the shipped `config/flags.toml`.
    pub flags_file: Option<PathBuf>,
    /// The mitigation bundles; `None` is the shipped `config/mitigations.toml`.
    pub mitigations_file: Option<PathBuf>,
    /// The on-call schedule; `None` is the shipped `config/oncall.toml`.
    pub oncall_file: Option<PathBuf>,
    /// The paging policy; `None` sends every alert to every notifier.
    pub paging_file: Option<PathBuf>,
    /// How the API server treats connections (`[http]`).
    pub http_server: HttpConfig,
    /// How pages join incidents and how their severity is rated.
    pub incidents: crate::incidents::IncidentsConfig,
    /// How incidents are told to players (`[comms]`).
    pub comms: crate::comms::CommsConfig,
    /// The incident chat bot (`[chat]`): Slack and Discord.
    pub chat: crate::chat::ChatConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// May send reports, nothing else.
    Agent,
    Viewer,
    Responder,
    /// A responder who may also speak to players (send comms).
    Comms,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "agent" => Role::Agent,
            "viewer" => Role::Viewer,
            "responder" => Role::Responder,
            "comms" => Role::Comms,
            "admin" => Role::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Comms => "comms",
            Role::Admin => "admin",
        }
    }

    /// Whether a token of this role may act where `needed` is required.
    /// `agent` is a separate capability, not a rung of the ladder; `admin`
    /// may do everything.
    pub fn allows(self, needed: Role) -> bool {
        match (self, needed) {
            (Role::Admin, _) => true,
            (Role::Agent, need) => need == Role::Agent,
            (_, Role::Agent) => false,
            (have, need) => have >= need,
        }
    }
}

/// An API token, stored as the SHA-256 of the token text.
#[derive(Clone, Debug)]
pub struct TokenEntry {
    pub name: String,
    pub role: Role,
    pub sha256: [u8; 32],
}

#[derive(Clone, Debug)]
pub struct AlertingConfig {
    pub burn_rates: Vec<BurnRateRule>,
    /// Events a burn-rate long window needs before it may fire, so a quiet
    /// world does not page on one bad request.
    pub min_events: f64,
    pub acute: AcuteConfig,
}

/// A multi-window burn-rate rule: fires when both windows burn faster than
/// `factor` times the rate that would exactly spend the budget in the period.
#[derive(Clone, Debug, PartialEq)]
pub struct BurnRateRule {
    pub severity: Severity,
    pub long: Duration,
    pub short: Duration,
    pub factor: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Ticket,
    Page,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// Alerts that page at once on total failure, before any burn rate can.
#[derive(Clone, Debug, PartialEq)]
pub struct AcuteConfig {
    /// Window over which a failure ratio is measured.
    pub window: Duration,
    /// Events the window needs before the ratio counts.
    pub min_events: f64,
    /// Failure share (0..1) that pages.
    pub ratio: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub name: String,
    pub description: String,
    /// Target good share, 0..1 (99.9 % in the file is 0.999 here).
    pub objective: f64,
    pub period: Duration,
    pub owner: String,
    pub runbook: String,
    pub kind: SloKind,
    /// Page at once when most of the acute window's events fail (ratio) or
    /// are slow (latency); `None` leaves the SLO to burn-rate alerts.
    pub acute: Option<AcuteConfig>,
    /// Page (`TickBacklog`) when a world's overdue work stays above a
    /// threshold and keeps growing for a window.
    pub backlog: Option<BacklogAlert>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BacklogAlert {
    /// The gauge of overdue work (`tick.backlog`); tag sets are summed.
    pub metric: String,
    /// Pages when every sample of the window is above this...
    pub threshold: f64,
    /// ...and the last one is above the first.
    pub window: Duration,
    /// The runbook of this alert, if not the SLO's.
    pub runbook: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SloKind {
    /// Share of observed time the world was up (probe healthy, ticking).
    Uptime,
    /// good / total from counters.
    Ratio { total: Selector, good: GoodEvents },
    /// Share of `metric` events at or under `threshold_ms` (a bucket bound).
    Latency { metric: Selector, threshold_ms: f64 },
}

/// Which series count: a metric name and tags they must carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Selector {
    pub metric: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GoodEvents {
    Good(Selector),
    /// Good = total − bad.
    Bad(Selector),
}

#[derive(Clone, Debug, PartialEq)]
pub enum NotifierConfig {
    /// One JSON object per line, appended and flushed per notification.
    File {
        path: PathBuf,
    },
    Stdout,
    /// POST of one JSON object per notification, retried with backoff.
    Webhook {
        /// The `notifier` label of its metrics and its log lines: the
        /// `name` key, or `webhook-HOST` (`-2`, `-3` when a host has several).
        name: String,
        url: String,
        max_attempts: u32,
        timeout: Duration,
    },
    /// PagerDuty Events API v2.
    PagerDuty {
        name: String,
        /// The enqueue endpoint (EU accounts and tests set their own).
        url: String,
        /// Used when a delivery's recipient has no routing key of its own.
        routing_key: Option<Secret>,
        retry: RetryConfig,
    },
    /// Alertmanager's `/api/v2/alerts`, on every listed instance.
    Alertmanager {
        name: String,
        /// Base URLs (without `/api/v2/alerts`).
        urls: Vec<String>,
        /// How often the firing alerts are sent again, so Alertmanager's
        /// `resolve_timeout` never resolves an alert that still fires.
        resend: Duration,
        retry: RetryConfig,
    },
    /// A Slack incoming webhook; the URL is its secret.
    Slack {
        name: String,
        url: Secret,
        retry: RetryConfig,
    },
    /// A Discord webhook; the URL is its secret.
    Discord {
        name: String,
        url: Secret,
        retry: RetryConfig,
    },
    /// Email over SMTP.
    Email(EmailConfig),
}

impl NotifierConfig {
    /// The `notifier` label of its metrics and log lines, and the channel
    /// name a paging policy uses.
    pub fn name(&self) -> String {
        match self {
            Self::File { path } => format!("file:{}", path.display()),
            Self::Stdout => "stdout".to_owned(),
            Self::Webhook { name, .. }
            | Self::PagerDuty { name, .. }
            | Self::Alertmanager { name, .. }
            | Self::Slack { name, .. }
            | Self::Discord { name, .. }
            | Self::Email(EmailConfig { name, .. }) => name.clone(),
        }
    }

    /// The `kind` key that made it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::File { .. } => "file",
            Self::Stdout => "stdout",
            Self::Webhook { .. } => "webhook",
            Self::PagerDuty { .. } => "pagerduty",
            Self::Alertmanager { .. } => "alertmanager",
            Self::Slack { .. } => "slack",
            Self::Discord { .. } => "discord",
            Self::Email(_) => "email",
        }
    }
}

/// How long a channel keeps trying one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// One request at most.
    pub timeout: Duration,
    /// From the first attempt: past it the delivery is reported failed.
    pub deadline: Duration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EmailConfig {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub from: String,
    /// The default recipient; a delivery's own address wins.
    pub to: Option<String>,
    pub starttls: StartTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub retry: RetryConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartTls {
    /// Plain SMTP (a relay on loopback).
    Off,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// STARTTLS or no delivery.
    Required,
}
