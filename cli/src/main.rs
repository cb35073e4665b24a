//! `liveops`, the operator CLI. Each subcommand lives in its own module;
//! this file only parses arguments and maps results to exit codes.
//!
//! Operator commands that talk to a running collector find it with
//! `--collector` (env `LIVEOPS_COLLECTOR`, default the collector's default
//! address), authenticate with `--token` (env `LIVEOPS_TOKEN`) and give up
//! after `--timeout` (env `LIVEOPS_TIMEOUT`, default 10 s); see `remote.rs`.

mod action;
mod agent;
mod audit;
mod check;
mod comms;
mod demo;
mod flag;
mod incident;
mod incident_view;
mod mitigate;
mod oncall;
mod page;
mod progress;
mod remote;
mod rollback;
mod silence;
mod snapshot;
mod status;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "liveops",
    version,
    about = "Keep game worlds healthy and get out of incidents fast."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a collector and three simulated worlds with their agents, on loopback.
    Demo(demo::Args),
    /// Validate config files: a file, or every *.toml in a directory.
    CheckConfig(check::Args),
    /// Flags and kill switches; `flag set` overrides one for a scope.
    #[command(subcommand)]
    Flag(flag::Command),
    /// Apply, list and revert one-click mitigations (named kill-switch bundles).
    Mitigate(mitigate::Args),
    /// The collector's tamper-evident audit log: list it, verify its chain.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Ask one agent (its `--http` address): `agent dead-letters`.
    #[command(subcommand)]
    Agent(agent::Command),
    /// SLOs and firing alerts of a running collector.
    Status(status::Args),
    /// The on-call schedule: `oncall who`, `oncall check`, `oncall export --ical`.
    #[command(subcommand)]
    Oncall(oncall::Command),
    /// Create API tokens.
    #[command(subcommand)]
    Token(token::Command),
    #[command(flatten)]
    Page(page::Command),
    /// Silence alerts for a while: recorded, not paged.
    #[command(subcommand)]
    Silence(silence::Command),
    /// Incidents: `incident open|list|show|status|assign|note|sev`.
    #[command(subcommand)]
    Incident(incident::Command),
    /// Player comms: `comms draft|send ID --channel banner|discord|forum|email|status`.
    #[command(subcommand)]
    Comms(comms::Command),
    /// An incident's action items: `action add|list|done`.
    #[command(subcommand)]
    Action(action::Command),
    /// The blameless postmortem: `postmortem export ID [--format md|json]`.
    #[command(subcommand)]
    Postmortem(action::Postmortem),
    /// A world's state snapshots: `snapshot list|take|diff --world W`.
    #[command(subcommand)]
    Snapshot(snapshot::Command),
    /// Put chosen players, accounts or entities back as a snapshot holds
    /// them: a dry run unless `--apply`; `rollback undo ID`, `rollback list`.
    Rollback(Box<rollback::Args>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::CheckConfig(args) => check::run(args),
        Command::Status(args) => status::run(args),
        Command::Flag(cmd) => flag::run(cmd),
        Command::Mitigate(args) => mitigate::run(args),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Token(cmd) => token::run(cmd),
        Command::Agent(cmd) => agent::run(cmd),
        Command::Oncall(cmd) => oncall::run(cmd),
        Command::Page(cmd) => page::run(cmd),
        Command::Silence(cmd) => silence::run(cmd),
        Command::Incident(cmd) => incident::run(cmd),
        Command::Action(cmd) => action::run(cmd),
        Command::Comms(cmd) => comms::run(cmd),
        Command::Postmortem(cmd) => action::export(cmd),
        Command::Snapshot(cmd) => snapshot::run(cmd),
        Command::Rollback(args) => rollback::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("liveops: {e:#}");
            ExitCode::FAILURE
        }
    }
}
