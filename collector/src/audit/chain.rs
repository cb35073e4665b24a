//! The audit log's hash chain, pure: how an entry's hash is computed and
//! how a whole log is verified. The CLI runs [`verify`] on what the API
//! returns, so a collector cannot vouch for its own log.
//!
//! `hash = sha256(prev ‖ canonical JSON of the entry without "hash")`, hex.
//! Canonical JSON has object keys sorted at every depth and no whitespace.
//! Hashing the parsed JSON rather than a typed struct means a field added
//! to a line by hand changes the hash too: nothing is silently dropped.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of `audit.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    /// The token's name, `agent:<id>`, or `collector` for expiry.
    pub actor: String,
    pub role: String,
    /// `mitigate`, `override`, `revert`, `expire`, `flag-reload`,
    /// `flag-reload-rejected`.
    pub action: String,
    /// `m-N`, `o-N`, or `report-N` (the agent's report sequence number).
    pub id: String,
    /// The mitigation, flag or flag file concerned.
    pub subject: String,
    pub scope: String,
    pub reason: String,
    pub before: Value,
    pub after: Value,
    pub prev: String,
    pub hash: String,
}

/// The last entry: kept apart from the file (in sled), so a cut-off tail
/// is noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

/// Where a log stops being trustworthy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit log broken at seq {seq}: {why}")]
pub struct Broken {
    pub seq: u64,
    pub why: String,
}

/// The hash of an entry given as JSON (its `hash` field ignored).
pub fn hash_of(entry: &Value) -> String {
    let mut without = entry.clone();
    if let Value::Object(m) = &mut without {
        m.remove("hash");
    }
    let prev = entry.get("prev").and_then(Value::as_str).unwrap_or("");
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical(&without).to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Fills in `prev` and `hash` for the entry after `head`.
pub fn seal(mut entry: Entry, head: &Head) -> Entry {
    entry.seq = head.seq + 1;
    entry.prev = head.hash.clone();
    entry.hash = String::new();
    let value = serde_json::to_value(&entry).unwrap_or(Value::Null);
    entry.hash = hash_of(&value);
    entry
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), canonical(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Checks every link of `entries` (each a parsed line, in file order) and
/// that the last one is `head`. Names the first seq that is edited,
/// missing, out of place or cut off.
pub fn verify(entries: &[Value], head: &Head) -> Result<(), Broken> {
    let mut prev = GENESIS.to_owned();
    let mut want = 1;
    // A resealed log starts where the collector's recorded chain had got
    // to; the entries before are kept aside, named in the reseal entry.
    if let Some(first) = entries.first()
        && first.get("action").and_then(Value::as_str) == Some("reseal")
        && let (Some(seq), Some(p)) = (
            first.get("seq").and_then(Value::as_u64),
            first.get("prev").and_then(Value::as_str),
        )
    {
        want = seq;
        prev = p.to_owned();
    }
    for e in entries {
        let broken = |why: String| Err(Broken { seq: want, why });
        let Some(seq) = e.get("seq").and_then(Value::as_u64) else {
            return broken("the line is not an audit entry (no seq)".into());
        };
        if seq > want {
            return broken(format!("missing: the entry after {} is {seq}", want - 1));
        }
        if seq < want {
            return broken(format!(
                "out of order: found seq {seq} where {want} belongs"
            ));
        }
        if e.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            return broken(format!(
                "its prev hash is not the hash of entry {}: an entry was rewritten or moved",
                want - 1
            ));
        }
        let hash = hash_of(e);
        if e.get("hash").and_then(Value::as_str) != Some(hash.as_str()) {
            return broken("edited: its content does not match its hash".into());
        }
        prev = hash;
        want += 1;
    }
    let last = want - 1;
    if head.seq > last {
        return Err(Broken {
            seq: last + 1,
            why: format!(
                "missing: the log ends at {last} but the collector recorded entries up to {} (the tail was cut off)",
                head.seq
            ),
        });
    }
    if head.seq < last {
        return Err(Broken {
            seq: head.seq + 1,
            why: format!(
                "unexpected: the collector recorded entries up to {} only",
                head.seq
            ),
        });
    }
    if head.hash != prev {
        return Err(Broken {
            seq: last,
            why: "its hash is not the one the collector recorded: the last entry was rewritten"
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
