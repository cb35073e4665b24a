//! The real binaries as an operator runs them: `liveops-collector` is killed
//! with SIGKILL mid-stream and restarted, and every event the game sent
//! through `liveops-agent` is still counted exactly once; the agent stops
//! cleanly on SIGTERM.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::terminate;

const TOKEN: &str = "binaries-test-token";

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn collector(bin: &Path, listen: SocketAddr, data: &Path) -> Child {
    Command::new(bin.join("liveops-collector"))
        .args(["--listen", &listen.to_string(), "--data-dir"])
        .arg(data)
        .env("LIVEOPS_AGENT_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("starting liveops-collector")
}

async fn error_rate_events(client: &reqwest::Client, collector: SocketAddr) -> Option<f64> {
    let url = format!("http://{collector}/api/v1/slos?world=bin1&slo=error_rate");
    let body: serde_json::Value = client.get(url).send().await.ok()?.json().await.ok()?;
    body["slos"][0]["events"].as_f64()
}

#[tokio::test]
async fn collector_killed_mid_stream_loses_no_report() {
    let bin = crate::support::built(&["liveops-agent", "liveops-collector"]);
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let (statsd, http) = (free_port(), free_port());
    let mut coll = collector(&bin, listen, &dir.path().join("collector"));
    let mut agent = Command::new(bin.join("liveops-agent"))
        .args([
            "--world",
            "bin1",
            "--collector",
            &format!("http://{listen}"),
        ])
        .args([
            "--statsd-udp",
            &statsd.to_string(),
            "--http",
            &http.to_string(),
            "--data-dir",
        ])
        .arg(dir.path().join("agent"))
        .env("LIVEOPS_AGENT_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("starting liveops-agent");
    tokio::time::sleep(Duration::from_millis(500)).await;

    // 40 datagrams of 25 requests, one every 200 ms: 8 s of traffic with
    // the collector dead for about 3 s of it.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let datagram = vec!["request:1|c|#op:march,status:ok"; 25].join("\n");
    let mut sent = 0.0;
    for i in 0..40 {
        if i == 12 {
            coll.kill().expect("SIGKILL the collector");
            coll.wait().unwrap();
        }
        if i == 27 {
            coll = collector(&bin, listen, &dir.path().join("collector"));
        }
        sock.send_to(datagram.as_bytes(), statsd).unwrap();
        sent += 25.0;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut events = None;
    while Instant::now() < deadline {
        events = error_rate_events(&client, listen).await;
        if events == Some(sent) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        events,
        Some(sent),
        "events counted by the collector after a SIGKILL and restart"
    );

    // SIGTERM: the agent flushes and exits 0.
    terminate(&mut agent, "agent");
    // SIGTERM: the collector checkpoints on its way out (each world's
    // record beside its series) and drops the journal; started again, it
    // restores the same count from the checkpoint alone.
    terminate(&mut coll, "collector");
    let journal: u64 = std::fs::read_dir(dir.path().join("collector/journal"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(
        journal, 0,
        "the checkpoint on the way out covers the journal"
    );
    let mut coll = collector(&bin, listen, &dir.path().join("collector"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut again = None;
    while Instant::now() < deadline && again.is_none() {
        again = error_rate_events(&client, listen).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(again, Some(sent), "events restored from the checkpoint");
    coll.kill().unwrap();
    coll.wait().unwrap();
}
