//! Both servers under connection pressure, as the real binaries run: under
//! a 1,024-descriptor limit, 2,000 idle connections (and some half-sent
//! request heads) do not stop `/healthz` answering within 200 ms; a
//! slowloris head is cut at `header_read_timeout` while a kept-alive
//! connection waits `idle_timeout`; and server-sent event streams outlive
//! the idle timeout.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use liveops_agent::Agent;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `bin` started through `sh` with at most 1,024 open files (soft and hard).
fn under_1024_files(bin: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -n 1024 && exec "$0" "$@""#)
        .arg(bin)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    cmd
}

/// A child killed when dropped, so a failed assertion leaves no server
/// running; [`Running::terminate`] is the clean stop the tests check.
struct Running(Child, &'static str);

impl Running {
    fn terminate(mut self) {
        terminate(&mut self.0, self.1);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn collector_bin(data: &Path, listen: SocketAddr) -> Running {
    let bin = crate::support::built(&["liveops-collector"]).join("liveops-collector");
    under_1024_files(&bin)
        .args(["--listen", &listen.to_string(), "--data-dir"])
        .arg(data)
        .env("LIVEOPS_AGENT_TOKEN", AGENT_TOKEN)
        .spawn()
        .map(|c| Running(c, "collector"))
        .expect("starting liveops-collector")
}

fn agent_bin(data: &Path, http: SocketAddr, config: Option<&Path>) -> Running {
    let bin = crate::support::built(&["liveops-agent"]).join("liveops-agent");
    let mut cmd = under_1024_files(&bin);
    cmd.args([
        "--world",
        "fd1",
        "--collector",
        &format!("http://{}", free_port()),
    ])
    .args(["--statsd-udp", "127.0.0.1:0", "--http", &http.to_string()])
    .arg("--data-dir")
    .arg(data);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.spawn()
        .map(|c| Running(c, "agent"))
        .expect("starting liveops-agent")
}

async fn wait_healthy(addr: SocketAddr) {
    let url = format!("http://{addr}/healthz");
    eventually(Duration::from_secs(20), "/healthz", || try_get_json(&url)).await;
}

/// 2,000 connections that never send a byte and 10 that send half a head.
async fn hog(addr: SocketAddr) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(2_010);
    for _ in 0..2_000 {
        held.push(TcpStream::connect(addr).await.expect("connect"));
    }
    for _ in 0..10 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    held
}

/// `/healthz` on a new connection each time, five times; each answer's time.
async fn healthz_times(addr: SocketAddr) -> Vec<Duration> {
    let url = format!("http://{addr}/healthz");
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let resp = http().get(&url).send().await.expect("/healthz answers");
        assert!(resp.status().is_success(), "/healthz: {}", resp.status());
        times.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    times
}

async fn healthz_survives_idle_connections(child: Running, addr: SocketAddr, what: &str) {
    wait_healthy(addr).await;
    let opened = Instant::now();
    let held = hog(addr).await;
    // The server accepts the last of the flood (closing the longest-idle to
    // make room) a little after the client has opened it; without room
    // made, `/healthz` never answers at all.
    let url = format!("http://{addr}/healthz");
    let caught_up = Instant::now();
    eventually(Duration::from_secs(5), "/healthz after the flood", || {
        try_get_json(&url)
    })
    .await;
    eprintln!(
        "{what}: 2,010 connections opened in {:?}; first /healthz after {:?}",
        caught_up - opened,
        caught_up.elapsed()
    );
    let times = healthz_times(addr).await;
    eprintln!("{what}: /healthz with 2,010 idle connections open: {times:?}");
    for t in &times {
        assert!(
            *t < Duration::from_millis(200),
            "{what}: /healthz took {t:?} ({times:?})"
        );
    }
    // A clean stop with all of them still open: idle connections do not
    // hold up a graceful shutdown.
    child.terminate();
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_under_1024_files_answers_healthz_past_2000_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let child = collector_bin(&dir.path().join("c"), listen);
    healthz_survives_idle_connections(child, listen, "collector").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_under_1024_files_answers_healthz_past_2000_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let http = free_port();
    let child = agent_bin(&dir.path().join("a"), http, None);
    healthz_survives_idle_connections(child, http, "agent").await;
}

/// Reads until the peer closes; how long that took from `since`.
async fn closed_after(stream: &mut TcpStream, since: Instant) -> Duration {
    let mut buf = [0u8; 1024];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    since.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_head_is_cut_at_the_header_read_timeout_but_keep_alive_waits() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(&config, "[http]\nheader_read_timeout = \"300ms\"\n").unwrap();
    let http_addr = free_port();
    let child = agent_bin(&dir.path().join("a"), http_addr, Some(&config));
    wait_healthy(http_addr).await;

    // One byte every 100 ms: the head would take 4 s; it is cut at 300 ms.
    let mut slow = TcpStream::connect(http_addr).await.unwrap();
    let head = b"GET /healthz HTTP/1.1\r\nhost: slowloris.example\r\n\r\n";
    let started = Instant::now();
    let mut cut = None;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut = Some(started.elapsed());
                break;
            }
            Ok(Ok(_)) => panic!("a 4 s head was answered"),
            Err(_) => {}
        }
    }
    let cut = cut.expect("the slowloris connection was closed");
    eprintln!("slowloris head cut after {cut:?}");
    assert!(
        cut >= Duration::from_millis(250) && cut < Duration::from_millis(1000),
        "cut after {cut:?}"
    );

    // A kept-alive connection is idle, not reading a head: it outlives
    // the 300 ms header timeout (the idle timeout is the default 60 s).
    let mut kept = TcpStream::connect(http_addr).await.unwrap();
    for _ in 0..2 {
        kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 8192];
        let n = kept.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    // And one that never sends a byte is cut at the idle timeout, not
    // the header timeout.
    let mut quiet = TcpStream::connect(http_addr).await.unwrap();
    let mut buf = [0u8; 16];
    let early = tokio::time::timeout(Duration::from_millis(800), quiet.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "an idle connection was closed at the header timeout"
    );
    child.terminate();
    let _ = closed_after(&mut quiet, Instant::now()).await;
}

/// The number of `event: NAME` blocks read so far on `stream`.
async fn events_within(
    stream: &mut TcpStream,
    seen: &mut String,
    name: &str,
    want: usize,
    within: Duration,
) {
    let needle = format!("event: {name}");
    let deadline = Instant::now() + within;
    let mut buf = vec![0u8; 8192];
    while seen.matches(&needle).count() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{want} `{name}` events within {within:?}; got {seen}"))
            .expect("stream read");
        assert!(n > 0, "the stream was closed; got {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

fn short_idle() -> liveops_config::HttpConfig {
    liveops_config::HttpConfig {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        max_connections: 64,
    }
}

const FLAGS: &str = r#"[flag."market.fee"]
description = "Market fee, percent."
system      = "trade"
kind        = "ops"
owner       = "economy"
default     = 5
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_outlive_the_idle_timeout_on_both_servers() {
    let dir = tempfile::tempdir().unwrap();
    let mut ccfg = collector_config(dir.path(), any_port());
    ccfg.http_server = short_idle();
    let collector = start_collector(ccfg).await;
    let flags = dir.path().join("flags.toml");
    std::fs::write(&flags, FLAGS).unwrap();
    let mut acfg = agent_config(dir.path(), "sse1", &collector.url());
    acfg.flags.file = Some(flags.clone());
    acfg.http_server = short_idle();
    let agent = Agent::start(acfg, std::future::pending()).await.unwrap();

    let mut changes = TcpStream::connect(agent.bound().http).await.unwrap();
    changes
        .write_all(b"GET /liveops/v1/flags/changes HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut overrides = TcpStream::connect(collector.addr()).await.unwrap();
    let req = format!(
        "GET /api/v1/overrides/stream?world=sse1 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {AGENT_TOKEN}\r\n\r\n"
    );
    overrides.write_all(req.as_bytes()).await.unwrap();
    let (mut seen_changes, mut seen_overrides) = (String::new(), String::new());
    let first = Duration::from_secs(5);
    events_within(&mut changes, &mut seen_changes, "changed", 1, first).await;
    events_within(&mut overrides, &mut seen_overrides, "overrides", 1, first).await;

    // Five idle timeouts with nothing sent either way.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    std::fs::write(&flags, FLAGS.replace("default     = 5", "default     = 6")).unwrap();
    events_within(&mut changes, &mut seen_changes, "changed", 2, first).await;
    let resp = http()
        .post(format!("{}/api/v1/overrides", collector.url()))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"flag": "combat.attacks", "value": false, "world": "sse1", "reason": "idle test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    events_within(&mut overrides, &mut seen_overrides, "overrides", 2, first).await;

    agent.stop();
    agent.wait().await.unwrap();
    collector.stop();
    collector.wait().await.unwrap();
}
