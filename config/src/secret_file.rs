//! Secrets kept in files of their own (a signing secret, a webhook URL),
//! never in a config file's text: read once at start, trimmed, refused
//! when empty, not a regular file (a FIFO would block the start) or larger
//! than any secret is.

use std::path::Path;

use crate::error::{ConfigErrors, Diagnostic};
use crate::model::Secret;

const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// The secret in `path`, the file `key` names; errors name both, never
/// the content.
pub fn read(path: &Path, key: &str) -> Result<Secret, ConfigErrors> {
    let fail = |message: String| {
        ConfigErrors(vec![Diagnostic {
            file: path.display().to_string(),
            position: None,
            message,
        }])
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read {key}: {e}")))?;
    if !meta.is_file() {
        return Err(fail(format!("{key} is not a regular file")));
    }
    if meta.len() > MAX_SECRET_BYTES {
        return Err(fail(format!("{key} is larger than 64 KiB: not a secret")));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read {key}: {e}")))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(fail(format!("{key} is empty")));
    }
    Ok(Secret(secret.to_owned()))
}
