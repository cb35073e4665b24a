//! `liveops status`: SLOs and firing alerts of a running collector, as an
//! on-call engineer wants them at a glance.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use serde::Deserialize;

use crate::remote::Remote;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    remote: Remote,
    /// Only this world (or `fleet`).
    #[arg(long)]
    world: Option<String>,
}

#[derive(Deserialize)]
struct Slos {
    slos: Vec<SloRow>,
}

#[derive(Deserialize)]
struct SloRow {
    world: Option<String>,
    slo: String,
    objective: f64,
    sli: Option<f64>,
    events: f64,
    error_budget_remaining: Option<f64>,
    burn_rates: Vec<Burn>,
}

#[derive(Deserialize)]
struct Burn {
    window: String,
    burn_rate: Option<f64>,
}

#[derive(Deserialize)]
struct Alerts {
    alerts: Vec<Alert>,
}

#[derive(Deserialize)]
struct Alert {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut path = "/api/v1/slos".to_owned();
        if let Some(w) = &args.world {
            path.push_str(&format!("?world={w}"));
        }
        let slos: Slos = args.remote.get(&path).await.context("reading SLOs")?;
        let alerts: Alerts = args
            .remote
            .get("/api/v1/alerts")
            .await
            .context("reading alerts")?;
        print_slos(&slos.slos);
        println!();
        print_alerts(&alerts.alerts, args.world.as_deref());
        Ok(ExitCode::SUCCESS)
    })
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.3}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn print_slos(rows: &[SloRow]) {
    let windows: Vec<&str> = rows
        .first()
        .map(|r| r.burn_rates.iter().map(|b| b.window.as_str()).collect())
        .unwrap_or_default();
    print!(
        "{:<8} {:<16} {:>8} {:>9} {:>10} {:>10}",
        "WORLD", "SLO", "TARGET", "SLI", "BUDGET", "EVENTS"
    );
    for w in &windows {
        print!(" {:>7}", format!("burn{w}"));
    }
    println!();
    for r in rows {
        print!(
            "{:<8} {:<16} {:>8} {:>9} {:>10} {:>10.0}",
            r.world.as_deref().unwrap_or("fleet"),
            r.slo,
            format!("{:.2}%", r.objective * 100.0),
            pct(r.sli),
            pct(r.error_budget_remaining),
            r.events
        );
        for b in &r.burn_rates {
            print!(
                " {:>7}",
                b.burn_rate
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        println!();
    }
}

fn print_alerts(alerts: &[Alert], world: Option<&str>) {
    let shown: Vec<&Alert> = alerts
        .iter()
        .filter(|a| world.is_none_or(|w| a.labels.get("world").map(String::as_str) == Some(w)))
        .collect();
    if shown.is_empty() {
        println!("no alerts firing");
        return;
    }
    println!("FIRING");
    for a in shown {
        let l = |k: &str| a.labels.get(k).map(String::as_str).unwrap_or("-");
        let n = |k: &str| a.annotations.get(k).map(String::as_str).unwrap_or("-");
        println!(
            "  [{}] {} {} slo={} since {}",
            l("severity"),
            l("alertname"),
            l("world"),
            l("slo"),
            a.starts_at
        );
        println!("      {}", n("summary"));
        println!("      owner {} · runbook {}", n("owner"), n("runbook_url"));
    }
}
