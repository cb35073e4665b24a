//! Taking or refusing parts one by one, each refusal named by its path.

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::report::RefusedPart;

/// Whether a part read whole passes its check; refused with its path
/// otherwise.
pub(super) fn keep<T>(
    v: &T,
    path: &str,
    refused: &mut Vec<RefusedPart>,
    check: impl Fn(&T) -> Result<(), String>,
) -> bool {
    check(v)
        .map_err(|reason| {
            refused.push(RefusedPart {
                part: path.to_owned(),
                reason,
            })
        })
        .is_ok()
}

/// A list read whole, each item kept or refused on its own (the path
/// is only formatted for a refused one).
pub(super) fn retain<T>(
    items: &mut Vec<T>,
    path: &str,
    refused: &mut Vec<RefusedPart>,
    check: impl Fn(&T) -> Result<(), String>,
) {
    let mut i = 0;
    items.retain(|item| {
        let outcome = check(item);
        if let Err(reason) = &outcome {
            refused.push(RefusedPart {
                part: format!("{path}[{i}]"),
                reason: reason.clone(),
            });
        }
        i += 1;
        outcome.is_ok()
    });
}

/// One part: decoded, then checked; refused with its path otherwise.
pub(super) fn part<T: DeserializeOwned>(
    raw: &RawValue,
    path: &str,
    refused: &mut Vec<RefusedPart>,
    check: impl Fn(&T) -> Result<(), String>,
) -> Option<T> {
    let outcome = serde_json::from_str::<T>(raw.get())
        .map_err(|e| e.to_string())
        .and_then(|v| check(&v).map(|()| v));
    match outcome {
        Ok(v) => Some(v),
        Err(reason) => {
            refused.push(RefusedPart {
                part: path.to_owned(),
                reason,
            });
            None
        }
    }
}

/// A list of parts, each taken or refused on its own. A list that is not
/// an array is refused whole.
pub(super) fn list<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    path: &str,
    refused: &mut Vec<RefusedPart>,
    check: impl Fn(&T) -> Result<(), String>,
) -> Vec<T> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let items: Vec<&RawValue> = match serde_json::from_str(raw.get()) {
        Ok(items) => items,
        Err(e) => {
            refused.push(RefusedPart {
                part: path.to_owned(),
                reason: format!("not a list: {e}"),
            });
            return Vec::new();
        }
    };
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| part(item, &format!("{path}[{i}]"), refused, &check))
        .collect()
}
