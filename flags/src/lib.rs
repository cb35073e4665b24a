//! Flags, scoped rules and operator overrides, and their evaluation.
//!
//! Pure and light (serde and a hasher), so every party agrees on every answer: the
//! config crate parses the flag file into [`model`], the collector builds
//! [`overrides`], the agent serves a [`snapshot`] over OFREP, and a game
//! server holds the same snapshot in memory and calls [`eval`] itself.

pub mod eval;
pub mod model;
pub mod overrides;
pub mod snapshot;
pub mod time;

pub use eval::{Context, Evaluation, Reason, Variant, bucket, evaluate};
pub use model::{Flag, FlagKind, FlagSet, FlagValue, Rule, Specificity};
pub use overrides::{Override, OverrideSet, Scope};
pub use snapshot::{EvalError, Snapshot, SnapshotDoc};

#[cfg(test)]
mod tests;
