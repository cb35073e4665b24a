//! `liveops oncall who|export|check`: the on-call schedule read from its
//! file (`--schedule`, env `LIVEOPS_ONCALL`, default `config/oncall.toml`)
//! and resolved locally; no collector needed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use liveops_oncall::jiff::Timestamp;
use liveops_oncall::{Schedule, after, ical};
use serde::Serialize;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Who is on call now (or at --at), per team and role.
    Who {
        #[command(flatten)]
        file: File,
        /// RFC 3339 (e.g. 2026-12-24T18:00:00+01:00) or `now`.
        #[arg(long, default_value = "now", value_parser = parse_time)]
        at: Timestamp,
        /// Only this team.
        #[arg(long)]
        team: Option<String>,
        /// A JSON list of {team, role, person, from, until}.
        #[arg(long)]
        json: bool,
    },
    /// The final schedule (overrides and coverage applied) as iCalendar.
    Export {
        #[command(flatten)]
        file: File,
        /// RFC 5545 iCalendar (the only format, required for clarity).
        #[arg(long, required = true)]
        ical: bool,
        /// Weeks from --from.
        #[arg(long, default_value_t = 4)]
        weeks: u32,
        /// RFC 3339 or `now`.
        #[arg(long, default_value = "now", value_parser = parse_time)]
        from: Timestamp,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List gaps, people without contacts, double roles and stray
    /// overrides; exit 1 if there is any.
    Check {
        #[command(flatten)]
        file: File,
        #[arg(long, default_value_t = 4)]
        weeks: u32,
        /// RFC 3339 or `now`.
        #[arg(long, default_value = "now", value_parser = parse_time)]
        from: Timestamp,
    },
}

#[derive(clap::Args, Debug)]
pub struct File {
    /// The schedule file [default: config/oncall.toml, else the shipped one].
    #[arg(long, env = "LIVEOPS_ONCALL", value_name = "PATH")]
    schedule: Option<PathBuf>,
}

const DEFAULT_PATH: &str = "config/oncall.toml";

fn parse_time(s: &str) -> Result<Timestamp, String> {
    if s == "now" {
        // Whole seconds: what `who` prints reads back as the same instant.
        return Ok(after(Timestamp::UNIX_EPOCH, Timestamp::now().as_second()));
    }
    s.parse::<Timestamp>().map_err(|e| {
        format!(
            "`{s}` is not an RFC 3339 time with an offset (e.g. 2026-12-24T18:00:00Z) or `now`: {e}"
        )
    })
}

/// The schedule, or its errors printed and exit code 2 (as for any
/// config error).
fn load(file: &File) -> Result<Schedule, ExitCode> {
    let cfg = match &file.schedule {
        Some(path) => liveops_config::load_oncall(path),
        None if std::path::Path::new(DEFAULT_PATH).exists() => {
            liveops_config::load_oncall(std::path::Path::new(DEFAULT_PATH))
        }
        None => liveops_config::parse_oncall(
            "<embedded oncall.toml>",
            liveops_config::DEFAULT_ONCALL_TOML,
        ),
    };
    cfg.map(Schedule::new).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })
}

#[derive(Serialize)]
struct Row<'a> {
    team: &'a str,
    role: &'a str,
    person: &'a str,
    from: String,
    until: String,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Who {
            file,
            at,
            team,
            json,
        } => {
            let s = match load(&file) {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            if let Some(t) = &team
                && !s.teams().contains(&t.as_str())
            {
                eprintln!("unknown team `{t}` (known: {})", s.teams().join(", "));
                return Ok(ExitCode::FAILURE);
            }
            let who = s.who(at, team.as_deref());
            if json {
                let rows: Vec<Row<'_>> = who
                    .iter()
                    .map(|o| Row {
                        team: &o.team,
                        role: o.role.as_str(),
                        person: &o.person,
                        from: o.from.to_string(),
                        until: o.until.to_string(),
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print_who(&s, &who, at);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            file,
            ical: _,
            weeks,
            from,
            out,
        } => {
            let s = match load(&file) {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            let until = after(from, i64::from(weeks) * 7 * 86_400);
            let text = ical::export(&s, from, until, Timestamp::now());
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file, weeks, from } => {
            let s = match load(&file) {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            let problems = liveops_oncall::check(&s, from, weeks);
            let until = after(from, i64::from(weeks) * 7 * 86_400);
            if problems.is_empty() {
                println!("no problems from {from} until {until}");
                return Ok(ExitCode::SUCCESS);
            }
            for p in &problems {
                println!("{p}");
            }
            eprintln!(
                "{} problem(s) in the schedule from {from} until {until}",
                problems.len()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_who(s: &Schedule, who: &[liveops_oncall::OnCall], at: Timestamp) {
    println!("on call at {at}");
    for team in s.teams() {
        let rows: Vec<_> = who.iter().filter(|o| o.team == team).collect();
        if rows.is_empty() {
            println!("  {team:<12} nobody");
        }
        for o in rows {
            // Their own wall clock: when they can go to sleep.
            let local = s.person(&o.person).map_or_else(String::new, |p| {
                let t = o.until.to_zoned(p.zone.clone());
                format!(" ({} for them)", t.strftime("%a %d %b %H:%M %Z"))
            });
            let note = match &o.source {
                liveops_oncall::Source::Rotation { .. } => String::new(),
                liveops_oncall::Source::Override { reason } => match reason {
                    Some(r) => format!("  (override: {r})"),
                    None => "  (override)".to_owned(),
                },
                liveops_oncall::Source::Coverage { name } => format!("  (coverage {name})"),
            };
            println!(
                "  {team:<12} {:<9} {:<12} until {}{local}{note}",
                o.role.as_str(),
                o.person,
                o.until,
            );
        }
    }
}
