//! Everything needed to answer any flag for any request: the file's flags,
//! the operator overrides, and whether the file was ever valid. The agent
//! serves one over OFREP and ships it whole to game servers, which keep it
//! in memory and evaluate locally.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::eval::{Context, Evaluation, evaluate, evaluate_fail_safe};
use crate::model::{Flag, FlagSet};
use crate::overrides::Override;

/// The wire and storage form of a [`Snapshot`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotDoc {
    /// Changes whenever any answer could change; the OFREP `ETag`.
    pub version: String,
    /// Set while no valid file was ever loaded: why (`file:line:col: …`).
    /// Flags are then served their `fail_safe` value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_safe: Option<String>,
    pub flags: Vec<Flag>,
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// Why a flag could not be evaluated (OpenFeature error codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    FlagNotFound,
    /// The file never parsed far enough to define this flag.
    ParseError(String),
}

impl EvalError {
    pub fn code(&self) -> &'static str {
        match self {
            EvalError::FlagNotFound => "FLAG_NOT_FOUND",
            EvalError::ParseError(_) => "PARSE_ERROR",
        }
    }
}

/// A [`SnapshotDoc`] indexed for lookups by key.
///
/// Built for a game's hot path as much as for the agent: keys hash with
/// foldhash (they come from the studio's own file, not from an attacker;
/// a few nanoseconds where SipHash takes twenty), and each flag notes
/// whether any of its rules or overrides expires, the only case where an
/// answer depends on the time, so [`Snapshot::evaluate_now`] reads the
/// clock only then.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    doc: SnapshotDoc,
    index: foldhash::HashMap<Box<str>, Entry>,
}

#[derive(Clone, Debug)]
struct Entry {
    /// Into `doc.flags`.
    flag: usize,
    overrides: Vec<Override>,
    /// Some rule or override of this flag expires.
    timed: bool,
}

impl Snapshot {
    pub fn new(doc: SnapshotDoc) -> Self {
        let mut index: foldhash::HashMap<Box<str>, Entry> = doc
            .flags
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let timed = f.rules.iter().any(|r| r.expires.is_some());
                let entry = Entry {
                    flag: i,
                    overrides: Vec::new(),
                    timed,
                };
                (f.key.as_str().into(), entry)
            })
            .collect();
        for o in &doc.overrides {
            // An override for a flag the file does not (or no longer)
            // defines has nothing to apply to; it is kept in the doc so it
            // comes back if the flag does.
            if let Some(e) = index.get_mut(o.flag.as_str()) {
                e.timed |= o.expires.is_some();
                e.overrides.push(o.clone());
            }
        }
        Self { doc, index }
    }

    pub fn doc(&self) -> &SnapshotDoc {
        &self.doc
    }

    pub fn version(&self) -> &str {
        &self.doc.version
    }

    pub fn flags(&self) -> &[Flag] {
        &self.doc.flags
    }

    pub fn flag_set(&self) -> FlagSet {
        FlagSet {
            flags: self.doc.flags.clone(),
        }
    }

    pub fn evaluate(
        &self,
        key: &str,
        ctx: &Context,
        now: SystemTime,
    ) -> Result<Evaluation<'_>, EvalError> {
        self.evaluate_with(key, ctx, || now)
    }

    /// As [`Snapshot::evaluate`] at the current time, reading the clock
    /// only for a flag with something that expires.
    #[inline]
    pub fn evaluate_now(&self, key: &str, ctx: &Context) -> Result<Evaluation<'_>, EvalError> {
        self.evaluate_with(key, ctx, SystemTime::now)
    }

    #[inline]
    fn evaluate_with(
        &self,
        key: &str,
        ctx: &Context,
        now: impl FnOnce() -> SystemTime,
    ) -> Result<Evaluation<'_>, EvalError> {
        let Some(e) = self.index.get(key) else {
            return Err(match &self.doc.fail_safe {
                Some(why) => EvalError::ParseError(why.clone()),
                None => EvalError::FlagNotFound,
            });
        };
        // Without an expiry anywhere in the flag, evaluation never looks
        // at the time: any instant gives the same answer.
        let now = if e.timed { now() } else { UNIX_EPOCH };
        let flag = &self.doc.flags[e.flag];
        Ok(if self.doc.fail_safe.is_some() {
            evaluate_fail_safe(flag, &e.overrides, ctx, now)
        } else {
            evaluate(flag, &e.overrides, ctx, now)
        })
    }
}
