//! Whatever lands at the flag file's path, the real agent keeps serving:
//! a FIFO, a directory and a 9 MiB file are each a refused reload named in
//! `/healthz` and `liveops_agent_flags_file_valid`, the last good flags
//! stay served over OFREP, a good save recovers, and SIGTERM stops the
//! agent promptly with a FIFO in place (opening one used to block the
//! reload for good, and shutdown behind it).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn flags(fee: i64) -> String {
    format!(
        "[flag.\"market.fee\"]\ndescription = \"Market fee, percent.\"\nsystem = \"trade\"\n\
         kind = \"ops\"\nowner = \"economy\"\ndefault = {fee}\n"
    )
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

/// Removes whatever is at `path`: file, FIFO or directory.
fn clear(path: &Path) {
    if path.is_dir() {
        std::fs::remove_dir_all(path).unwrap();
    } else {
        let _ = std::fs::remove_file(path);
    }
}

async fn fee(http: SocketAddr) -> Result<Value, String> {
    let resp = crate::support::http()
        .post(format!("http://{http}/ofrep/v1/evaluate/flags/market.fee"))
        .json(&json!({"context": {}}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = resp.json().await.map_err(|e| e.to_string())?;
    Ok(body["value"].clone())
}

async fn expect_fee(http: SocketAddr, want: i64) {
    eventually(
        Duration::from_secs(5),
        &format!("market.fee = {want}"),
        || async {
            let v = fee(http).await?;
            (v == json!(want)).then_some(()).ok_or(v.to_string())
        },
    )
    .await
}

/// Waits until `/healthz` shows the file refused for `why`, and checks the
/// metric and that the last good fee is still served.
async fn refused(http: SocketAddr, path: &Path, why: &str, good_fee: i64) {
    let url = format!("http://{http}/healthz");
    let status = eventually(Duration::from_secs(5), why, || async {
        let f = try_get_json(&url).await?["flags"].clone();
        let e = f["last_error"].as_str().unwrap_or("").to_owned();
        (f["state"] == "error" && e.contains(why))
            .then_some(f.clone())
            .ok_or(f.to_string())
    })
    .await;
    let error = status["last_error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("{}: ", path.display())),
        "{error}"
    );
    let metrics = get_text(&format!("http://{http}/metrics")).await;
    let valid = sample(
        &metrics,
        "liveops_agent_flags_file_valid",
        &[("world", "ff1")],
    );
    assert_eq!(valid, Some(0.0), "flags_file_valid with {why}");
    assert_eq!(
        fee(http).await.unwrap(),
        json!(good_fee),
        "last good flags with {why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifos_directories_and_huge_files_are_refused_and_never_block() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let path = dir.path().join("flags.toml");
    std::fs::write(&path, flags(5)).unwrap();
    let http = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let bin = built(&["liveops-agent"]).join("liveops-agent");
    let mut agent = Command::new(bin)
        .args(["--world", "ff1", "--collector", &collector.url()])
        .args(["--statsd-udp", "127.0.0.1:0", "--http", &http.to_string()])
        .arg("--flags")
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path().join("agent"))
        .env("LIVEOPS_AGENT_TOKEN", AGENT_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("starting liveops-agent");
    expect_fee(http, 5).await;

    clear(&path);
    mkfifo(&path);
    refused(http, &path, "is a FIFO (named pipe), not a regular file", 5).await;

    clear(&path);
    std::fs::create_dir(&path).unwrap();
    refused(http, &path, "is a directory, not a regular file", 5).await;

    clear(&path);
    // Renamed into place whole: written in place, the agent may read the
    // first megabytes while they are still a valid (small) file, and rightly
    // serve them.
    let mut huge = flags(8).into_bytes();
    huge.resize(9 << 20, b'\n');
    let staged = dir.path().join("flags.toml.staged");
    std::fs::write(&staged, huge).unwrap();
    std::fs::rename(&staged, &path).unwrap();
    refused(http, &path, "is larger than the limit of 8388608 bytes", 5).await;

    clear(&path);
    std::fs::write(&path, flags(7)).unwrap();
    expect_fee(http, 7).await;
    let status = try_get_json(&format!("http://{http}/healthz"))
        .await
        .unwrap();
    assert_eq!(status["flags"]["state"], "ok", "{status}");

    clear(&path);
    mkfifo(&path);
    refused(http, &path, "is a FIFO", 7).await;
    let started = Instant::now();
    terminate(&mut agent, "agent with a FIFO as its flag file");
    let took = started.elapsed();
    eprintln!("agent stopped {took:?} after SIGTERM with a FIFO in place");
    assert!(took < Duration::from_secs(3), "SIGTERM took {took:?}");
    collector.stop();
    collector.wait().await.unwrap();
}
