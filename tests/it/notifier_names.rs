//! Named webhooks: two receivers, one failing and one working, show apart on
//! the collector's `/metrics` under the names the config gave them, one
//! written and one derived from the host.

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{NotifierConfig, Role};

use crate::support::{down_report, get_text, sample};

/// A receiver that answers every POST with `status`; returns its URL.
async fn receiver(status: StatusCode) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new().route("/hook", post(move || async move { status }));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, server)
}

#[tokio::test]
async fn a_failing_webhook_is_told_from_a_working_one_by_its_name() {
    let (broken_url, broken) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let (ok_url, ok) = receiver(StatusCode::OK).await;
    // The shipped file with two webhooks added, as an operator would.
    let text = format!(
        "{}\n[[notifier]]\nkind = \"webhook\"\nurl = \"{broken_url}\"\nmax_attempts = 2\n\n\
         [[notifier]]\nkind = \"webhook\"\nname = \"ops-chat\"\nurl = \"{ok_url}\"\n",
        liveops_config::DEFAULT_COLLECTOR_TOML
    );
    let mut cfg = liveops_config::parse_collector("collector.toml", &text).unwrap();
    cfg.notifiers
        .retain(|n| matches!(n, NotifierConfig::Webhook { .. }));
    let names: Vec<_> = cfg
        .notifiers
        .iter()
        .filter_map(|n| match n {
            NotifierConfig::Webhook { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["webhook-127.0.0.1", "ops-chat"]);

    let dir = tempfile::tempdir().unwrap();
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.data_dir = dir.path().join("collector");
    let mut tokens = Tokens::default();
    tokens.add_plain("agents", Role::Agent, "agent-secret");
    let collector = Collector::start(cfg, tokens, std::future::pending())
        .await
        .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/reports", collector.url()))
        .bearer_auth("agent-secret")
        .json(&down_report("hook-agent", "w9", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The broken receiver fails for good after its second attempt (0.5 s backoff).
    let counters = |m: &str| {
        [
            ("sent", "webhook-127.0.0.1"),
            ("failed", "webhook-127.0.0.1"),
            ("sent", "ops-chat"),
            ("failed", "ops-chat"),
        ]
        .map(|(what, name)| {
            sample(
                m,
                &format!("liveops_notifications_{what}_total"),
                &[("notifier", name)],
            )
            .unwrap_or(0.0)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let metrics = get_text(&format!("{}/metrics", collector.url())).await;
        let c = counters(&metrics);
        if c[1] >= 1.0 && c[2] >= 1.0 {
            break (c, metrics);
        }
        assert!(Instant::now() < deadline, "counters {c:?}\n{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The working one may also have carried NotifierFailing by now.
    let [broken_sent, broken_failed, ok_sent, ok_failed] = seen.0;
    assert!(
        broken_sent == 0.0 && broken_failed >= 1.0 && ok_sent >= 1.0 && ok_failed == 0.0,
        "{:?}\n{}",
        seen.0,
        seen.1
    );
    assert!(
        !seen.1.contains("notifier=\"webhook\""),
        "no webhook is left unnamed:\n{}",
        seen.1
    );

    collector.stop();
    collector.wait().await.unwrap();
    broken.abort();
    ok.abort();
}
