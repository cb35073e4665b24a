//! The collector's published schedule: `/oncall` loaded in a real headless
//! Chromium and checked against `oncall who`; `/api/v1/oncall` and the
//! `/oncall.ics` feed read over HTTP.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{any_port, collector_config, http, run, start_collector};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The DOM of `url` as Chromium renders it. Fails (never skips) without
/// Chromium, saying how to install it.
async fn dump_dom(url: &str, dir: &Path) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "this test needs Chromium at {CHROMIUM}: apt-get install -y --no-install-recommends chromium (.ci/run does)"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.path().display()));
    cmd.args(["--dump-dom", url]);
    let out = run(cmd, Duration::from_secs(90), dir).await;
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 DOM")
}

/// `(team, role)` → the names in that row of the "Now" table, in order.
fn now_rows(dom: &str) -> BTreeMap<(String, String), Vec<String>> {
    let mut rows = BTreeMap::new();
    let mut rest = dom;
    while let Some(i) = rest.find("<tr data-team=\"") {
        rest = &rest[i + "<tr data-team=\"".len()..];
        let team = rest[..rest.find('"').unwrap()].to_owned();
        let r = rest.find("data-role=\"").unwrap() + "data-role=\"".len();
        let role = rest[r..r + rest[r..].find('"').unwrap()].to_owned();
        let row = &rest[..rest.find("</tr>").unwrap()];
        let mut names = Vec::new();
        let mut cells = row;
        while let Some(p) = cells.find("<span class=\"person\"") {
            cells = &cells[p..];
            let start = cells.find('>').unwrap() + 1;
            let end = cells.find("</span>").unwrap();
            names.push(cells[start..end].to_owned());
            cells = &cells[end..];
        }
        rows.insert((team, role), names);
    }
    rows
}

/// `oncall who --json` now, grouped as the page groups it.
fn who_rows() -> BTreeMap<(String, String), Vec<String>> {
    let mut rows: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for team in ["engineering", "ops", "community"] {
        for role in ["primary", "secondary"] {
            rows.insert((team.into(), role.into()), Vec::new());
        }
    }
    let out = Command::new(crate::support::liveops_bin())
        .args(["oncall", "who", "--json", "--schedule"])
        .arg(super::shipped())
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for o in list {
        let key = (
            o["team"].as_str().unwrap().to_owned(),
            o["role"].as_str().unwrap().to_owned(),
        );
        rows.entry(key)
            .or_default()
            .push(o["person"].as_str().unwrap().to_owned());
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oncall_page_in_a_browser_names_who_oncall_who_names() {
    let dir = tempfile::tempdir().unwrap();
    // The collector publishes its embedded schedule: the shipped file.
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = format!("{}/oncall", collector.url());
    // Asked on both sides of the page load: a handoff in between (ops
    // changes hands twice a day) would make them differ, so try again.
    let mut checked = false;
    for _ in 0..3 {
        let before = tokio::task::spawn_blocking(who_rows).await.unwrap();
        let dom = dump_dom(&url, dir.path()).await;
        let after = tokio::task::spawn_blocking(who_rows).await.unwrap();
        if before != after {
            continue;
        }
        let page = now_rows(&dom);
        assert_eq!(page.len(), 6, "a row per team and role: {dom}");
        assert_eq!(page, before, "the page and `oncall who` disagree");
        assert!(
            before.values().all(|names| !names.is_empty()),
            "somebody in every row"
        );
        assert!(dom.contains("Next four weeks"), "{dom}");
        assert!(!dom.contains("example.com"), "no contact is published");
        checked = true;
        break;
    }
    assert!(
        checked,
        "`oncall who` changed during each of three page loads"
    );

    let api: serde_json::Value = http()
        .get(format!("{}/api/v1/oncall", collector.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        api["on_call"].as_array().is_some_and(|a| a.len() >= 6),
        "{api}"
    );
    assert!(
        api["shifts"].as_array().is_some_and(|a| a.len() > 100),
        "{api}"
    );
    assert!(
        api["on_call"][0]["from"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );

    let ics = http()
        .get(format!("{}/oncall.ics", collector.url()))
        .send()
        .await
        .unwrap();
    let content_type = ics.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    let body = ics.text().await.unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.contains("BEGIN:VEVENT\r\n"));
}
