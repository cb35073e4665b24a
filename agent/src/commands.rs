//! Operator commands from the collector's command stream (see
//! [`liveops_protocol::command`]): each is run on its own task and its
//! outcome posted back, so a long snapshot does not hold up a quick list.

use std::sync::Arc;
use std::time::Duration;

use liveops_config::Secret;
use liveops_protocol::command::{
    BANNER_PATH, Banner, COMMANDS_PATH, Command, Op, Outcome, result_path,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::follow::{Target, follow};
use crate::snapshot::rollback::Targets;
use crate::snapshot::{LIVE, SnapshotError, Snapshots, TakeError, diff::Filter};
pub use liveops_protocol::command::MAX_COMMAND_BYTES;

pub struct Commands {
    pub world: String,
    pub collector: String,
    pub token: Option<Secret>,
    pub snapshots: Arc<Snapshots>,
    /// The game's base URL, for banners (`--game`).
    pub game: Option<String>,
    /// For posting outcomes, and banners to the game.
    pub client: reqwest::Client,
}

impl Commands {
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let target = Target {
            url: format!("{}{COMMANDS_PATH}", self.collector),
            world: self.world.clone(),
            token: self.token.clone(),
            what: "command stream",
            max_line: MAX_COMMAND_BYTES * 2,
        };
        let me = Arc::new(self);
        follow(target, stop, &|_| {}, |ev| {
            let me = me.clone();
            async move {
                if ev.name != "command" {
                    return;
                }
                match serde_json::from_str::<Command>(&ev.data) {
                    Ok(cmd) => {
                        tokio::spawn(async move { me.handle(cmd).await });
                    }
                    Err(e) => tracing::warn!(error = %e, "ignoring an unreadable command from the collector"),
                }
            }
        })
        .await;
    }

    async fn handle(&self, cmd: Command) {
        tracing::info!(id = %cmd.id, op = cmd.op.name(), actor = %cmd.actor, "operator command");
        let outcome = match cmd.op {
            Op::Banner => self.banner(cmd.args.clone()).await,
            _ => execute(&self.snapshots, cmd.clone()).await,
        };
        let url = format!("{}{}", self.collector, result_path(&cmd.id));
        let mut req = self
            .client
            .post(&url)
            .query(&[("world", &self.world)])
            .timeout(Duration::from_secs(30))
            .json(&outcome);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                tracing::warn!(id = %cmd.id, status = %r.status(), "the collector did not take a command's outcome")
            }
            Err(e) => tracing::warn!(id = %cmd.id, error = %e, "cannot post a command's outcome"),
        }
    }
}

impl Commands {
    /// Hands a banner to the game (`POST {game}/liveops/v1/banner`) and
    /// says what the game answered.
    async fn banner(&self, raw: Value) -> Outcome {
        let b: Banner = match args(Op::Banner, raw) {
            Ok(b) => b,
            Err(o) => return o,
        };
        if b.text.trim().is_empty() || b.text.chars().count() > BANNER_MAX {
            return fail(400, format!("a banner is 1–{BANNER_MAX} characters"));
        }
        let Some(game) = &self.game else {
            return fail(409, "this agent has no game to show a banner in (--game)");
        };
        let sent = self
            .client
            .post(format!("{}{BANNER_PATH}", game.trim_end_matches('/')))
            .timeout(Duration::from_secs(5))
            .json(&b)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Outcome {
                status: 200,
                body: json!({ "shown": true, "world": self.world }),
            },
            Ok(r) => fail(
                502,
                format!("the game answered {} to the banner", r.status()),
            ),
            Err(e) => fail(502, format!("cannot reach the game: {e}")),
        }
    }
}

/// Longer than a game's HUD takes; the collector's templates keep to 280.
const BANNER_MAX: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakeArgs {
    label: Option<String>,
    #[serde(default = "manual")]
    trigger: String,
}

fn manual() -> String {
    "manual".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffArgs {
    from: String,
    #[serde(default = "live")]
    to: String,
    #[serde(default)]
    filter: Filter,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyArgs {
    snapshot: Option<String>,
}

/// A rollback's plan or apply: from a snapshot for targets, or the undo of
/// an earlier rollback.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackArgs {
    from: Option<String>,
    #[serde(default)]
    targets: Targets,
    undo: Option<String>,
}

impl RollbackArgs {
    /// The snapshot, the targets and the rollback undone, if any.
    fn resolve(self, snapshots: &Snapshots) -> Result<(String, Targets, Option<String>), Outcome> {
        match (self.from, self.undo) {
            (Some(_), Some(_)) => Err(fail(400, "give `from` or `undo`, not both")),
            (None, None) => Err(fail(400, "give `from` (a snapshot) or `undo` (a rollback)")),
            (Some(from), None) => {
                self.targets.check().map_err(|e| fail(400, e))?;
                Ok((from, self.targets, None))
            }
            (None, Some(id)) => {
                let (rec, targets) = snapshots
                    .rollback_undo_targets(&id)
                    .map_err(|e| fail(status_of(&e), e))?;
                Ok((rec.safety, targets, Some(id)))
            }
        }
    }
}

fn live() -> String {
    LIVE.into()
}

fn fail(status: u16, message: impl std::fmt::Display) -> Outcome {
    Outcome {
        status,
        body: json!({ "error": message.to_string() }),
    }
}

fn args<T: serde::de::DeserializeOwned>(op: Op, v: Value) -> Result<T, Outcome> {
    let v = if v.is_null() { json!({}) } else { v };
    serde_json::from_value(v).map_err(|e| fail(400, format!("{}: {e}", op.name())))
}

fn check_label(label: &Option<String>) -> Result<(), Outcome> {
    match label {
        Some(l) if l.is_empty() || l.len() > 128 || l.chars().any(char::is_control) => {
            Err(fail(400, "a label is 1–128 printable characters"))
        }
        Some(l) if l == LIVE || l == "latest" || l.starts_with("s-") => Err(fail(
            400,
            format!("{l:?} would read as a snapshot name; choose another label"),
        )),
        _ => Ok(()),
    }
}

/// Runs one command; every failure becomes an outcome with a status.
pub async fn execute(snapshots: &Snapshots, cmd: Command) -> Outcome {
    let (op, raw) = (cmd.op, cmd.args);
    let result = match op {
        Op::SnapshotList => match args::<Value>(op, raw) {
            Ok(_) => snapshots.list().map(
                |list| json!({ "snapshots": list, "bytes_on_disk": snapshots.size_on_disk() }),
            ),
            Err(o) => return o,
        },
        Op::SnapshotTake => {
            let a: TakeArgs = match args(op, raw) {
                Ok(a) => a,
                Err(o) => return o,
            };
            if let Err(o) = check_label(&a.label) {
                return o;
            }
            if !["manual", "deploy", "safety"].contains(&a.trigger.as_str()) {
                return fail(400, "trigger is manual, deploy or safety");
            }
            snapshots.take(a.label, &a.trigger).await.map(|m| json!(m))
        }
        Op::SnapshotDiff => {
            let a: DiffArgs = match args(op, raw) {
                Ok(a) => a,
                Err(o) => return o,
            };
            snapshots
                .diff(&a.from, &a.to, &a.filter)
                .await
                .map(|r| json!(r))
        }
        Op::SnapshotVerify => {
            let a: VerifyArgs = match args(op, raw) {
                Ok(a) => a,
                Err(o) => return o,
            };
            snapshots
                .verify(a.snapshot.as_deref())
                .await
                .map(|v| json!({ "snapshots": v }))
        }
        Op::SnapshotPrune => {
            if let Err(o) = args::<Value>(op, raw) {
                return o;
            }
            let before = snapshots.size_on_disk();
            snapshots
                .prune(liveops_protocol::time::now_ms())
                .await
                .map(|p| {
                    json!({ "removed": p.removed, "nodes": p.nodes, "blobs": p.blobs,
                    "bytes_before": before, "bytes_after": snapshots.size_on_disk() })
                })
        }
        Op::RollbackPlan | Op::RollbackApply => {
            let a: RollbackArgs = match args(op, raw) {
                Ok(a) => a,
                Err(o) => return o,
            };
            let (from, targets, undo) = match a.resolve(snapshots) {
                Ok(r) => r,
                Err(o) => return o,
            };
            if op == Op::RollbackPlan {
                snapshots
                    .rollback_plan(&from, &targets)
                    .await
                    .map(|p| json!(p))
            } else {
                let reason = cmd.reason.as_deref().unwrap_or("");
                snapshots
                    .rollback_apply(&from, &targets, &cmd.actor, reason, undo)
                    .await
                    .map(|r| json!(r))
            }
        }
        Op::RollbackList => match args::<Value>(op, raw) {
            Ok(_) => snapshots.rollbacks().map(|r| json!({ "rollbacks": r })),
            Err(o) => return o,
        },
        // Handled by `Commands::banner`: it needs the game, not snapshots.
        Op::Banner => return fail(500, "a banner is not a snapshot command"),
    };
    match result {
        Ok(body) => Outcome { status: 200, body },
        Err(e) => fail(status_of(&e), e),
    }
}

fn status_of(e: &SnapshotError) -> u16 {
    match e {
        SnapshotError::Unknown(_) => 404,
        SnapshotError::Unsupported(_) => 400,
        SnapshotError::Conflict(_) => 409,
        SnapshotError::Take(TakeError::NoGame) => 409,
        SnapshotError::Take(TakeError::Fetch { .. } | TakeError::Status { .. }) => 502,
        _ => 500,
    }
}
