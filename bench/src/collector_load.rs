//! Simulated agents: each holds its own HTTP/1.1 keep-alive connection, as a
//! real agent does, and POSTs one report a second with its own id, world
//! and increasing `seq`. Starts are spread over the first `--ramp` seconds
//! (one by default) so the load is steady rather than every request at each
//! second's edge, and so 10,000 connections are not all opened at once.
//!
//! The report body is a template captured from a real agent beside a
//! simulated world (see `bench/footprint.py`); only identity, `seq` and the
//! interval are rewritten, so the collector parses what it would in
//! production.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(clap::Args)]
pub struct Args {
    /// The collector's address.
    #[arg(long)]
    to: SocketAddr,
    #[arg(long, env = "LIVEOPS_AGENT_TOKEN", hide_env_values = true)]
    token: String,
    #[arg(long, default_value_t = 1000)]
    agents: usize,
    #[arg(long, default_value_t = 60.0)]
    secs: f64,
    /// Seconds at the start left out of the `after_warmup` percentiles.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Seconds over which the agents' first reports (and connections) are
    /// spread; each then reports every second from its start.
    #[arg(long, default_value_t = 1.0)]
    ramp: f64,
    /// One report as JSON (a body an agent sent).
    #[arg(long)]
    template: PathBuf,
}

/// As long as an agent waits for an acknowledgement (its client timeout).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Tally {
    /// (second of the run the request was sent in, latency in µs).
    latencies_us: Vec<(u64, u64)>,
    errors: u64,
    timeouts: u64,
    non_2xx: u64,
    /// Requests over 20 ms (the latency target), by second of the run in
    /// which they were sent: shows whether slow requests come in bursts.
    /// (The warm-up, by contrast, is counted from each agent's own start.)
    slow_by_second: Vec<u64>,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let template: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&a.template).with_context(|| a.template.display().to_string())?,
    )?;
    let run_id = crate::unix_ms();
    let start = Instant::now() + Duration::from_millis(200);
    let until = start + Duration::from_secs_f64(a.secs);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.agents {
        let offset = Duration::from_secs_f64(a.ramp.max(0.0) * i as f64 / a.agents as f64);
        let (to, token, template) = (a.to, a.token.clone(), template.clone());
        tasks.spawn(async move {
            let id = format!("bench-{run_id}-{i:04}");
            let when = Schedule {
                start,
                first: start + offset,
                until,
            };
            agent(to, &token, template, id, i, when).await
        });
    }
    let mut all = Tally::default();
    while let Some(t) = tasks.join_next().await {
        let t = t?;
        all.latencies_us.extend(t.latencies_us);
        all.errors += t.errors;
        all.timeouts += t.timeouts;
        for (i, n) in t.slow_by_second.iter().enumerate() {
            if all.slow_by_second.len() <= i {
                all.slow_by_second.resize(i + 1, 0);
            }
            all.slow_by_second[i] += n;
        }
        all.non_2xx += t.non_2xx;
    }
    let percentiles = |mut l: Vec<u64>| {
        l.sort_unstable();
        let pct = |p: f64| {
            if l.is_empty() {
                return 0.0;
            }
            let idx = ((p / 100.0) * l.len() as f64).ceil() as usize;
            l[idx.clamp(1, l.len()) - 1] as f64 / 1000.0
        };
        serde_json::json!({
            "requests": l.len(),
            "p50_ms": pct(50.0),
            "p90_ms": pct(90.0),
            "p99_ms": pct(99.0),
            "p999_ms": pct(99.9),
            "max_ms": pct(100.0),
        })
    };
    let whole = percentiles(all.latencies_us.iter().map(|(_, l)| *l).collect());
    // The first seconds hold 1,000 connections being opened at once and the
    // first report of 1,000 new worlds: a collector restart, not the usual
    // second. Reported apart.
    let steady = percentiles(
        all.latencies_us
            .iter()
            .filter(|(s, _)| *s >= a.warmup)
            .map(|(_, l)| *l)
            .collect(),
    );
    println!(
        "{}",
        serde_json::json!({
            "agents": a.agents,
            "secs": a.secs,
            "errors": all.errors,
            "timeouts": all.timeouts,
            "non_2xx": all.non_2xx,
            "body_bytes": template.to_string().len(),
            "whole_run": whole,
            "warmup_secs": a.warmup,
            "ramp_secs": a.ramp,
            "after_warmup": steady,
            "slow_by_second": all.slow_by_second,
        })
    );
    Ok(())
}

/// When one simulated agent runs: the run's start, its own first report
/// (spread over the ramp) and the end.
struct Schedule {
    start: Instant,
    first: Instant,
    until: Instant,
}

async fn agent(
    to: SocketAddr,
    token: &str,
    mut report: serde_json::Value,
    id: String,
    index: usize,
    when: Schedule,
) -> Tally {
    let Schedule {
        start,
        first,
        until,
    } = when;
    let mut tally = Tally::default();
    report["agent"] = id.into();
    report["world"] = format!("bench-w{index:04}").into();
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut every = tokio::time::interval_at(first.into(), Duration::from_secs(1));
    // As the agent does: its reports are made on its own schedule and
    // spooled, and a slow collector only delays their sending. So a report
    // missed while a request hung is sent at once, and the next keeps the
    // agent's phase. (Delaying the schedule instead would let one stall
    // of the collector line every agent up on the same instant for good.)
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut seq = 0u64;
    loop {
        every.tick().await;
        if Instant::now() >= until {
            break;
        }
        seq += 1;
        let now = crate::unix_ms();
        report["seq"] = seq.into();
        report["start_ms"] = (now - 1000).into();
        report["end_ms"] = now.into();
        let body = report.to_string();
        let started = Instant::now();
        let result = async {
            if conn.is_none() {
                let s = TcpStream::connect(to).await?;
                s.set_nodelay(true)?;
                conn = Some(BufReader::new(s));
            }
            let c = conn.as_mut().expect("connected above");
            post(c, to, token, &body).await
        };
        // A collector that stops answering must show up as errors, not as
        // a benchmark that never ends.
        let result = match tokio::time::timeout(REQUEST_TIMEOUT, result).await {
            Ok(r) => r,
            Err(_) => {
                tally.timeouts += 1;
                Err(anyhow::anyhow!("timed out"))
            }
        };
        match result {
            Ok(status) => {
                let took = started.elapsed();
                let second = started.saturating_duration_since(first).as_secs();
                tally.latencies_us.push((second, took.as_micros() as u64));
                if took > Duration::from_millis(20) {
                    // By the run's clock, not the agent's: one stall of the
                    // collector falls in one second for every agent.
                    let second = started.saturating_duration_since(start).as_secs() as usize;
                    if tally.slow_by_second.len() <= second {
                        tally.slow_by_second.resize(second + 1, 0);
                    }
                    tally.slow_by_second[second] += 1;
                }
                if !(200..300).contains(&status) {
                    tally.non_2xx += 1;
                }
            }
            Err(_) => {
                tally.errors += 1;
                conn = None;
            }
        }
    }
    tally
}

/// One request and its whole response on a kept-alive connection.
async fn post(
    c: &mut BufReader<TcpStream>,
    to: SocketAddr,
    token: &str,
    body: &str,
) -> anyhow::Result<u16> {
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nhost: {to}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let stream = c.get_mut();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut line = String::new();
    c.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    let mut length = 0usize;
    loop {
        line.clear();
        if c.read_line(&mut line).await? == 0 {
            bail!("connection closed");
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse()?;
        }
    }
    let mut rest = vec![0u8; length];
    c.read_exact(&mut rest).await?;
    Ok(status)
}
