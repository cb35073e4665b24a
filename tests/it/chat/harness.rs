//! The chat bot's test harness: a collector with a `[chat]` section, and
//! requests signed as Slack (HMAC-SHA256) and Discord (Ed25519) sign them.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::*;

pub const SECRET: &str = "it-slack-signing-secret";
pub const SLACK: &str = "/api/v1/chat/slack/commands";
pub const DISCORD: &str = "/api/v1/chat/discord/interactions";
/// Both platforms give up on an answer after 3 s.
pub const IN_TIME: Duration = Duration::from_secs(3);

pub struct Bot {
    pub url: String,
    pub key: SigningKey,
    _collector: liveops_collector::Collector,
}

/// A collector whose `[chat]` section is parsed from collector-file text,
/// as an operator writes it; ana is a responder on both platforms, bo a
/// viewer; INC-1 is open on eu-1.
pub async fn start(dir: &Path) -> Bot {
    let secret_file = dir.join("slack.secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let key = SigningKey::from_bytes(&rand::random());
    let public = hex::encode(key.verifying_key().to_bytes());
    let text = format!(
        "{}\n[chat]\nslack_signing_secret_file = {:?}\ndiscord_public_key = \"{public}\"\n\
         [[chat.user]]\nslack = \"U1\"\ndiscord = \"111\"\nperson = \"ana\"\nrole = \"responder\"\n\
         [[chat.user]]\nslack = \"U2\"\nperson = \"bo\"\nrole = \"viewer\"\n",
        liveops_config::DEFAULT_COLLECTOR_TOML,
        secret_file.display().to_string(),
    );
    let mut cfg = collector_config(dir, any_port());
    cfg.chat = liveops_config::parse_collector("collector.toml", &text)
        .unwrap()
        .chat;
    let collector = start_collector(cfg).await;
    let url = collector.url();
    let opened = http()
        .post(format!("{url}/api/v1/incidents"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"title": "Payments failing in eu-1", "worlds": ["eu-1"], "sev": "SEV2"}))
        .send()
        .await
        .unwrap();
    assert!(opened.status().is_success(), "{opened:?}");
    Bot {
        url,
        key,
        _collector: collector,
    }
}

pub fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `application/x-www-form-urlencoded`, as Slack posts.
pub fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let pairs: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    pairs.join("&")
}

pub fn slash(user: &str, text: &str) -> String {
    form(&[
        ("token", "legacy-unused"),
        ("command", "/incident"),
        ("text", text),
        ("user_id", user),
        ("user_name", "someone"),
        ("channel_id", "C1"),
        ("response_url", "https://hooks.slack.com/commands/T1/1/x"),
    ])
}

pub fn slack_signature(ts: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts `body` with the given headers; the status, the JSON answer (or
/// null) and how long it took.
pub async fn post(url: &str, headers: &[(&str, String)], body: &str) -> (u16, Value, Duration) {
    let mut req = http().post(url).body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let started = Instant::now();
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let json = resp.json().await.unwrap_or(Value::Null);
    (status, json, started.elapsed())
}

impl Bot {
    pub async fn slack_at(
        &self,
        ts: u64,
        sig: Option<String>,
        body: &str,
    ) -> (u16, Value, Duration) {
        let ts = ts.to_string();
        let sig = sig.unwrap_or_else(|| slack_signature(&ts, body));
        let headers = [
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("x-slack-request-timestamp", ts),
            ("x-slack-signature", sig),
        ];
        post(&format!("{}{SLACK}", self.url), &headers, body).await
    }

    /// A slash command signed now; the answer, checked to be in time.
    pub async fn slack(&self, user: &str, text: &str) -> (u16, Value) {
        let (status, answer, took) = self.slack_at(now_s(), None, &slash(user, text)).await;
        assert!(took < IN_TIME, "{text:?} answered in {took:?}");
        (status, answer)
    }

    pub async fn discord_signed(&self, ts: u64, body: &str, key: &SigningKey) -> (u16, Value) {
        let ts = ts.to_string();
        let sig = hex::encode(key.sign(format!("{ts}{body}").as_bytes()).to_bytes());
        let headers = [
            ("content-type", "application/json".into()),
            ("x-signature-timestamp", ts),
            ("x-signature-ed25519", sig),
        ];
        let (status, answer, took) = post(&format!("{}{DISCORD}", self.url), &headers, body).await;
        assert!(took < IN_TIME, "{body} answered in {took:?}");
        (status, answer)
    }

    pub async fn timeline(&self) -> Vec<Value> {
        let inc: Value = http()
            .get(format!("{}/api/v1/incidents/INC-1", self.url))
            .bearer_auth(VIEWER_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        inc["timeline"].as_array().cloned().unwrap_or_default()
    }
}

pub fn command(user: &str, text: &str) -> String {
    json!({
        "type": 2,
        "data": {"name": "incident", "options": [{"name": "text", "type": 3, "value": text}]},
        "member": {"user": {"id": user}},
    })
    .to_string()
}
