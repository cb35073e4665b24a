//! Hot reload in a running `liveops-collector` binary: a schedule saved as
//! an editor saves it (a new file renamed over the old) is served at once
//! and tells the people it moves; a broken one is refused with its
//! `file:line:col`, the last good one stays, and `/healthz`, `/metrics`
//! and the log say so; a FIFO in its place is refused without blocking;
//! a broken paging policy is refused the same way.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::paging::handoff::policy;
use crate::support::*;

fn schedule(primary: &str) -> String {
    format!(
        r#"[team.ops]
[person.ana]
zone = "UTC"
email = "ana@example.com"
[person.ben]
zone = "UTC"
email = "ben@example.com"
[rotation.ops-primary]
team = "ops"
role = "primary"
members = ["{primary}"]
shift = "1w"
handoff = "09:00"
zone = "UTC"
start = "2026-01-05"
"#
    )
}

/// Writes `text` beside `path` and renames it over, as editors do.
fn save(path: &Path, text: &str) {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn primary(url: &str) -> Result<String, String> {
    let v = try_get_json(&format!("{url}/api/v1/oncall")).await?;
    v["on_call"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|o| o["team"] == "ops" && o["role"] == "primary")
        })
        .and_then(|o| o["person"].as_str().map(str::to_owned))
        .ok_or_else(|| v.to_string())
}

async fn health(url: &str, file: &str) -> Value {
    try_get_json(&format!("{url}/healthz")).await.unwrap()["config"][file].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_collector_takes_a_saved_schedule_and_refuses_a_broken_one() {
    let bin = built(&["liveops-collector"]);
    let dir = tempfile::tempdir().unwrap();
    let (oncall, paging) = (
        dir.path().join("oncall.toml"),
        dir.path().join("paging.toml"),
    );
    let pages = dir.path().join("pages.jsonl");
    std::fs::write(&oncall, schedule("ana")).unwrap();
    let channel = format!("file:{}", pages.display());
    std::fs::write(&paging, policy(&channel)).unwrap();
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = dir.path().join("collector.toml");
    // The shipped config (its SLOs), on a free port, with both files and
    // a file channel.
    let shipped = std::fs::read_to_string(workspace().join("config/collector.toml")).unwrap();
    let ours = format!(
        "[collector]\nlisten = \"{listen}\"\ndata_dir = \"{}\"\noncall = \"{}\"\npaging = \"{}\"\n",
        dir.path().join("data").display(),
        oncall.display(),
        paging.display(),
    );
    let toml = shipped
        .replace("[collector]\n", &ours)
        .replace("listen = \"127.0.0.1:9470\"\n", "")
        .replace("data_dir = \"liveops-collector-data\"\n", "")
        + &format!(
            "\n[[notifier]]\nkind = \"file\"\npath = \"{}\"\n",
            pages.display()
        );
    std::fs::write(&config, toml).unwrap();
    let log = dir.path().join("collector.log");
    let mut child = Command::new(bin.join("liveops-collector"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting liveops-collector");
    let url = format!("http://{listen}");
    let wait = Duration::from_secs(15);
    eventually(wait, "ana on call", || async {
        match primary(&url).await? {
            p if p == "ana" => Ok(()),
            p => Err(p),
        }
    })
    .await;
    assert_eq!(health(&url, "oncall").await["state"], "valid");

    // A good save is served at once, and both people hear of it.
    save(&oncall, &schedule("ben"));
    eventually(wait, "ben on call", || async {
        match primary(&url).await? {
            p if p == "ben" => Ok(()),
            p => Err(p),
        }
    })
    .await;
    let moved = eventually(wait, "the moved-shift notices", || async {
        let text = std::fs::read_to_string(&pages).unwrap_or_default();
        let notices: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["notice"]["kind"] == "shifts-moved")
            .collect();
        match notices.len() {
            2 => Ok(notices),
            _ => Err(text),
        }
    })
    .await;
    let to = |who: &str| {
        moved
            .iter()
            .find(|n| n["to"]["person"] == who)
            .cloned()
            .unwrap()
    };
    assert!(!to("ben")["notice"]["gained"].as_array().unwrap().is_empty());
    assert!(!to("ana")["notice"]["lost"].as_array().unwrap().is_empty());

    // A broken save: refused, ben stays on call, and every place says why.
    save(
        &oncall,
        &schedule("ben").replace(
            "zone = \"UTC\"\nemail = \"ben",
            "zone = \"Mars/Olympus\"\nemail = \"ben",
        ),
    );
    let refused = eventually(wait, "the refusal in /healthz", || async {
        let h = health(&url, "oncall").await;
        match h["state"] == "refused" {
            true => Ok(h),
            false => Err(h.to_string()),
        }
    })
    .await;
    let error = refused["last_error"].as_str().unwrap();
    let at = format!("{}:6:8:", oncall.display());
    assert!(
        error.contains(&at) && error.contains("Mars/Olympus"),
        "{error}"
    );
    assert_eq!(primary(&url).await.unwrap(), "ben");
    let metrics = get_text(&format!("{url}/metrics")).await;
    let rejected = [("file", "oncall"), ("outcome", "rejected")];
    assert_eq!(
        sample(
            &metrics,
            "liveops_collector_config_reloads_total",
            &rejected
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "liveops_collector_config_file_valid",
            &[("file", "oncall")]
        ),
        Some(0.0)
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("config file refused") && logged.contains(&at),
        "{logged}"
    );

    // A FIFO in its place is refused at once; the collector still answers.
    std::fs::remove_file(&oncall).unwrap();
    let made = Command::new("mkfifo").arg(&oncall).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    eventually(wait, "the FIFO refused", || async {
        let h = health(&url, "oncall").await;
        match h["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("is a FIFO"))
        {
            true => Ok(()),
            false => Err(h.to_string()),
        }
    })
    .await;
    std::fs::remove_file(&oncall).unwrap();
    save(&oncall, &schedule("ben"));
    eventually(wait, "the good file back in force", || async {
        let h = health(&url, "oncall").await;
        match h["state"] == "valid" {
            true => Ok(()),
            false => Err(h.to_string()),
        }
    })
    .await;

    // A paging policy naming a channel that does not exist is refused too.
    save(&paging, &policy("nowhere"));
    let h = eventually(wait, "the policy refused", || async {
        let h = health(&url, "paging").await;
        match h["state"] == "refused" {
            true => Ok(h),
            false => Err(h.to_string()),
        }
    })
    .await;
    let error = h["last_error"].as_str().unwrap();
    assert!(
        error.contains(&format!("{}:", paging.display()))
            && error.contains("unknown channel `nowhere`"),
        "{error}"
    );
    terminate(&mut child, "liveops-collector");
}
