//! What every end-to-end test starts from: a collector and agents configured
//! from the shipped defaults, bound to `127.0.0.1:0`, with their data and
//! pager log in a temporary directory; simulated worlds beside the agents;
//! and small helpers to poll with a deadline, read the pager log and query
//! the HTTP APIs.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use liveops_agent::Agent;
use liveops_client::Target;
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{AgentConfig, CollectorConfig, NotifierConfig, Role, Secret};
use liveops_protocol::{Health, Notification, Report};
use liveops_simworld::{World, WorldConfig};
use serde_json::Value;
use tokio::sync::watch;

pub const AGENT_TOKEN: &str = "it-agent-token";
pub const VIEWER_TOKEN: &str = "it-viewer-token";
pub const ADMIN_TOKEN: &str = "it-admin-token";

/// The workspace root (this crate lives in `tests/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

pub fn tokens() -> Tokens {
    let mut t = Tokens::default();
    t.add_plain("it-agents", Role::Agent, AGENT_TOKEN);
    t.add_plain("it-viewer", Role::Viewer, VIEWER_TOKEN);
    t.add_plain("it-admin", Role::Admin, ADMIN_TOKEN);
    t
}

/// The shipped collector config on `listen`, its state under `dir`, and
/// notifications only to the pager log (no stdout noise in test output).
pub fn collector_config(dir: &Path, listen: SocketAddr) -> CollectorConfig {
    let mut cfg = liveops_config::default_collector();
    cfg.listen = listen;
    cfg.data_dir = dir.join("collector");
    cfg.notifiers = vec![NotifierConfig::File {
        path: dir.join("pager.jsonl"),
    }];
    cfg
}

pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().expect("literal address")
}

/// Starts a collector. Retried for a while: a restart on a previous
/// collector's exact address may find its socket or store not yet let go.
pub async fn start_collector(cfg: CollectorConfig) -> Collector {
    start_collector_with(cfg, tokens()).await
}

/// As [`start_collector`], with other tokens.
pub async fn start_collector_with(cfg: CollectorConfig, tokens: Tokens) -> Collector {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Collector::start(cfg.clone(), tokens.clone(), std::future::pending()).await {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                eprintln!("collector start: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("collector did not start on {}: {e}", cfg.listen),
        }
    }
}

/// One report from `agent` saying `world` is down (its health probe is
/// refused), as the agent sends it the moment health changes.
pub fn down_report(agent: &str, world: &str, seq: u64) -> Report {
    let now = liveops_protocol::time::now_ms();
    Report {
        agent: agent.into(),
        world: world.into(),
        seq,
        start_ms: now - 1000,
        end_ms: now,
        urgent: true,
        health: Health {
            up: false,
            probe_ok: false,
            stalled: false,
            up_ms: 0,
            observed_ms: 1000,
            detail: Some("connection refused".into()),
            ..Health::default()
        },
        counters: vec![],
        gauges: vec![],
        histograms: vec![],
        losses: Default::default(),
        flag_reloads: Vec::new(),
    }
}

/// The shipped agent config for `world`, reporting to `collector`, with
/// every listener on port 0 and its spool under `dir`.
pub fn agent_config(dir: &Path, world: &str, collector: &str) -> AgentConfig {
    let mut cfg = liveops_config::default_agent();
    cfg.world = world.to_owned();
    cfg.collector = collector.to_owned();
    cfg.token = Some(Secret(AGENT_TOKEN.to_owned()));
    cfg.statsd_udp = Some(any_port());
    cfg.http = any_port();
    cfg.data_dir = dir.join(format!("agent-{world}"));
    // As in the demo: tests send little, and 8 MiB only earns an rmem_max warning.
    cfg.ingest.recv_buffer_bytes = 1 << 20;
    cfg
}

pub async fn start_agent(cfg: AgentConfig) -> Agent {
    Agent::start(cfg, std::future::pending())
        .await
        .expect("agent starts")
}

/// A shutdown signal for things that only stop through a future (worlds).
/// Dropping the switch fires it too, so a failed test stops its worlds.
pub struct Switch(watch::Sender<bool>);

impl Switch {
    pub fn new() -> Switch {
        Switch(watch::channel(false).0)
    }

    pub fn signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

/// A simulated world with its agent, started as the demo starts them: the
/// world's HTTP port is bound first so the agent knows where to probe.
pub async fn start_world(dir: &Path, name: &str, collector: &str, stop: &Switch) -> (World, Agent) {
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let mut cfg = agent_config(dir, name, collector);
    cfg.game = Some(format!("http://{}", listener.local_addr().unwrap()));
    let agent = start_agent(cfg).await;
    let statsd = agent.bound().statsd_udp.expect("UDP listener");
    let world = World::start(
        WorldConfig::new(name, Target::Udp(statsd)),
        listener,
        stop.signal(),
    )
    .await
    .expect("world starts");
    (world, agent)
}

/// Polls `check` every 25 ms until it returns `Ok`, and returns that value;
/// panics with `what` and the last `Err` once `timeout` has passed.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}

/// Every complete line of the pager log (none yet if the file is missing).
pub fn pager_log(dir: &Path) -> Vec<Notification> {
    let text = std::fs::read_to_string(dir.join("pager.jsonl")).unwrap_or_default();
    // A line being written may be incomplete; only newline-ended ones count.
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad pager line {l}: {e}")))
        .collect()
}

/// No connection pool: a pooled connection to a stopped server would fail.
/// The collector's audit log entries, read with `token`.
pub async fn audit_entries(url: &str, token: &str) -> Vec<Value> {
    let audit: Value = http()
        .get(format!("{url}/api/v1/audit"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    audit["entries"].as_array().cloned().unwrap_or_default()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client")
}

/// `GET url` as JSON; `Err` on any failure, for use inside [`eventually`].
pub async fn try_get_json(url: &str) -> Result<Value, String> {
    let resp = http().get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("GET {url}: {}", resp.status()));
    }
    resp.json().await.map_err(|e| e.to_string())
}

pub async fn get_text(url: &str) -> String {
    let resp = http().get(url).send().await.expect("GET");
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.text().await.expect("body")
}

/// One SLO's status row for `world` from `GET /api/v1/slos`.
pub async fn slo(collector: &str, world: &str, slo: &str) -> Result<Value, String> {
    let body = try_get_json(&format!("{collector}/api/v1/slos?world={world}&slo={slo}")).await?;
    body["slos"]
        .as_array()
        .and_then(|rows| rows.first().cloned())
        .ok_or_else(|| format!("no {slo} row for {world} yet"))
}

/// Waits until the collector counts at least `want` events of `slo` in
/// `world`, then insists on exactly `want`: more would be double counting.
pub async fn expect_events(collector: &str, world: &str, name: &str, want: f64, within: Duration) {
    let what = format!("{want} {name} events in {world}");
    let got = eventually(within, &what, || async {
        let events = slo(collector, world, name).await?["events"].as_f64();
        let events = events.unwrap_or(0.0);
        (events >= want)
            .then_some(events)
            .ok_or(format!("{events} events"))
    })
    .await;
    assert_eq!(got, want, "{name} events in {world}");
}

/// Whether a JSON number is `want`, give or take float rounding.
pub fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|v| (v - want).abs() < 1e-12)
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
/// Labels are compared as a set: their order is the exporter's business.
pub fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut want: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    want.sort();
    metrics.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (n, mut have) = match series.split_once('{') {
            Some((n, l)) => (
                n,
                l.strip_suffix('}')?.split(',').map(str::to_owned).collect(),
            ),
            None => (series, Vec::new()),
        };
        have.sort();
        (n == name && have == want).then(|| value.parse().ok())?
    })
}

/// The `liveops` binary. `CARGO_BIN_EXE_*` exists only for a package's own
/// binaries and `cargo test --workspace` does not promise to build the CLI
/// first, so it is built here (quick when up to date), once per run.
pub fn liveops_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(build_liveops).clone()
}

fn build_liveops() -> PathBuf {
    if let Some(bin) = std::env::var_os("CARGO_BIN_EXE_liveops") {
        return bin.into();
    }
    let bin = built(&["liveops"]).join("liveops");
    assert!(bin.exists(), "{} missing after cargo build", bin.display());
    bin
}

/// Builds `packages` with the profile of this test binary (quick when up to
/// date) and returns the directory their binaries are in.
pub fn built(packages: &[&str]) -> PathBuf {
    // …/target/<profile>/deps/it-<hash>
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_owned();
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
    build.args(["build", "--quiet"]);
    for p in packages {
        build.args(["-p", p]);
    }
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.current_dir(workspace()).status();
    assert!(
        status.as_ref().is_ok_and(ExitStatus::success),
        "`cargo build` of {packages:?} failed ({status:?})"
    );
    profile_dir
}

/// Runs `cmd` to completion (killed after `deadline`), its output captured
/// in files under `dir` so that a chatty child can never block on a pipe.
/// The real `liveops` CLI run in `dir` against the collector at `url`
/// with `token`.
pub async fn liveops_cli(dir: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(liveops_bin());
    cmd.args(args).args(["--collector", url, "--token", token]);
    run(cmd, Duration::from_secs(30), dir).await
}

/// [`liveops_cli`] with the admin token, insisting on success; its stdout.
pub async fn liveops_ok(dir: &Path, url: &str, args: &[&str]) -> String {
    let out = liveops_cli(dir, url, ADMIN_TOKEN, args).await;
    assert!(out.status.success(), "liveops {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub async fn run(mut cmd: Command, deadline: Duration, dir: &Path) -> Output {
    let (out, err) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    let mut child = cmd.spawn().expect("starting a binary");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} still running after {deadline:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let read = |p: &Path| std::fs::read(p).unwrap_or_default();
    let (stdout, stderr) = (read(&out), read(&err));
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Stops a child with SIGTERM, as a service manager does, and insists that
/// it exits cleanly (flushes, last report, exit 0).
pub fn terminate(child: &mut std::process::Child, what: &str) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{what} exit after SIGTERM: {status}");
}
