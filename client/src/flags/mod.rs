//! Feature flags for Rust game servers, evaluated in process.
//!
//! A [`FlagClient`] holds the agent's whole flag snapshot (flags, scoped
//! rules, operator overrides) in memory and answers every read itself, with
//! the same pure evaluation the agent's OFREP endpoint uses, so a read costs
//! a hash lookup and no I/O. A background thread keeps the snapshot fresh:
//! it follows the agent's change stream and fetches the snapshot again
//! whenever its version moves, reconnecting with capped backoff after any
//! error. Until the first snapshot arrives every read returns the caller's
//! default; after that, an unreachable agent leaves the last snapshot in
//! force (operator overrides still expire on time: expiry is checked at
//! read time).
//!
//! ```no_run
//! use liveops_client::flags::FlagClient;
//!
//! let flags = FlagClient::connect("http://127.0.0.1:9471", "w1").unwrap();
//! flags.wait_ready(std::time::Duration::from_secs(2));
//! let ctx = flags.context().village("v-17").player("p-42").build();
//! if flags.bool("combat.attacks", &ctx, true) {
//!     // launch the attack
//! }
//! let cap = flags.int("trade.max_offers", flags.world_context(), 20);
//! # let _ = cap;
//! ```
//!
//! # Layout
//!
//! - [`FlagClient`] (`client.rs`): the typed reads and the handle whose drop
//!   stops the sync thread.
//! - [`FlagClientBuilder`] (`builder.rs`): where the agent is, the world,
//!   timeouts and backoff.
//! - [`ContextBuilder`] (`context.rs`): who is asking, world preset.
//! - `store.rs`: the snapshot readers load and the sync thread swaps.
//! - `sync.rs`, `backoff.rs`: the background thread (reading server-sent
//!   events with `liveops_protocol::sse`) and its reconnect delays.

mod builder;
mod client;
mod context;
mod store;
mod sync;

pub use builder::{FlagClientBuilder, FlagClientError};
pub use client::{Details, FlagClient, ReadError, Status};
pub use context::ContextBuilder;
pub use liveops_flags::{Context, FlagValue, Reason, Snapshot, SnapshotDoc};

#[cfg(test)]
mod fake_agent;
#[cfg(test)]
mod tests;
