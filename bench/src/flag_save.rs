//! File save → new value served over OFREP.
//!
//! Starts one agent on a flag file laid out for the kind of save under
//! test, then saves the file `--saves` times, each with a new value of an
//! integer flag, and polls the agent's OFREP endpoint every millisecond
//! until it serves that value. The latency of one save runs from just
//! before the first byte is written to the first answer carrying it.
//!
//! Kinds: `in-place` (truncate and write, as `>` in a shell), `rename`
//! (write a temporary file, rename it over, as editors save), `symlink`
//! (Kubernetes ConfigMap layout: `flags.toml -> ..data/flags.toml`,
//! `..data -> ..<version>/`, swapped by renaming a new `..data` over it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::stats;

const FLAG: &str = "bench.counter";

#[derive(clap::Args)]
pub struct Args {
    /// The `liveops-agent` binary.
    #[arg(long)]
    agent_bin: PathBuf,
    /// Run the agent under `taskset -c CORE`.
    #[arg(long)]
    core: Option<String>,
    #[arg(long)]
    dir: PathBuf,
    #[arg(long)]
    kind: String,
    #[arg(long, default_value_t = 200)]
    saves: usize,
    /// The rest of the flag file (the shipped catalogue, say).
    #[arg(long)]
    base: PathBuf,
    #[arg(long, default_value_t = 19_470)]
    port: u16,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let base = std::fs::read_to_string(&a.base).context("reading --base")?;
    let _ = std::fs::remove_dir_all(&a.dir);
    std::fs::create_dir_all(a.dir.join("flags"))?;
    let saver = Saver::new(&a.kind, a.dir.join("flags"))?;
    saver.save(&file_text(&base, 0), 0)?;
    let mut agent = start_agent(&a, &saver.path)?;
    let result = measure(&a, &base, &saver).await;
    let _ = agent.kill();
    let _ = agent.wait();
    let lat = result?;
    println!(
        "{}",
        serde_json::json!({
            "kind": a.kind, "saves": lat.len(),
            "p50_ms": stats::quantile(&lat, 0.5), "p99_ms": stats::quantile(&lat, 0.99),
            "max_ms": stats::quantile(&lat, 1.0), "mean_ms": stats::mean(&lat),
        })
    );
    Ok(())
}

async fn measure(a: &Args, base: &str, saver: &Saver) -> anyhow::Result<Vec<f64>> {
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/ofrep/v1/evaluate/flags/{FLAG}", a.port);
    wait_for(&http, &url, 0, Duration::from_secs(20)).await?;
    let mut lat = Vec::with_capacity(a.saves);
    for i in 1..=a.saves as i64 {
        let text = file_text(base, i);
        let t0 = Instant::now();
        saver.save(&text, i)?;
        wait_for(&http, &url, i, Duration::from_secs(10)).await?;
        lat.push(t0.elapsed().as_secs_f64() * 1e3);
        // Saves by people are seconds apart; this keeps them apart
        // enough that each is its own reload.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    Ok(lat)
}

async fn wait_for(
    http: &reqwest::Client,
    url: &str,
    want: i64,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(r) = http
            .post(url)
            .json(&serde_json::json!({"context": {}}))
            .send()
            .await
            && let Ok(v) = r.json::<serde_json::Value>().await
            && v["value"].as_i64() == Some(want)
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the agent did not serve {FLAG} = {want} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn file_text(base: &str, i: i64) -> String {
    format!(
        "{base}\n[flag.\"{FLAG}\"]\nkind = \"ops\"\ndescription = \"Benchmark counter.\"\nowner = \"bench\"\ndefault = {i}\n"
    )
}

fn start_agent(a: &Args, flags: &Path) -> anyhow::Result<Child> {
    let mut cmd = match &a.core {
        Some(core) => {
            let mut c = Command::new("taskset");
            c.args(["-c", core]).arg(&a.agent_bin);
            c
        }
        None => Command::new(&a.agent_bin),
    };
    cmd.arg("--world")
        .arg("w1")
        .arg("--flags")
        .arg(flags)
        .arg("--http")
        .arg(format!("127.0.0.1:{}", a.port))
        .arg("--statsd-udp")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(a.dir.join("agent-data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(a.dir.join("agent.log"))?);
    Ok(cmd.spawn()?)
}

struct Saver {
    kind: String,
    dir: PathBuf,
    /// What the agent is told to read.
    path: PathBuf,
}

impl Saver {
    fn new(kind: &str, dir: PathBuf) -> anyhow::Result<Self> {
        if !matches!(kind, "in-place" | "rename" | "symlink") {
            bail!("--kind is in-place, rename or symlink, not {kind}");
        }
        let path = dir.join("flags.toml");
        if kind == "symlink" {
            std::os::unix::fs::symlink("..data/flags.toml", &path)?;
        }
        Ok(Self {
            kind: kind.into(),
            dir,
            path,
        })
    }

    fn save(&self, text: &str, i: i64) -> anyhow::Result<()> {
        match self.kind.as_str() {
            "in-place" => std::fs::write(&self.path, text)?,
            "rename" => {
                let tmp = self.dir.join(".flags.toml.swp");
                std::fs::write(&tmp, text)?;
                std::fs::rename(&tmp, &self.path)?;
            }
            _ => {
                let version = format!("..v{i}");
                std::fs::create_dir(self.dir.join(&version))?;
                std::fs::write(self.dir.join(&version).join("flags.toml"), text)?;
                let tmp = self.dir.join("..data_tmp");
                std::os::unix::fs::symlink(&version, &tmp)?;
                std::fs::rename(&tmp, self.dir.join("..data"))?;
                if i > 0 {
                    let _ = std::fs::remove_dir_all(self.dir.join(format!("..v{}", i - 1)));
                }
            }
        }
        Ok(())
    }
}
