//! Delivery channels against real receivers: local HTTP servers that check
//! each payload against PagerDuty's, Slack's and Discord's documented
//! formats (the PagerDuty one first answers 429 with `Retry-After`), a real
//! SMTP server (Python `aiosmtpd`), and a real Alertmanager 0.25 that routes
//! liveops' alerts to a webhook receiver. A world goes down, then comes back:
//! each channel gets the trigger, then the resolve of the same page.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use liveops_collector::Collector;
use liveops_collector::auth::Tokens;
use liveops_config::{EmailConfig, NotifierConfig, RetryConfig, Role, Secret, StartTls};
use liveops_protocol::Report;
use serde_json::Value;

use crate::alertmanager::{Alertmanager, free_port};
use crate::support::{down_report, eventually, get_text, pager_log, sample};

const AGENT: &str = "agent-secret";
/// The agent whose world `w9` goes down and comes back.
const AGENT_NAME: &str = "hook-agent";

#[derive(Clone)]
struct Hit {
    at: Instant,
    path: String,
    body: Value,
    status: u16,
}

/// Every request the receivers took, in order.
#[derive(Clone, Default)]
struct Hits(Arc<Mutex<Vec<Hit>>>);

impl Hits {
    fn at(&self, prefix: &str) -> Vec<Hit> {
        let hits = self.0.lock().unwrap();
        hits.iter()
            .filter(|h| h.path.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// PagerDuty at `/pd` (429 with `Retry-After: 1` to the first event, then
/// 202 as PagerDuty answers), Slack at `/slack/…` (200 `ok`), Discord at
/// `/discord/…` (204), `/fail` always 500, anything else 200.
async fn receive(State(hits): State<Hits>, uri: Uri, body: String) -> Response {
    let path = uri.path().to_owned();
    let json = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let mut all = hits.0.lock().unwrap();
    let nth = all.iter().filter(|h| h.path == path).count();
    let (status, resp) = match path.as_str() {
        "/pd" if nth == 0 => (
            429,
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                "{\"status\":\"throttled\"}",
            )
                .into_response(),
        ),
        "/pd" => (
            202,
            (
                StatusCode::ACCEPTED,
                "{\"status\":\"success\",\"message\":\"Event processed\"}",
            )
                .into_response(),
        ),
        p if p.starts_with("/fail") => (500, StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        p if p.starts_with("/discord") => (204, StatusCode::NO_CONTENT.into_response()),
        _ => (200, (StatusCode::OK, "ok").into_response()),
    };
    all.push(Hit {
        at: Instant::now(),
        path,
        body: json,
        status,
    });
    resp
}

async fn receivers() -> (String, Hits, tokio::task::JoinHandle<()>) {
    let hits = Hits::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(receive).with_state(hits.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, hits, server)
}

fn retry(deadline_s: u64) -> RetryConfig {
    RetryConfig {
        timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(deadline_s),
    }
}

async fn collector(dir: &Path, notifiers: Vec<NotifierConfig>) -> Collector {
    let mut cfg = liveops_config::default_collector();
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.data_dir = dir.join("collector");
    cfg.notifiers = notifiers;
    let mut tokens = Tokens::default();
    tokens.add_plain("agents", Role::Agent, AGENT);
    Collector::start(cfg, tokens, std::future::pending())
        .await
        .unwrap()
}

async fn send(collector: &Collector, report: &Report) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/reports", collector.url()))
        .bearer_auth(AGENT)
        .json(report)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// World `w9` healthy again, from the same agent.
fn up_report(seq: u64) -> Report {
    let mut r = down_report(AGENT_NAME, "w9", seq);
    r.health.up = true;
    r.health.probe_ok = true;
    r.health.up_ms = 1_000;
    r.health.detail = None;
    r
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// An Events API v2 event as PagerDuty documents it.
fn check_pagerduty(ev: &Value) {
    let size = serde_json::to_vec(ev).unwrap().len();
    assert!(size <= 512 * 1024, "{size} bytes");
    assert_eq!(ev["routing_key"], "R0UT1NGKEY0000000000000000000000");
    let key = ev["dedup_key"].as_str().expect("dedup_key");
    assert!(!key.is_empty() && key.len() <= 255);
    match ev["event_action"].as_str() {
        Some("trigger") => {}
        Some("acknowledge" | "resolve") => {
            let keys: Vec<_> = ev.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys.len(),
                3,
                "only routing_key, event_action, dedup_key: {ev}"
            );
            return;
        }
        other => panic!("event_action {other:?}"),
    }
    let p = &ev["payload"];
    assert!((1..=1024).contains(&chars(&p["summary"])), "{p}");
    assert!(chars(&p["source"]) > 0);
    assert!(["critical", "error", "warning", "info"].contains(&p["severity"].as_str().unwrap()));
    assert!(liveops_protocol::time::parse_rfc3339(p["timestamp"].as_str().unwrap()).is_some());
    for key in ["component", "group", "class"] {
        assert!(p[key].is_string(), "{key} in {p}");
    }
    assert!(p["custom_details"].is_object());
    let links = ev["links"].as_array().expect("links");
    assert!(!links.is_empty());
    for l in links {
        assert!(l["href"].as_str().unwrap().starts_with("http"), "{l}");
        assert!(l["text"].is_string());
    }
}

/// A Block Kit message within Slack's limits.
fn check_slack(m: &Value) {
    assert!(chars(&m["text"]) > 0, "a fallback text: {m}");
    let blocks = m["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    for b in blocks {
        match b["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text");
                assert!(chars(&b["text"]["text"]) <= 150);
            }
            "section" => {
                assert!(["mrkdwn", "plain_text"].contains(&b["text"]["type"].as_str().unwrap()));
                assert!((1..=3000).contains(&chars(&b["text"]["text"])));
                let fields = b["fields"].as_array().map_or(0, Vec::len);
                assert!(fields <= 10);
            }
            "context" => assert!(b["elements"].as_array().unwrap().len() <= 10),
            other => panic!("unexpected block {other}"),
        }
    }
}

/// A webhook message within Discord's limits.
fn check_discord(m: &Value) {
    assert!((1..=2000).contains(&chars(&m["content"])), "{m}");
    assert_eq!(m["allowed_mentions"]["parse"], serde_json::json!([]));
    let embeds = m["embeds"].as_array().expect("embeds");
    assert!(embeds.len() <= 10);
    let mut total = 0;
    for e in embeds {
        assert!(chars(&e["title"]) <= 256);
        assert!(chars(&e["description"]) <= 4096);
        let fields = e["fields"].as_array().unwrap();
        assert!(fields.len() <= 25);
        total += chars(&e["title"]) + chars(&e["description"]);
        for f in fields {
            assert!((1..=256).contains(&chars(&f["name"])));
            assert!((1..=1024).contains(&chars(&f["value"])));
            total += chars(&f["name"]) + chars(&f["value"]);
        }
    }
    assert!(total <= 6000);
}

#[tokio::test]
async fn pagerduty_slack_and_discord_get_their_documented_payloads() {
    let (base, hits, server) = receivers().await;
    let dir = tempfile::tempdir().unwrap();
    let collector = collector(
        dir.path(),
        vec![
            NotifierConfig::PagerDuty {
                name: "pagerduty".into(),
                url: format!("{base}/pd"),
                routing_key: Some(Secret("R0UT1NGKEY0000000000000000000000".into())),
                retry: retry(30),
            },
            NotifierConfig::Slack {
                name: "slack".into(),
                url: Secret(format!("{base}/slack/services/T0/B0/secret")),
                retry: retry(30),
            },
            NotifierConfig::Discord {
                name: "discord".into(),
                url: Secret(format!("{base}/discord/api/webhooks/1/tok")),
                retry: retry(30),
            },
        ],
    )
    .await;
    let sent = Instant::now();
    send(&collector, &down_report(AGENT_NAME, "w9", 1)).await;

    let wait = |prefix: &'static str, n: usize| {
        let hits = hits.clone();
        async move {
            eventually(Duration::from_secs(10), prefix, || {
                let got = hits.at(prefix);
                async move {
                    if got.len() >= n {
                        Ok(got)
                    } else {
                        Err(format!("{} requests", got.len()))
                    }
                }
            })
            .await
        }
    };
    let pd = wait("/pd", 2).await;
    eprintln!(
        "world down → first PagerDuty request in {:?}",
        pd[0].at - sent
    );
    assert_eq!((pd[0].status, pd[1].status), (429, 202));
    let gap = pd[1].at - pd[0].at;
    assert!(
        gap >= Duration::from_secs(1),
        "the retry came {gap:?} after the 429 asked for 1 s"
    );
    assert_eq!(pd[0].body, pd[1].body, "the retry is the same event");
    let trigger = &pd[1].body;
    check_pagerduty(trigger);
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["source"], "w9");
    assert_eq!(
        trigger["payload"]["severity"], "error",
        "a `page` alert is SEV2"
    );
    assert_eq!(trigger["payload"]["class"], "WorldDown");
    assert!(
        trigger["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("/runbooks/uptime")
    );

    let slack = wait("/slack", 1).await;
    check_slack(&slack[0].body);
    let text = serde_json::to_string(&slack[0].body).unwrap();
    assert!(text.contains("SEV2 WorldDown w9"), "{text}");
    assert!(text.contains("/runbooks/uptime|Runbook>"), "{text}");
    let discord = wait("/discord", 1).await;
    check_discord(&discord[0].body);
    assert!(
        discord[0].body["content"]
            .as_str()
            .unwrap()
            .contains("WorldDown w9")
    );

    send(&collector, &up_report(2)).await;
    let pd = wait("/pd", 3).await;
    let resolve = &pd[2].body;
    check_pagerduty(resolve);
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
    check_slack(&wait("/slack", 2).await[1].body);
    check_discord(&wait("/discord", 2).await[1].body);

    // The page arrived once: one accepted trigger, one retry counted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let accepted = hits
        .at("/pd")
        .iter()
        .filter(|h| h.status == 202 && h.body["event_action"] == "trigger")
        .count();
    assert_eq!(accepted, 1);
    let metrics = get_text(&format!("{}/metrics", collector.url())).await;
    let count = |what: &str, n: &str| {
        sample(
            &metrics,
            &format!("liveops_notifications_{what}_total"),
            &[("notifier", n)],
        )
    };
    assert_eq!(count("retried", "pagerduty"), Some(1.0), "{metrics}");
    assert_eq!(count("sent", "pagerduty"), Some(2.0));
    assert_eq!(count("sent", "slack"), Some(2.0));
    assert_eq!(count("failed", "discord"), Some(0.0));

    collector.stop();
    collector.wait().await.unwrap();
    server.abort();
}

#[tokio::test]
async fn a_failing_channel_raises_notifier_failing_through_the_others() {
    let (base, _hits, server) = receivers().await;
    let dir = tempfile::tempdir().unwrap();
    let collector = collector(
        dir.path(),
        vec![
            NotifierConfig::Slack {
                name: "team-chat".into(),
                url: Secret(format!("{base}/fail/services/T0/B0/secret")),
                retry: retry(2),
            },
            NotifierConfig::File {
                path: dir.path().join("pager.jsonl"),
            },
        ],
    )
    .await;
    send(&collector, &down_report(AGENT_NAME, "w9", 1)).await;
    let failing = eventually(
        Duration::from_secs(15),
        "NotifierFailing in the pager log",
        || {
            let log = pager_log(dir.path());
            async move {
                log.into_iter()
                    .find(|n| n.label("alertname") == Some("NotifierFailing"))
                    .ok_or_else(|| "not yet".to_owned())
            }
        },
    )
    .await;
    assert_eq!(failing.label("notifier"), Some("team-chat"));
    assert_eq!(failing.label("world"), Some("fleet"));
    assert!(failing.annotations["runbook_url"].ends_with("/runbooks/notifier"));
    assert_eq!(failing.annotations["owner"], "platform-oncall");
    let why = &failing.annotations["description"];
    assert!(why.contains("receiver answered 500"), "{why}");
    assert!(
        !why.contains("secret"),
        "the webhook URL stays out of the alert: {why}"
    );
    let runbook = get_text(&failing.annotations["runbook_url"]).await;
    assert!(runbook.contains("NotifierFailing"));
    let metrics = get_text(&format!("{}/metrics", collector.url())).await;
    let failed = sample(
        &metrics,
        "liveops_notifications_failed_total",
        &[("notifier", "team-chat")],
    );
    assert!(failed >= Some(1.0), "{metrics}");

    collector.stop();
    collector.wait().await.unwrap();
    server.abort();
}

/// `aiosmtpd` on loopback, saving what it takes as JSON files in `out`.
pub(crate) struct SmtpServer {
    child: Child,
    pub(crate) port: u16,
}

impl SmtpServer {
    pub(crate) fn start(out: &Path) -> SmtpServer {
        let python = crate::ofrep_python::python("aiosmtpd");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/smtp_server.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the SMTP server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("smtp_server.py printed {line:?}"));
        SmtpServer { child, port }
    }
}

impl Drop for SmtpServer {
    /// Closing its stdin stops it; one that does not stop within 5 s is killed.
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn mails(dir: &Path) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_page_reaches_a_real_smtp_server_and_the_resolve_threads_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mail");
    std::fs::create_dir_all(&out).unwrap();
    let o = out.clone();
    let smtp = tokio::task::spawn_blocking(move || SmtpServer::start(&o))
        .await
        .unwrap();
    let collector = collector(
        dir.path(),
        vec![NotifierConfig::Email(EmailConfig {
            name: "email".into(),
            host: "127.0.0.1".into(),
            port: smtp.port,
            from: "liveops <liveops@example.com>".into(),
            to: Some("oncall@example.com".into()),
            starttls: StartTls::Off,
            username: None,
            password: None,
            retry: retry(20),
        })],
    )
    .await;
    send(&collector, &down_report(AGENT_NAME, "w9", 1)).await;
    let first = eventually(Duration::from_secs(10), "the trigger email", || {
        let got = mails(&out);
        async move { got.into_iter().next().ok_or_else(|| "none".to_owned()) }
    })
    .await;
    assert_eq!(first["rcpt_tos"], serde_json::json!(["oncall@example.com"]));
    assert_eq!(first["to"], "oncall@example.com");
    assert_eq!(first["mail_from"], "liveops@example.com");
    let subject = first["subject"].as_str().unwrap();
    assert!(subject.starts_with("[SEV2] WorldDown w9: "), "{subject}");
    assert_eq!(first["content_type"], "text/plain");
    let body = first["body"].as_str().unwrap();
    for want in [
        "/runbooks/uptime",
        "/api/v1/pages/",
        "Owner:",
        "platform-oncall",
        "alertname=WorldDown",
    ] {
        assert!(body.contains(want), "{want} in\n{body}");
    }
    let trigger_id = first["message_id"].as_str().unwrap().to_owned();
    assert!(trigger_id.ends_with("@example.com>"), "{trigger_id}");

    send(&collector, &up_report(2)).await;
    let resolve = eventually(Duration::from_secs(10), "the resolve email", || {
        let got = mails(&out);
        async move {
            got.into_iter()
                .nth(1)
                .ok_or_else(|| "one so far".to_owned())
        }
    })
    .await;
    assert_eq!(resolve["subject"], format!("Re: {subject}"));
    assert_eq!(resolve["in_reply_to"], trigger_id);
    assert_eq!(resolve["references"], trigger_id);
    assert!(resolve["body"].as_str().unwrap().contains("RESOLVED"));

    collector.stop();
    collector.wait().await.unwrap();
    drop(smtp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_routes_liveops_alerts_and_their_resolution() {
    let (base, hits, server) = receivers().await;
    let dir = tempfile::tempdir().unwrap();
    let am = Alertmanager::start(dir.path(), &format!("{base}/am"), None).await;
    // A second Alertmanager that is down must not hold up the first.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let collector = collector(
        dir.path(),
        vec![NotifierConfig::Alertmanager {
            name: "alertmanager".into(),
            urls: vec![dead, am.url.clone()],
            resend: Duration::from_secs(1),
            retry: retry(30),
        }],
    )
    .await;
    let sent = Instant::now();
    send(&collector, &down_report(AGENT_NAME, "w9", 1)).await;

    let status_of = |want: &'static str| {
        let hits = hits.clone();
        async move {
            eventually(Duration::from_secs(20), want, || {
                let found = hits
                    .at("/am")
                    .into_iter()
                    .find(|h| h.body["status"] == want);
                async move { found.ok_or_else(|| "not yet".to_owned()) }
            })
            .await
        }
    };
    let firing = status_of("firing").await;
    eprintln!(
        "world down → Alertmanager's webhook in {:?}",
        firing.at - sent
    );
    assert_eq!(firing.body["version"], "4");
    let alert = &firing.body["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "WorldDown");
    assert_eq!(alert["labels"]["world"], "w9");
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["annotations"]["owner"], "platform-oncall");
    assert_eq!(alert["annotations"]["page_severity"], "SEV2");
    assert!(
        alert["annotations"]["runbook_url"]
            .as_str()
            .unwrap()
            .ends_with("/runbooks/uptime")
    );
    assert!(
        alert["generatorURL"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );

    send(&collector, &up_report(2)).await;
    let resolved = status_of("resolved").await;
    let alert = &resolved.body["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "WorldDown");
    assert_eq!(alert["status"], "resolved");
    let firings = hits
        .at("/am")
        .iter()
        .filter(|h| {
            h.body["status"] == "firing"
                && h.body["alerts"][0]["labels"]["alertname"] == "WorldDown"
        })
        .count();
    assert_eq!(firings, 1, "resends while firing are not new notifications");

    collector.stop();
    collector.wait().await.unwrap();
    drop(am);
    server.abort();
}
