//! Operator commands that act on one world's agent: snapshots and targeted
//! rollbacks now, and the locks and drills that act on the game through it.
//!
//! They travel the way overrides do, agent-initiated, so an agent behind
//! NAT or a firewall that lets it reach the collector is reachable too:
//!
//! 1. the operator `POST`s a [`Request`] to `/api/v1/worlds/{world}/commands`
//!    (token with the op's [`Op::role`]); the collector audits it if it
//!    changes anything;
//! 2. the collector sends it as a [`Command`] on the world's command
//!    stream (`GET` [`COMMANDS_PATH`]`?world=W`, server-sent events named
//!    `command`), which the agent holds open with its report token;
//! 3. the agent does it and `POST`s an [`Outcome`] to
//!    `/api/v1/agent/commands/{id}/result`;
//! 4. the collector answers the operator's request with that outcome's
//!    status and body.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const COMMANDS_PATH: &str = "/api/v1/agent/commands";

/// Largest operator request the collector takes: a rollback may name
/// 200,000 ids.
pub const MAX_COMMAND_BYTES: usize = 8 << 20;

/// Where the agent posts the outcome of command `id`.
pub fn result_path(id: &str) -> String {
    format!("{COMMANDS_PATH}/{id}/result")
}

/// What an operator can ask a world's agent to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// List the world's snapshots.
    SnapshotList,
    /// Take a snapshot now (`args`: `{"label": …}`).
    SnapshotTake,
    /// What changed between two snapshots, or a snapshot and the game now
    /// (`args`: `{"from", "to", "filter": {"kind", "id", "owner"}}`).
    SnapshotDiff,
    /// Read snapshots back and check every entity against its digest
    /// (`args`: `{"snapshot": …}`, or all).
    SnapshotVerify,
    /// Apply the retention policy now and reclaim the expired snapshots'
    /// space (it runs after every scheduled snapshot anyway).
    SnapshotPrune,
    /// What a targeted rollback would write, and its collateral: the dry
    /// run (`args`: `{"from", "targets": {…}}`, or `{"undo": "r-N"}`).
    RollbackPlan,
    /// Apply that plan after a safety snapshot (same `args`).
    RollbackApply,
    /// The world's rollbacks and what came of each.
    RollbackList,
    /// Show players an in-game banner through the game contract
    /// (`POST {game}/liveops/v1/banner`; `args`: [`Banner`]).
    Banner,
}

/// An in-game banner, as the agent hands it to its game.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Banner {
    /// One short line of plain text.
    pub text: String,
    /// `INC-7`.
    pub incident: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub state: String,
    /// The incident page.
    pub link: String,
}

/// Where the game takes banners.
pub const BANNER_PATH: &str = "/liveops/v1/banner";

impl Op {
    pub const ALL: [Op; 9] = [
        Op::SnapshotList,
        Op::SnapshotTake,
        Op::SnapshotDiff,
        Op::SnapshotVerify,
        Op::SnapshotPrune,
        Op::RollbackPlan,
        Op::RollbackApply,
        Op::RollbackList,
        Op::Banner,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::SnapshotList => "snapshot-list",
            Op::SnapshotTake => "snapshot-take",
            Op::SnapshotDiff => "snapshot-diff",
            Op::SnapshotVerify => "snapshot-verify",
            Op::SnapshotPrune => "snapshot-prune",
            Op::RollbackPlan => "rollback-plan",
            Op::RollbackApply => "rollback-apply",
            Op::RollbackList => "rollback-list",
            Op::Banner => "banner",
        }
    }

    /// The least role a token needs (`viewer`, `responder`, `comms`,
    /// `admin`): reading is for viewers, anything that writes for
    /// responders, speaking to players for comms.
    pub fn role(self) -> &'static str {
        match self {
            Op::SnapshotList
            | Op::SnapshotDiff
            | Op::SnapshotVerify
            | Op::RollbackPlan
            | Op::RollbackList => "viewer",
            Op::SnapshotTake | Op::SnapshotPrune | Op::RollbackApply => "responder",
            Op::Banner => "comms",
        }
    }

    /// Whether the audit log records it (everything that writes).
    pub fn audited(self) -> bool {
        self.role() != "viewer"
    }
}

/// An operator's request, as posted to the collector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub op: Op,
    #[serde(default)]
    pub args: Value,
    /// Why: required for audited ops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A request on its way to the agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// `c-N`: the collector's, unique while it runs.
    pub id: String,
    pub op: Op,
    pub args: Value,
    /// The token's name, for the agent's log.
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the agent did: an HTTP status for the operator and a JSON body
/// (`{"error": …}` when the status is not 2xx).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: u16,
    pub body: Value,
}
