//! `liveops agent …`: questions for one agent, asked on its `--http`
//! address. `dead-letters` lists the reports the collector would not take
//! (see the agent's `report::dead`).

use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Reports the collector would not take, kept aside by the agent.
    DeadLetters(DeadLettersArgs),
}

#[derive(clap::Args, Debug)]
pub struct DeadLettersArgs {
    /// The agent's HTTP address (its `--http`).
    #[arg(long, env = "LIVEOPS_AGENT", default_value = "http://127.0.0.1:9471")]
    agent: String,
    /// Print the agent's JSON answer instead of a table.
    #[arg(long)]
    json: bool,
    /// With --json: include each report as it was sent.
    #[arg(long, requires = "json")]
    body: bool,
}

#[derive(Deserialize)]
struct List {
    dead_letters: Vec<Row>,
}

#[derive(Deserialize)]
struct Row {
    seq: u64,
    at: String,
    attempts: u32,
    status: Option<u16>,
    reason: String,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::DeadLetters(args) = cmd;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let text = rt.block_on(fetch(&args))?;
    if args.json {
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let list: List = serde_json::from_str(&text).with_context(|| {
        format!(
            "the agent at {} answered something else: {text}",
            args.agent
        )
    })?;
    print!("{}", table(&list.dead_letters));
    Ok(ExitCode::SUCCESS)
}

async fn fetch(args: &DeadLettersArgs) -> anyhow::Result<String> {
    let base = args.agent.trim_end_matches('/');
    let url = format!("{base}/liveops/v1/dead-letters?body={}", args.body);
    let resp = reqwest::get(&url)
        .await
        .with_context(|| format!("cannot reach the agent at {}", args.agent))?;
    let status = resp.status();
    let text = resp.text().await.context("reading the agent's answer")?;
    if !status.is_success() {
        bail!("the agent at {} answered {status}: {text}", args.agent);
    }
    Ok(text)
}

fn table(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "no dead letters: every report was delivered or is still spooled\n".into();
    }
    let mut out = format!(
        "{:<20}  {:<24}  {:>8}  {:>6}  REASON\n",
        "SEQ", "DEAD-LETTERED AT", "ATTEMPTS", "STATUS"
    );
    for r in rows {
        let status = r.status.map_or("-".to_owned(), |s| s.to_string());
        out.push_str(&format!(
            "{:<20}  {:<24}  {:>8}  {:>6}  {}\n",
            r.seq, r.at, r.attempts, status, r.reason
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_dead_letter() {
        let rows = [
            Row {
                seq: 4294967299,
                at: "2026-12-01T19:00:00.000Z".into(),
                attempts: 8,
                status: Some(500),
                reason: "collector answered 500 Internal Server Error".into(),
            },
            Row {
                seq: 4294967301,
                at: "2026-12-01T19:00:01.000Z".into(),
                attempts: 1,
                status: None,
                reason: "x".into(),
            },
        ];
        let t = table(&rows);
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t}");
        assert!(lines[0].starts_with("SEQ "), "{t}");
        assert!(
            lines[1].starts_with("4294967299 ")
                && lines[1].contains("  500  collector answered 500"),
            "{t}"
        );
        assert!(lines[2].contains("       -  x"), "{t}");
        assert!(table(&[]).starts_with("no dead letters"));
    }
}
