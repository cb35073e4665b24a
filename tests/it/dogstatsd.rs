//! Compatibility with a real third-party DogStatsD client: Datadog's Python
//! `DogStatsd` sends counters with tags and sample rates, timings,
//! histograms, distributions, gauges, a set, events and service checks to
//! the agent over UDP and over its Unix socket (`dogstatsd_client.py`).
//! Every SLO counts exactly what was sent, weighted by sample rate; the
//! agent's `/metrics` counts every line, none malformed, and the set, events
//! and service checks as unsupported. Garbage sent from Rust is counted as
//! malformed, line by line.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::*;

const WITHIN: Duration = Duration::from_secs(10);
/// One run of `dogstatsd_client.py`; the test runs it twice (UDP, Unix).
const LINES_PER_RUN: f64 = 190.0;
const UNSUPPORTED_PER_RUN: f64 = 5.0;
/// (SLO, events, good events) per run.
const SLOS_PER_RUN: [(&str, f64, f64); 4] = [
    ("error_rate", 155.0, 145.0),
    ("payment_success", 70.0, 30.0),
    ("auth_latency", 8.0, 6.0),
    ("tick_latency", 5.0, 3.0),
];
/// Five malformed lines in three datagrams.
const GARBAGE: [&[u8]; 3] = [
    b"garbage",
    b"request:one|c|#status:error",
    b"request:1|c|@1.5\nrequest:1|q\n:1|c",
];

const INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install -r tests/python-requirements.txt \
     (or `.venv/bin/pip install datadog`), or point LIVEOPS_PYTHON at a Python that has it";

/// A Python that can import `datadog`: `$LIVEOPS_PYTHON`, else the
/// workspace's `.venv`, created with the pinned version from
/// `tests/python-requirements.txt` when it is missing (so `cargo test` on a
/// fresh machine needs nothing else). Never skips: if no Python can be had,
/// the test fails and says how to install it.
fn python() -> PathBuf {
    let venv = workspace().join(".venv");
    let candidates: Vec<PathBuf> = std::env::var_os("LIVEOPS_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([venv.join("bin/python")])
        .collect();
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", "import datadog.dogstatsd"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if let Some(found) = candidates.iter().find(|p| imports(p)) {
        return found.clone();
    }
    if std::env::var_os("LIVEOPS_PYTHON").is_none() {
        bootstrap_venv(&venv);
        if imports(&venv.join("bin/python")) {
            return venv.join("bin/python");
        }
    }
    panic!(
        "this test needs Python's `datadog` package; none of {candidates:?} imports it. From the workspace root: {INSTALL}"
    );
}

/// `python3 -m venv .venv && .venv/bin/pip install -r tests/python-requirements.txt`,
/// once; concurrent test binaries are not a concern (one test uses it).
fn bootstrap_venv(venv: &Path) {
    eprintln!(
        "creating {} with the pinned datadog client (first run only)",
        venv.display()
    );
    let ok = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(workspace().join("tests/python-requirements.txt"))
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("could not create {}", venv.display());
    }
}

async fn run_client(python: &Path, args: Vec<String>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/dogstatsd_client.py");
    let python = python.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(&script)
            .args(&args)
            .output()
            .expect("running Python")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "dogstatsd_client.py failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datadogs_python_client_is_understood_over_udp_and_unix() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let socket = dir.path().join("dsd.sock");
    let mut cfg = agent_config(dir.path(), "py1", &url);
    cfg.statsd_unix = Some(socket.clone());
    let agent = start_agent(cfg).await;
    let udp = agent.bound().statsd_udp.unwrap();

    let udp_args = ["udp".into(), udp.ip().to_string(), udp.port().to_string()];
    run_client(&python, udp_args.into()).await;
    run_client(&python, vec!["unix".into(), socket.display().to_string()]).await;

    let metrics_url = format!("http://{}/metrics", agent.bound().http);
    let world = [("world", "py1")];
    let counter = |text: &str, name: &str| sample(text, name, &world).unwrap_or(-1.0);
    let lines = "liveops_agent_statsd_lines_total";
    let text = eventually(WITHIN, "every line received", || async {
        let text = get_text(&metrics_url).await;
        match counter(&text, lines) {
            n if n >= 2.0 * LINES_PER_RUN => Ok(text),
            n => Err(format!("{n} lines")),
        }
    })
    .await;
    assert_eq!(counter(&text, lines), 2.0 * LINES_PER_RUN, "{text}");
    let unsupported = counter(&text, "liveops_agent_statsd_unsupported_lines_total");
    assert_eq!(unsupported, 2.0 * UNSUPPORTED_PER_RUN, "{text}");
    let malformed = "liveops_agent_statsd_malformed_lines_total";
    assert_eq!(counter(&text, malformed), 0.0, "{text}");

    for (name, events, good) in SLOS_PER_RUN {
        expect_events(&url, "py1", name, 2.0 * events, WITHIN).await;
        let row = slo(&url, "py1", name).await.unwrap();
        assert!(close(&row["sli"], good / events), "{row}");
    }

    let sock = UdpSocket::bind(any_port()).unwrap();
    for datagram in GARBAGE {
        sock.send_to(datagram, udp).unwrap();
    }
    let text = eventually(WITHIN, "garbage counted as malformed", || async {
        let text = get_text(&metrics_url).await;
        match counter(&text, malformed) {
            n if n >= 5.0 => Ok(text),
            n => Err(format!("{n} malformed")),
        }
    })
    .await;
    assert_eq!(counter(&text, malformed), 5.0, "{text}");
    assert_eq!(counter(&text, lines), 2.0 * LINES_PER_RUN + 5.0, "{text}");
    // Once a report taken after the garbage has been delivered, the
    // `request:…|#status:error` among it has still added no event.
    let sent = "liveops_agent_reports_sent_total";
    let before = counter(&text, sent);
    eventually(WITHIN, "two more reports delivered", || async {
        match counter(&get_text(&metrics_url).await, sent) {
            n if n >= before + 2.0 => Ok(()),
            n => Err(format!("{n} reports sent")),
        }
    })
    .await;
    let row = slo(&url, "py1", "error_rate").await.unwrap();
    assert_eq!(row["events"].as_f64(), Some(310.0), "garbage adds no event");

    agent.stop();
    agent.wait().await.unwrap();
    collector.stop();
    collector.wait().await.unwrap();
}
