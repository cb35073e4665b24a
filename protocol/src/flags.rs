//! Flag traffic between agent, collector and game servers: the paths, and
//! the record of each flag-file reload the agent reports for the audit log.

use serde::{Deserialize, Serialize};

/// Agent: OFREP single evaluation, `POST {OFREP_FLAGS_PATH}/{key}`.
pub const OFREP_FLAGS_PATH: &str = "/ofrep/v1/evaluate/flags";
/// Agent: the whole flag snapshot as JSON (`liveops_flags::SnapshotDoc`),
/// with `ETag`, for game servers that evaluate in process.
pub const SNAPSHOT_PATH: &str = "/liveops/v1/flags";
/// Agent: server-sent events, one `changed` event (data: the new version)
/// whenever any flag answer may have changed, and one on connect.
pub const CHANGES_PATH: &str = "/liveops/v1/flags/changes";
/// Agent: server-sent events in the OFREP way (ADR 0008), advertised in
/// every bulk answer's `refreshConnections`: a default-type event whose
/// data is `{"type":"refetchEvaluation","etag":…,"lastModified":…}` on
/// every change. Outside `/ofrep/`, whose paths belong to the protocol (and
/// `/ofrep/v1/evaluate/flags/NAME` to the flags).
pub const OFREP_EVENTS_PATH: &str = "/liveops/v1/flags/ofrep-events";
/// Collector: the long-lived override stream an agent subscribes to,
/// `GET ?world=W`, server-sent `overrides` events carrying a whole
/// `liveops_flags::OverrideSet` (so every event is a full resync).
pub const OVERRIDES_STREAM_PATH: &str = "/api/v1/overrides/stream";

/// One attempt to load the flag file, as the agent saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagReload {
    /// Unix milliseconds.
    pub at_ms: u64,
    pub file: String,
    /// SHA-256 of the file's bytes, hex; empty when it could not be read.
    pub sha256: String,
    /// True when the file was valid and is now served.
    pub applied: bool,
    /// Why it was rejected (`file:line:col: …`), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FlagChange>,
}

/// A flag whose definition a reload changed; `None` is absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagChange {
    pub flag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}
