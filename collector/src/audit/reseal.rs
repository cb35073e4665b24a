//! Resealing a broken log: the way back to a trusted chain that hides
//! nothing. The damaged file is kept beside the log under a new name, and
//! a new file starts with a `reseal` entry that continues the chain the
//! collector itself recorded (its head), names the kept file and its
//! SHA-256, says what was wrong, who resealed and why. `audit verify`
//! accepts a log that starts with such an entry.

use std::fs::OpenOptions;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Audit, Draft, Entry, integrity};
use crate::auth::Caller;
use crate::store::Store;
use crate::{CollectorError, now_ms};

impl Audit {
    /// Reseals the log if it is broken; `None` if there was nothing to do.
    /// Blocking.
    pub fn reseal(
        &self,
        store: &Store,
        caller: &Caller,
        reason: &str,
    ) -> Result<Option<Entry>, CollectorError> {
        let mut inner = self.lock();
        if inner.broken.is_none()
            && let Err(why) = integrity::check(&self.path, &inner.id)
        {
            self.mark_broken(&mut inner, why);
        }
        let Some(why) = inner.broken.clone() else {
            return Ok(None);
        };
        let io = |source| CollectorError::Audit {
            path: self.path.clone(),
            source,
        };
        let damaged = match std::fs::read(&self.path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let kept = self
            .path
            .with_extension(format!("jsonl.broken-{}", now_ms()));
        if damaged.is_some() {
            std::fs::rename(&self.path, &kept).map_err(io)?;
        }
        // The damaged file is out of the way: this is a new, empty log.
        inner.file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        inner.len = 0;
        inner.id = integrity::FileId::of_handle(&inner.file).map_err(io)?;
        inner.broken = None;
        let before = match &damaged {
            Some(bytes) => json!({
                "problem": why,
                "kept_as": kept.display().to_string(),
                "sha256": hex::encode(Sha256::digest(bytes)),
                "bytes": bytes.len(),
            }),
            None => json!({ "problem": why, "kept_as": null }),
        };
        let draft = Draft {
            actor: caller.name.clone(),
            role: caller.role.as_str().to_owned(),
            action: "reseal",
            id: format!("reseal-{}", inner.head.seq + 1),
            subject: super::FILE.to_owned(),
            scope: "audit log".to_owned(),
            reason: reason.to_owned(),
            before,
            after: json!({ "continues_from_seq": inner.head.seq }),
        };
        let entry = self.append_locked(&mut inner, store, vec![draft])?.pop();
        if entry.is_some() {
            self.metrics.audit_chain_ok(true);
        }
        drop(inner);
        store.flush()?;
        Ok(entry)
    }
}
