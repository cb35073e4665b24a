//! Alert rules and the book of active alerts.
//!
//! Pure, like [`crate::slo`]: every evaluation is
//!
//! ```text
//! candidates = burn_rate_alerts(engine, …) + acute_alerts(engine, …)
//! notifications = book.reconcile(candidates, now_ms, generator_url)
//! ```
//!
//! and the shell delivers the notifications and persists the book.
//!
//! # Layout
//!
//! - [`rules`]: [`Candidate`] and the multi-window burn-rate alerts
//!   (`ErrorBudgetBurn`, `page` or `ticket`).
//! - [`acute`]: alerts that page at once: `AgentSilent`, `WorldDown`,
//!   `TickStalled`, `HighFailureRatio`; [`backlog`]: `TickBacklog`;
//!   [`notifier`]: `NotifierFailing`.
//! - [`book`]: [`AlertBook`], which fires, keeps quiet and resolves.

pub mod acute;
pub mod backlog;
pub mod book;
pub mod notifier;
pub mod rules;

pub use acute::{WorldLive, acute_alerts};
pub use backlog::backlog_alert;
pub use book::{ActiveAlert, AlertBook, fingerprint};
pub use notifier::notifier_failing;
pub use rules::{Candidate, burn_rate_alerts, burn_rate_alerts_where};
