//! Everything needed to answer any flag for any request: the file's flags,
//! the operator overrides, and whether the file was ever valid. The agent
//! serves one over OFREP and ships it whole to game servers, which keep it
//! in memory and evaluate locally.

use std::collections::HashMap;
use std::time::SystemTime;

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
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    doc: SnapshotDoc,
    /// Flag key → (index into `doc.flags`, that flag's overrides).
    index: HashMap<String, (usize, Vec<Override>)>,
}

impl Snapshot {
    pub fn new(doc: SnapshotDoc) -> Self {
        let mut index: HashMap<String, (usize, Vec<Override>)> = doc
            .flags
            .iter()
            .enumerate()
            .map(|(i, f)| (f.key.clone(), (i, Vec::new())))
            .collect();
        for o in &doc.overrides {
            // An override for a flag the file does not (or no longer)
            // defines has nothing to apply to; it is kept in the doc so it
            // comes back if the flag does.
            if let Some((_, list)) = index.get_mut(&o.flag) {
                list.push(o.clone());
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
        let Some((i, overrides)) = self.index.get(key) else {
            return Err(match &self.doc.fail_safe {
                Some(why) => EvalError::ParseError(why.clone()),
                None => EvalError::FlagNotFound,
            });
        };
        let flag = &self.doc.flags[*i];
        Ok(if self.doc.fail_safe.is_some() {
            evaluate_fail_safe(flag, overrides, ctx, now)
        } else {
            evaluate(flag, overrides, ctx, now)
        })
    }
}
