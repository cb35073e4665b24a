//! Default signal names: what a game world sends over DogStatsD.
//!
//! A game that uses other names maps them in the collector's SLO config; these
//! are the names the shipped defaults, the simulated world and the Rust client
//! use.

/// Milliseconds one world tick took (`ms`, `h` or `d`). Its arrival is also the
/// tick heartbeat: no `tick.duration` for a while means the world is stalled.
pub const TICK_DURATION: &str = "tick.duration";
/// Scheduled events that are overdue (gauge).
pub const TICK_BACKLOG: &str = "tick.backlog";
/// One handled request (counter), tags `op:<name>` and `status:ok|error`.
pub const REQUEST: &str = "request";
/// One payment attempt (counter), tag `outcome:success|failure`.
pub const PAYMENT: &str = "payment";
/// Milliseconds one login/authentication took.
pub const AUTH_LATENCY: &str = "auth.latency";
/// Players connected right now (gauge).
pub const PLAYERS_ONLINE: &str = "players.online";

/// Path of the game's health endpoint, relative to the game's base URL.
pub const HEALTH_PATH: &str = "/liveops/v1/health";
