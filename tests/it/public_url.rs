//! The links in pages point where people can open them: a configured
//! `public_url` survives `--listen`, and without one the collector uses the
//! address it actually bound (port 0 gives the real port). A silent agent
//! makes the real page (`AgentSilent`) whose links are checked.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use liveops_protocol::Notification;

use crate::support::*;

/// Starts an agent reporting to `collector`, lets it report, stops it, and
/// returns the `AgentSilent` page that follows.
async fn silent_agent_page(dir: &Path, collector: &str) -> Notification {
    let agent = start_agent(agent_config(dir, "pu1", collector)).await;
    let reported = || async {
        let worlds = try_get_json(&format!("{collector}/api/v1/worlds")).await?;
        worlds
            .to_string()
            .contains("pu1")
            .then_some(())
            .ok_or(worlds.to_string())
    };
    eventually(Duration::from_secs(10), "a report from pu1", reported).await;
    agent.stop();
    agent.wait().await.unwrap();
    eventually(Duration::from_secs(10), "an AgentSilent page", || async {
        pager_log(dir)
            .into_iter()
            .find(|n| n.label("alertname") == Some("AgentSilent"))
            .ok_or("no page yet".to_owned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_public_url_survives_listen_in_the_links_of_a_page() {
    let bin = built(&["liveops-collector"]);
    let dir = tempfile::tempdir().unwrap();
    let listen = std::net::TcpListener::bind(any_port())
        .unwrap()
        .local_addr()
        .unwrap();
    let pager = dir.path().join("pager.jsonl");
    let text = liveops_config::DEFAULT_COLLECTOR_TOML
        .replace(
            "# public_url = \"https://liveops.internal.example\"",
            "public_url = \"https://liveops.example/\"",
        )
        .replace("no_data_after = \"5s\"", "no_data_after = \"1s\"")
        .replace(
            "kind = \"stdout\"",
            &format!("kind = \"file\"\npath = \"{}\"", pager.display()),
        );
    let file = dir.path().join("collector.toml");
    std::fs::write(&file, text).unwrap();
    let mut child = Command::new(bin.join("liveops-collector"))
        .arg("--config")
        .arg(&file)
        .args(["--listen", &listen.to_string(), "--data-dir"])
        .arg(dir.path().join("collector"))
        .env("LIVEOPS_AGENT_TOKEN", AGENT_TOKEN)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("starting liveops-collector");
    let url = format!("http://{listen}");
    eventually(Duration::from_secs(10), "the collector up", || async {
        try_get_json(&format!("{url}/api/v1/worlds"))
            .await
            .map(|_| ())
    })
    .await;

    let page = silent_agent_page(dir.path(), &url).await;
    assert_eq!(page.generator_url, "https://liveops.example");
    assert_eq!(
        page.annotations["runbook_url"],
        "https://liveops.example/runbooks/uptime"
    );
    terminate(&mut child, "collector");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_public_url_links_use_the_port_actually_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = collector_config(dir.path(), any_port());
    cfg.no_data_after = Duration::from_secs(1);
    assert_eq!(cfg.public_url, None);
    let collector = start_collector(cfg).await;
    let url = collector.url();
    assert!(!url.ends_with(":0"));

    let page = silent_agent_page(dir.path(), &url).await;
    assert_eq!(page.generator_url, url);
    assert_eq!(
        page.annotations["runbook_url"],
        format!("{url}/runbooks/uptime")
    );
    collector.stop();
    collector.wait().await.unwrap();
}
