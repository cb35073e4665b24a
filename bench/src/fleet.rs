//! `liveops mitigate --fleet` → every agent serving it.
//!
//! Follows each agent's flag change stream and, on every change event,
//! asks that agent over OFREP for the mitigated flag. A round applies the
//! mitigation through the collector's API (what the CLI calls) and waits
//! until every agent serves the new value; the next reverts it the same
//! way. One sample is one agent in one round: from just before the API
//! call to the first OFREP answer with the new value.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::sync::watch;

use crate::stats;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    collector: String,
    /// A responder token.
    #[arg(long)]
    token: String,
    /// Agents' HTTP ports, comma-separated.
    #[arg(long, value_delimiter = ',')]
    agent_ports: Vec<u16>,
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    #[arg(long, default_value = "freeze-attacks")]
    mitigation: String,
    /// A flag the mitigation sets to false.
    #[arg(long, default_value = "combat.attacks")]
    flag: String,
}

/// What every follower is waiting to see: round, value, start.
type Expect = Option<(usize, bool, Instant)>;

pub async fn run(a: Args) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let (tx, rx) = watch::channel::<Expect>(None);
    let n = a.agent_ports.len();
    let seen: Arc<Mutex<Vec<Vec<f64>>>> = Arc::new(Mutex::new(vec![Vec::new(); a.rounds]));
    for &port in &a.agent_ports {
        tokio::spawn(follow(
            http.clone(),
            port,
            a.flag.clone(),
            rx.clone(),
            seen.clone(),
        ));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut apply = Vec::new();
    let mut revert = Vec::new();
    let mut id = String::new();
    for round in 0..a.rounds {
        let mitigate = round % 2 == 0;
        let t0 = Instant::now();
        tx.send_replace(Some((round, !mitigate, t0)));
        if mitigate {
            let r: serde_json::Value = call(
                &http,
                &a,
                "/api/v1/mitigations",
                serde_json::json!({"name": a.mitigation, "fleet": true, "reason": "benchmark"}),
            )
            .await?;
            id = r["id"]
                .as_str()
                .context("no id in the mitigation answer")?
                .to_owned();
        } else {
            let path = format!("/api/v1/mitigations/{id}/revert");
            call(&http, &a, &path, serde_json::json!({"reason": "benchmark"})).await?;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = seen.lock().expect("not poisoned")[round].len();
            if got == n {
                break;
            }
            if Instant::now() > deadline {
                bail!("round {round}: only {got} of {n} agents served the change in 15 s");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let lat = std::mem::take(&mut seen.lock().expect("not poisoned")[round]);
        if mitigate { &mut apply } else { &mut revert }.extend(lat);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let summary = |l: &[f64]| {
        serde_json::json!({
            "samples": l.len(), "p50_ms": stats::quantile(l, 0.5),
            "p99_ms": stats::quantile(l, 0.99), "max_ms": stats::quantile(l, 1.0),
        })
    };
    println!(
        "{}",
        serde_json::json!({"agents": n, "rounds": a.rounds,
            "apply": summary(&apply), "revert": summary(&revert)})
    );
    Ok(())
}

async fn call(
    http: &reqwest::Client,
    a: &Args,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let r = http
        .post(format!("{}{path}", a.collector.trim_end_matches('/')))
        .bearer_auth(&a.token)
        .json(&body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        bail!("{path}: {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// Follows one agent's change stream for the whole run, reconnecting.
async fn follow(
    http: reqwest::Client,
    port: u16,
    flag: String,
    rx: watch::Receiver<Expect>,
    seen: Arc<Mutex<Vec<Vec<f64>>>>,
) {
    let base = format!("http://127.0.0.1:{port}");
    let eval_url = format!("{base}/ofrep/v1/evaluate/flags/{flag}");
    let mut recorded = usize::MAX;
    loop {
        let Ok(mut resp) = http
            .get(format!("{base}/liveops/v1/flags/changes"))
            .send()
            .await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        while let Ok(Some(chunk)) = resp.chunk().await {
            if !chunk.windows(7).any(|w| w == b"changed") {
                continue;
            }
            let Some((round, want, t0)) = *rx.borrow() else {
                continue;
            };
            if recorded == round {
                continue;
            }
            let value = async {
                let r = http
                    .post(&eval_url)
                    .json(&serde_json::json!({"context": {}}));
                r.send().await.ok()?.json::<serde_json::Value>().await.ok()
            };
            if value.await.and_then(|v| v["value"].as_bool()) == Some(want) {
                let ms = t0.elapsed().as_secs_f64() * 1e3;
                seen.lock().expect("not poisoned")[round].push(ms);
                recorded = round;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
