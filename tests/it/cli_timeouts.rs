//! The operator CLI against a collector that accepts connections and never
//! answers (wedged, or a black-holing proxy): every command gives up at
//! `--timeout`, names the collector and the timeout that fired, and exits
//! non-zero instead of hanging an incident.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{liveops_bin, run};

/// Accepts every connection and holds it open without reading or writing,
/// until the test ends.
fn silent_collector() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

async fn gives_up(args: &[&str]) {
    let url = silent_collector();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(liveops_bin());
    cmd.args(args)
        .args(["--collector", &url, "--timeout", "500ms"])
        .env_remove("LIVEOPS_TIMEOUT")
        .env("LIVEOPS_TOKEN", "any-token");
    let started = Instant::now();
    let out = run(cmd, Duration::from_secs(10), dir.path()).await;
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "liveops {args:?} succeeded: {stderr}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "liveops {args:?} took {took:?} with --timeout 500ms"
    );
    assert!(
        stderr.contains(&format!(
            "the collector at {url} did not answer within 500ms (request timeout"
        )),
        "liveops {args:?} stderr: {stderr}"
    );
}

#[tokio::test]
async fn status_gives_up_at_its_timeout() {
    gives_up(&["status"]).await;
}

#[tokio::test]
async fn mitigate_list_gives_up_at_its_timeout() {
    gives_up(&["mitigate", "list"]).await;
}

#[tokio::test]
async fn audit_verify_gives_up_at_its_timeout() {
    gives_up(&["audit", "verify"]).await;
}

#[tokio::test]
async fn the_timeout_also_comes_from_the_environment_and_is_checked() {
    let url = silent_collector();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(liveops_bin());
    cmd.args(["status", "--collector", &url])
        .env("LIVEOPS_TIMEOUT", "300ms");
    let started = Instant::now();
    let out = run(cmd, Duration::from_secs(10), dir.path()).await;
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_millis(1300));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("within 300ms (request timeout"), "{stderr}");

    let mut cmd = Command::new(liveops_bin());
    cmd.args(["status", "--collector", &url, "--timeout", "soon"]);
    let out = run(cmd, Duration::from_secs(10), dir.path()).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad --timeout is a usage error"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`soon` is not a duration"), "{stderr}");
}
