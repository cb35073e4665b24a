//! The HTTP serving both liveops servers share: the collector's API and the
//! agent's `--http` port (OFREP for game servers, `/metrics`, `/healthz`).
//!
//! `axum::serve` keeps every connection until the client closes it: 2,000
//! idle keep-alive or half-sent (slowloris) connections held the collector's
//! descriptors until `/healthz` timed out on `accept: Too many open files`.
//! Here each connection is bounded:
//!
//! - **idle** (accepted or kept alive, no request in flight, no byte of the
//!   next request yet): closed after `idle_timeout`;
//! - **reading a head** (from its first byte): closed after
//!   `header_read_timeout`;
//! - **busy** (a request in flight, until its response body is sent, so a
//!   server-sent event stream is busy for as long as it runs): never cut.
//!
//! hyper 1's own `header_read_timeout` is one timer from the end of the last
//! exchange (or the accept) to the end of the next head, so on its own it
//! would either close kept-alive connections after 10 s or let a slow head
//! take 60 s; it is kept only as a backstop over both of ours.
//!
//! Connections are limited to `max_connections`, kept under the process's
//! descriptor limit. At the limit the longest-idle connection is closed to
//! make room, as nginx does, so a health check or an agent's report is
//! still served at once; only when every connection is busy does accepting
//! wait (the kernel's listen backlog holds newcomers meanwhile).
//!
//! # Layout
//!
//! - [`listen`]: binding with a large backlog, raising `RLIMIT_NOFILE`,
//!   the connection limit under it.
//! - `conn`: one connection: its phase, deadlines, the hyper connection.
//! - `evict`: the open connections and which one to close at the limit.
//! - `server`: the accept loop and graceful shutdown.

mod conn;
mod evict;
pub mod listen;
mod server;

pub use server::{ConnStats, Server};

#[cfg(test)]
mod tests;
