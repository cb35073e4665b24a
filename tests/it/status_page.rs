//! The one incident page in a real browser: `liveops demo` pages a world
//! down and opens INC-1; two updates are published with the real CLI and an
//! internal note is added; headless Chromium, JavaScript off, loads the
//! public `/status` and `/status/incidents/1` (both updates there, the note
//! nowhere) and, with a token, the internal `/incidents/1` (the note too).
//! The in-game banner sent for it reaches the world's game.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::ofrep_python::python;
use crate::support::*;

const TOKEN: &str = "it-status-page-admin-token";

async fn cli(dir: &std::path::Path, url: &str, args: &[&str]) -> String {
    let out = liveops_cli(dir, url, TOKEN, args).await;
    assert!(out.status.success(), "liveops {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DOM Chromium renders for `url`, with `bearer` as the token if given.
async fn browse(dir: &std::path::Path, url: &str, bearer: Option<&str>) -> String {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "this test needs Chromium: apt-get install -y --no-install-recommends chromium (.ci/run does)"
    );
    let py = tokio::task::spawn_blocking(|| python("websockets"))
        .await
        .unwrap();
    let mut cmd = Command::new(py);
    cmd.arg(workspace().join("tests/it/browser/cdp_page.py"))
        .arg(url);
    if let Some(t) = bearer {
        cmd.args(["--bearer", t]);
    }
    let out = run(cmd, Duration::from_secs(120), dir).await;
    assert!(out.status.success(), "cdp_page.py {url}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_pages_show_the_updates_in_a_browser_and_no_internal_note_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut demo = Command::new(liveops_bin())
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "120",
        ])
        .args(["--agent-http-base", "0", "--statsd-base", "0"])
        .args(["--fault", "down", "--fault-at", "2", "--admin-token", TOKEN])
        .arg("--data-dir")
        .arg(d.join("data"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(d.join("demo.txt")).unwrap())
        .stderr(std::fs::File::create(d.join("demo.err")).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    eventually(Duration::from_secs(30), "INC-1 in the demo", || async {
        let r = client
            .get(format!("{url}/api/v1/incidents/INC-1"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        (r.status() == 200)
            .then_some(())
            .ok_or(r.status().to_string())
    })
    .await;

    cli(
        d,
        &url,
        &[
            "incident",
            "note",
            "INC-1",
            "internal-only: the host's disk is full",
        ],
    )
    .await;
    cli(
        d,
        &url,
        &[
            "comms",
            "send",
            "INC-1",
            "--channel",
            "status",
            "--message",
            "World w2 is down; we are on it.",
            "--apply",
        ],
    )
    .await;
    cli(d, &url, &["incident", "status", "INC-1", "identified"]).await;
    cli(
        d,
        &url,
        &["comms", "send", "INC-1", "--channel", "status", "--apply"],
    )
    .await;

    // The in-game banner reaches w2's game through its agent.
    let sent = cli(
        d,
        &url,
        &["comms", "send", "INC-1", "--channel", "banner", "--apply"],
    )
    .await;
    assert!(sent.contains("--- sent"), "{sent}");
    let printed = std::fs::read_to_string(d.join("demo.txt")).unwrap();
    let game = printed
        .lines()
        .find(|l| l.trim_start().starts_with("w2 ") && l.contains(" game "))
        .and_then(|l| l.rsplit(" game ").next())
        .expect("the demo prints w2's game URL")
        .trim()
        .to_owned();
    let health: serde_json::Value = reqwest::get(format!("{game}/liveops/v1/banner"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = health["banner"]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(&format!("{url}/status/incidents/1")),
        "{health}"
    );
    assert_eq!(health["banner"]["incident"], "INC-1", "{health}");

    let status = browse(d, &format!("{url}/status"), None).await;
    let public = browse(d, &format!("{url}/status/incidents/1"), None).await;
    let internal = browse(d, &format!("{url}/incidents/1"), Some(TOKEN)).await;
    let anonymous = browse(d, &format!("{url}/incidents/1"), None).await;
    let _ = demo.kill();
    let _ = demo.wait();

    assert!(status.starts_with("<!-- status 200 -->"), "{status}");
    assert!(
        status.contains("<a href=\"/status/incidents/1\">"),
        "{status}"
    );
    assert!(
        status.contains(">w2</td><td class=\"down\">down</td>"),
        "{status}"
    );
    for page in [&public, &internal] {
        let first = page.find("World w2 is down; we are on it.").expect(page);
        let second = page
            .find("The cause has been identified and a fix is being worked on.")
            .expect(page);
        assert!(first < second, "in order: {page}");
    }
    for page in [&status, &public] {
        assert!(!page.contains("internal-only"), "leaked: {page}");
        assert!(
            !page.contains("demo-admin") && !page.contains("SEV1"),
            "internal detail: {page}"
        );
    }
    assert!(
        internal.contains("internal-only: the host's disk is full"),
        "{internal}"
    );
    assert!(internal.contains("SEV1"), "{internal}");
    assert!(
        internal.contains("banner message (identified)") && internal.contains("(shown in w2)"),
        "{internal}"
    );
    assert!(anonymous.starts_with("<!-- status 401 -->"), "{anonymous}");
    assert!(!anonymous.contains("internal-only"), "{anonymous}");
}
