//! The contracts between the pieces of liveops, as plain data.
//!
//! Everything that crosses a process boundary is defined here so that the
//! agent, the collector, the CLI and game-side clients agree by construction.
//!
//! # Layout
//!
//! - [`signal`]: the default DogStatsD signal names a game sends (the
//!   integration contract documented in the README).
//! - [`histogram`]: fixed-bucket latency histograms that add up across
//!   worlds and time, so the collector can compute fleet-wide SLIs exactly.
//! - [`report`]: what an agent sends the collector every interval;
//!   [`decode`]: reading one part by part, so a bad part costs only itself.
//! - [`flags`]: flag endpoints and the flag-file reload record.
//! - [`sse`]: the server-sent events both flag streams speak.
//! - [`notification`]: one alert as delivered to a pager, shaped like an
//!   Alertmanager alert.
//! - [`page`]: what the paging policy asks a delivery channel to do
//!   (PagerDuty, Alertmanager, Slack, Discord, email, webhook, file).
//! - [`time`], [`name`], [`backoff`]: the rules every part shares for
//!   writing times, naming worlds and retrying a peer.

pub mod backoff;
pub mod command;
pub mod decode;
pub mod flags;
pub mod histogram;
pub mod name;
pub mod notification;
pub mod page;
pub mod report;
pub mod signal;
pub mod sse;
pub mod time;

pub use flags::{FlagChange, FlagReload};
pub use histogram::Histogram;
pub use notification::{AlertStatus, Notification};
pub use page::{
    Delivery, DeliveryReport, FiringPage, Notice, PageAction, Recipient, Severity, ShiftSpan,
};
pub use report::{
    CounterSeries, GaugeSeries, Health, HistogramSeries, Losses, RefusedPart, Report, Tags,
};
