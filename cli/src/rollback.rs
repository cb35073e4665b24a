//! `liveops rollback --world W --from SNAPSHOT --player P…`: put chosen
//! players, accounts or entities back as a snapshot holds them. A dry run
//! (the plan, entity by entity, and its collateral) unless `--apply`;
//! `rollback undo ID` puts back what a rollback overwrote.

use std::process::ExitCode;

use liveops_agent::snapshot::rollback::plan::{Action, Plan};
use liveops_agent::snapshot::rollback::{Record, Targets};
use liveops_protocol::command::Op;
use liveops_protocol::time::rfc3339_seconds;
use serde_json::{Value, json};

use crate::remote::block_on;
use crate::snapshot::{Common, call};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    sub: Option<Sub>,
    #[command(flatten)]
    remote: crate::remote::Remote,
    /// The world whose agent holds the snapshots.
    #[arg(long)]
    world: Option<String>,
    /// Print the agent's answer as JSON.
    #[arg(long)]
    json: bool,
    /// How long to wait for the plan or the rollback.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    wait: std::time::Duration,
    /// The snapshot to roll back to: an id (`s-3`), a label or `latest`.
    #[arg(long)]
    from: Option<String>,
    #[command(flatten)]
    targets: TargetArgs,
    #[command(flatten)]
    apply: ApplyArgs,
}

#[derive(clap::Args, Debug)]
struct TargetArgs {
    /// A player: its entity and everything it owns (repeatable).
    #[arg(long = "player")]
    players: Vec<String>,
    /// An account: its entity, its players and what they own (repeatable).
    #[arg(long = "account")]
    accounts: Vec<String>,
    /// A village (repeatable).
    #[arg(long = "village")]
    villages: Vec<String>,
    /// The kind of the entities named by `--id`.
    #[arg(long, requires = "ids")]
    kind: Option<String>,
    /// Entities of `--kind` (repeatable).
    #[arg(long = "id", requires = "kind")]
    ids: Vec<String>,
    /// Only these fields, as JSON paths (`data.resources.gold`; repeatable).
    #[arg(long = "fields", value_delimiter = ',')]
    fields: Vec<String>,
    /// Delete targeted entities the snapshot does not hold (created since);
    /// otherwise they are listed and left alone.
    #[arg(long)]
    delete_new: bool,
    /// Read the game's whole state to find the collateral; otherwise only
    /// the targeted entities are read and the collateral is what changed
    /// up to the newest snapshot.
    #[arg(long)]
    fresh: bool,
}

#[derive(clap::Args, Debug)]
struct ApplyArgs {
    /// Do it (role `responder`): a safety snapshot first, then the writes,
    /// then every entity read back.
    #[arg(long, requires = "reason")]
    apply: bool,
    /// Why, for the audit log.
    #[arg(long)]
    reason: Option<String>,
    /// Entities shown in a plan (0: all; all are in `--json`).
    #[arg(long, default_value_t = 0)]
    limit: usize,
}

#[derive(clap::Subcommand, Debug)]
enum Sub {
    /// Put back what rollback ID overwrote, from its safety snapshot: a dry
    /// run unless `--apply`.
    Undo {
        /// The rollback, `r-N`.
        rollback: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// The world's rollbacks, oldest first.
    List(Common),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        match args.sub {
            Some(Sub::List(c)) => list(&c).await,
            Some(Sub::Undo {
                rollback,
                common,
                apply,
            }) => act(&common, json!({ "undo": rollback }), &apply).await,
            None => {
                let (Some(world), Some(from)) = (args.world, args.from) else {
                    anyhow::bail!(
                        "name the world and the snapshot: rollback --world W --from SNAPSHOT --player P…"
                    );
                };
                let common = Common {
                    remote: args.remote,
                    world,
                    json: args.json,
                    wait: args.wait,
                };
                let t = args.targets;
                let targets = Targets {
                    players: t.players,
                    accounts: t.accounts,
                    villages: t.villages,
                    kind: t.kind,
                    ids: t.ids,
                    fields: t.fields,
                    delete_new: t.delete_new,
                    fresh: t.fresh,
                    ..Targets::default()
                };
                targets.check().map_err(anyhow::Error::msg)?;
                act(
                    &common,
                    json!({ "from": from, "targets": targets }),
                    &args.apply,
                )
                .await
            }
        }
    })
}

async fn act(c: &Common, args: Value, a: &ApplyArgs) -> anyhow::Result<ExitCode> {
    if !a.apply {
        let answer = call(c, Op::RollbackPlan, args, None, "planning the rollback").await?;
        if c.json {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        } else {
            print_plan(&c.world, &serde_json::from_value(answer)?, a.limit);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let answer = call(c, Op::RollbackApply, args, a.reason.clone(), "rolling back").await?;
    let r: Record = serde_json::from_value(answer.clone())?;
    if c.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print_record(&c.world, &r);
    }
    Ok(if r.failed.is_empty() && r.mismatched.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn list(c: &Common) -> anyhow::Result<ExitCode> {
    let answer = call(c, Op::RollbackList, json!({}), None, "listing rollbacks").await?;
    if c.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(ExitCode::SUCCESS);
    }
    let list: Vec<Record> = serde_json::from_value(answer["rollbacks"].clone())?;
    if list.is_empty() {
        println!("{} has had no rollbacks", c.world);
    }
    for r in &list {
        let undo = match (&r.undoes, &r.undone_by) {
            (Some(u), _) => format!("  undoes {u}"),
            (_, Some(by)) => format!("  undone by {by}"),
            _ => String::new(),
        };
        println!(
            "{:<6} {}  {:<8} from {:<6} {:>6} written {:>4} failed {:>4} wrong  safety {}  by {}: {}{undo}",
            r.id,
            rfc3339_seconds(r.at_ms),
            r.state,
            r.from,
            r.counts.applied,
            r.counts.failed,
            r.counts.mismatched,
            r.safety,
            r.actor,
            r.reason
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn owner(o: &Option<String>) -> String {
    o.as_deref()
        .map(|o| format!(" (owner {o})"))
        .unwrap_or_default()
}

fn print_plan(world: &str, p: &Plan, limit: usize) {
    let s = &p.summary;
    println!(
        "{world}: rollback to {} (taken {}): {} targeted entities",
        p.from,
        rfc3339_seconds(p.from_at_ms),
        s.targeted
    );
    println!(
        "  {} to restore, {} to recreate, {} to delete, {} already as in the snapshot, {} not in the snapshot (left as they are), {} skipped",
        s.restore, s.recreate, s.delete, s.unchanged, s.keep, s.skip
    );
    let limit = if limit == 0 { usize::MAX } else { limit };
    for i in p.items.iter().take(limit) {
        let action = match i.action {
            Action::Restore => "restore",
            Action::Recreate => "recreate",
            Action::Delete => "delete",
            Action::Keep => "keep",
            Action::Skip => "SKIP",
        };
        let note = i
            .note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        println!("  {action} {} {}{}{note}", i.kind, i.id, owner(&i.owner));
        for f in &i.fields {
            println!("    {}: {} → {}", f.path, f.old, f.new);
        }
    }
    if p.items.len() > limit {
        println!(
            "  … and {} more (--limit 0, or --json)",
            p.items.len() - limit
        );
    }
    let window = if p.collateral_from == "live" {
        "the game now".to_string()
    } else {
        format!(
            "{} (taken {}; --fresh to compare with the game now)",
            p.collateral_from,
            rfc3339_seconds(p.collateral_at_ms)
        )
    };
    if p.collateral.is_empty() {
        println!(
            "\nno collateral: nothing of other owners that changed from {} to {window} names a target",
            p.from
        );
    } else {
        println!(
            "\ncollateral: {} entities of other owners changed from {} to {window} and name a target; not rolled back unless you name them:",
            p.collateral.len(),
            p.from
        );
        for c in &p.collateral {
            println!(
                "  {} {} {}{} names {}",
                c.change,
                c.kind,
                c.id,
                owner(&c.owner),
                c.references.join(", ")
            );
            for f in &c.fields {
                println!("    {}: {} → {}", f.path, f.old, f.new);
            }
        }
    }
    println!(
        "\ndry run (read the game in {} ms, planned in {} ms): add --apply --reason TEXT to roll back",
        p.read_ms, p.took_ms
    );
}

fn print_record(world: &str, r: &Record) {
    let what = match &r.undoes {
        Some(u) => format!("undid {u} on {world} (back to {})", r.from),
        None => format!("rolled {world} back to {}", r.from),
    };
    println!(
        "{}: {what}: {} written, {} refused, {} read back wrong; safety snapshot {}",
        r.id, r.counts.applied, r.counts.failed, r.counts.mismatched, r.safety
    );
    for p in &r.failed {
        println!("  REFUSED {} {}: {}", p.kind, p.id, p.error);
    }
    for p in &r.mismatched {
        println!("  WRONG   {} {}: {}", p.kind, p.id, p.error);
    }
    if r.failed.is_empty() && r.mismatched.is_empty() {
        println!("  every entity reads back as planned");
    }
    println!("  undo: liveops rollback undo {} --world {world}", r.id);
}
