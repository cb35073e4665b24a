//! Comms and the one incident page, end to end: the real `liveops` CLI
//! drafts from the shipped templates, a dry run changes nothing, a message
//! published on the status page shows on `/status`, its incident page, the
//! JSON and the Atom feed, and no internal note ever does; the internal
//! page needs a token. A broken template fails `check-config` with its
//! file and line.

use std::process::Command;
use std::time::Duration;

use liveops_config::Role;
use serde_json::Value;

use crate::support::*;

const RESPONDER_TOKEN: &str = "it-responder-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_update_reaches_every_public_page_and_nothing_internal_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut cfg = collector_config(d, any_port());
    cfg.comms.game = "Realms of Steel".into();
    let mut tokens = tokens();
    tokens.add_plain("it-responder", Role::Responder, RESPONDER_TOKEN);
    let collector = start_collector_with(cfg, tokens).await;
    let url = collector.url();
    liveops_ok(
        d,
        &url,
        &[
            "incident",
            "open",
            "--title",
            "Marches stuck in eu-1",
            "--world",
            "eu-1",
        ],
    )
    .await;
    liveops_ok(
        d,
        &url,
        &[
            "incident",
            "note",
            "INC-1",
            "internal-only: db replica 3 lagging",
        ],
    )
    .await;
    liveops_ok(d, &url, &["incident", "open", "--title", "Never published"]).await;

    let draft = liveops_ok(d, &url, &["comms", "draft", "INC-1", "--channel", "banner"]).await;
    assert!(
        draft.contains("banner message (investigating), from banner.j2"),
        "{draft}"
    );
    assert!(
        draft.contains(&format!("{url}/status/incidents/1")),
        "every message links the page: {draft}"
    );
    let discord = liveops_ok(
        d,
        &url,
        &[
            "comms",
            "draft",
            "INC-1",
            "--channel",
            "discord",
            "--state",
            "identified",
        ],
    )
    .await;
    assert!(
        discord.contains("--- title\n[IDENTIFIED] Marches stuck in eu-1"),
        "{discord}"
    );

    // A dry run publishes nothing.
    let dry = liveops_ok(
        d,
        &url,
        &[
            "comms",
            "send",
            "INC-1",
            "--channel",
            "status",
            "--message",
            "Marches are delayed; armies are safe.",
        ],
    )
    .await;
    assert!(
        dry.contains("dry run: would publish it on the public status page"),
        "{dry}"
    );
    let page = get_text(&format!("{url}/status")).await;
    assert!(
        page.contains("All systems operational") && !page.contains("Marches stuck"),
        "{page}"
    );
    // Sending needs the comms role.
    let out = liveops_cli(
        d,
        &url,
        RESPONDER_TOKEN,
        &["comms", "send", "INC-1", "--channel", "status", "--apply"],
    )
    .await;
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("403"),
        "{out:?}"
    );

    liveops_ok(
        d,
        &url,
        &[
            "comms",
            "send",
            "INC-1",
            "--channel",
            "status",
            "--message",
            "Marches are delayed; armies are <safe>.",
            "--apply",
        ],
    )
    .await;
    liveops_ok(d, &url, &["incident", "status", "INC-1", "mitigated"]).await;
    liveops_ok(
        d,
        &url,
        &["comms", "send", "INC-1", "--channel", "status", "--apply"],
    )
    .await;

    let page = get_text(&format!("{url}/status")).await;
    assert!(page.contains("<h1>Realms of Steel status</h1>"), "{page}");
    assert!(
        page.contains("<a href=\"/status/incidents/1\">Marches stuck in eu-1</a>"),
        "{page}"
    );
    assert!(!page.contains("Never published"), "{page}");
    let inc = get_text(&format!("{url}/status/incidents/1")).await;
    let first = inc
        .find("Marches are delayed; armies are &lt;safe&gt;.")
        .expect(&inc);
    let second = inc
        .find("A fix has been applied and we are monitoring")
        .expect(&inc);
    assert!(first < second, "updates in order: {inc}");
    for public in [&page, &inc] {
        assert!(
            !public.contains("internal-only") && !public.contains("it-admin"),
            "{public}"
        );
        assert!(!public.contains("<script"), "{public}");
    }
    let json: Value = serde_json::from_str(&get_text(&format!("{url}/status.json")).await).unwrap();
    assert_eq!(json["open"][0]["state"], "monitoring", "{json:#}");
    assert_eq!(json["open"][0]["updates"].as_array().map(Vec::len), Some(2));
    assert!(!json.to_string().contains("internal-only"));
    let atom = get_text(&format!("{url}/status/feed.atom")).await;
    assert!(
        atom.starts_with("<?xml") && atom.matches("<entry>").count() == 2,
        "{atom}"
    );
    let unpublished = reqwest::get(format!("{url}/status/incidents/2"))
        .await
        .unwrap();
    assert_eq!(unpublished.status(), 404);

    // The internal page: everything, behind a token.
    let anon = reqwest::get(format!("{url}/incidents/1")).await.unwrap();
    assert_eq!(anon.status(), 401);
    let internal = reqwest::Client::new()
        .get(format!("{url}/incidents/1"))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        internal.contains("internal-only: db replica 3 lagging"),
        "{internal}"
    );
    assert!(
        internal.contains("status message (investigating)"),
        "{internal}"
    );

    // Not deliverable from here yet: refused, nothing recorded.
    let out = liveops_cli(
        d,
        &url,
        ADMIN_TOKEN,
        &["comms", "send", "INC-1", "--channel", "discord", "--apply"],
    )
    .await;
    assert!(!out.status.success(), "{out:?}");
    let entries = audit_entries(&url, ADMIN_TOKEN).await;
    let sent = entries
        .iter()
        .filter(|e| e["subject"] == "comms-send")
        .count();
    assert_eq!(sent, 2, "{entries:?}");
    collector.stop();
    collector.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_template_fails_check_config_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let comms = d.join("comms");
    std::fs::create_dir(&comms).unwrap();
    for (name, text) in liveops_config::comms::DEFAULT_TEMPLATES {
        std::fs::write(comms.join(name), text).unwrap();
    }
    std::fs::write(
        comms.join("banner.resolved.j2"),
        "{% block text %}\nAll good in {{ incident.wrlds_text }} {{ link }}{% endblock %}",
    )
    .unwrap();
    let file = d.join("collector.toml");
    let text = liveops_config::DEFAULT_COLLECTOR_TOML
        .replace("# templates = \"comms\"", "templates = \"comms\"");
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(liveops_bin());
    cmd.args(["check-config", file.to_str().unwrap()]);
    let out = run(cmd, Duration::from_secs(30), d).await;
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}/banner.resolved.j2:2: undefined value",
            comms.display()
        )),
        "{err}"
    );
    // A secret file named but not there fails it too, with its path.
    let text = liveops_config::DEFAULT_COLLECTOR_TOML.replace(
        "# discord_webhook_file = \"community-discord-webhook\"",
        "discord_webhook_file = \"no-such-file\"",
    );
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(liveops_bin());
    cmd.args(["check-config", file.to_str().unwrap()]);
    let out = run(cmd, Duration::from_secs(30), d).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        err.contains(&format!(
            "{}: cannot read discord_webhook_file",
            d.join("no-such-file").display()
        )),
        "{err}"
    );
    // The shipped ones pass.
    let mut cmd = Command::new(liveops_bin());
    cmd.args(["check-config", workspace().join("config").to_str().unwrap()]);
    let out = run(cmd, Duration::from_secs(30), d).await;
    assert!(out.status.success(), "{out:?}");
}

/// A webhook receiver on loopback: every POST's path and JSON body; paths
/// under `/fail` answer 500.
async fn receiver() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    use axum::extract::State;
    use axum::http::{StatusCode, Uri};
    type Got = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;
    async fn take(State(got): State<Got>, uri: Uri, body: axum::body::Bytes) -> StatusCode {
        let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
        got.lock().unwrap().push((uri.path().to_owned(), v));
        if uri.path().starts_with("/fail") {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::NO_CONTENT
        }
    }
    let got: Got = Default::default();
    let app = axum::Router::new().fallback(take).with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_and_forum_messages_go_to_their_webhooks_and_a_failing_one_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (hooks, got) = receiver().await;
    std::fs::write(
        d.join("discord-url"),
        format!("{hooks}/discord/secret-token\n"),
    )
    .unwrap();
    std::fs::write(d.join("forum-url"), format!("{hooks}/fail/forum")).unwrap();
    let mail = d.join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    let m = mail.clone();
    let smtp = tokio::task::spawn_blocking(move || crate::channels::SmtpServer::start(&m))
        .await
        .unwrap();
    let mut cfg = collector_config(d, any_port());
    cfg.comms.discord_webhook_file = Some(d.join("discord-url"));
    cfg.comms.forum_webhook_file = Some(d.join("forum-url"));
    // The players' list, through an email notifier kept for comms: it
    // gets no alerts.
    cfg.comms.email = Some("players-mail".into());
    cfg.notifiers.push(liveops_config::NotifierConfig::Email(
        liveops_config::EmailConfig {
            name: "players-mail".into(),
            host: "127.0.0.1".into(),
            port: smtp.port,
            from: "Realms <news@realms.example>".into(),
            to: Some("players@lists.realms.example".into()),
            starttls: liveops_config::StartTls::Off,
            username: None,
            password: None,
            retry: liveops_config::RetryConfig {
                timeout: Duration::from_secs(2),
                deadline: Duration::from_secs(10),
            },
        },
    ));
    let collector = start_collector(cfg).await;
    let url = collector.url();
    liveops_ok(
        d,
        &url,
        &[
            "incident",
            "open",
            "--title",
            "Logins failing",
            "--world",
            "eu-1",
        ],
    )
    .await;
    let sent = liveops_ok(
        d,
        &url,
        &[
            "comms",
            "send",
            "INC-1",
            "--channel",
            "discord",
            "--message",
            "@everyone relax",
            "--apply",
        ],
    )
    .await;
    assert!(sent.contains("--- sent"), "{sent}");
    let posts = got.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].0, "/discord/secret-token");
    let embed = &posts[0].1["embeds"][0];
    assert_eq!(embed["title"], "[INVESTIGATING] Logins failing", "{embed}");
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .starts_with("@everyone relax"),
        "{embed}"
    );
    assert_eq!(embed["url"], format!("{url}/status/incidents/1"));
    assert_eq!(
        posts[0].1["allowed_mentions"]["parse"],
        serde_json::json!([]),
        "no pings"
    );

    // The forum's webhook fails: a 502 naming it, without its URL, and
    // nothing on the timeline.
    let out = liveops_cli(
        d,
        &url,
        ADMIN_TOKEN,
        &["comms", "send", "INC-1", "--channel", "forum", "--apply"],
    )
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("502")
            && err.contains("the forum webhook answered 500"),
        "{out:?}"
    );
    assert!(!err.contains("/fail/forum"), "the URL is a secret: {err}");
    assert_eq!(got.lock().unwrap().len(), 2, "the forum was tried once");
    let inc: Value =
        serde_json::from_str(&liveops_ok(d, &url, &["incident", "show", "INC-1", "--json"]).await)
            .unwrap();
    let comms: Vec<&Value> = inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "comms")
        .collect();
    assert_eq!(comms.len(), 1, "{inc:#}");
    assert_eq!(comms[0]["channel"], "discord");
    assert!(
        comms[0]["text"]
            .as_str()
            .unwrap()
            .ends_with("(posted to discord)"),
        "{inc:#}"
    );
    // Email: text and HTML alternatives to the players' list.
    let sent = liveops_ok(
        d,
        &url,
        &["comms", "send", "INC-1", "--channel", "email", "--apply"],
    )
    .await;
    assert!(sent.contains("--- sent"), "{sent}");
    let got = crate::channels::mails(&mail);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["subject"], "[Investigating] Logins failing");
    assert_eq!(
        got[0]["rcpt_tos"],
        serde_json::json!(["players@lists.realms.example"])
    );
    assert_eq!(got[0]["content_type"], "multipart/alternative");
    assert!(
        got[0]["html"]
            .as_str()
            .unwrap()
            .contains("<h2>Logins failing</h2>"),
        "{got:?}"
    );
    assert!(
        got[0]["body"]
            .as_str()
            .unwrap()
            .contains(&format!("{url}/status/incidents/1")),
        "{got:?}"
    );
    drop(smtp);
    collector.stop();
    collector.wait().await.unwrap();
}
