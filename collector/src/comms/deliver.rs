//! Delivering a message that was applied: the status page publishes it by
//! recording it (nothing to send); the in-game banner goes to every world
//! of the incident through its agent (`POST {game}/liveops/v1/banner`,
//! the relay's `banner` command); Discord gets an embed on the community
//! webhook, the forum a JSON post on its own. What reached whom is
//! returned, for the timeline and the answer.

use std::time::Duration;

use liveops_config::Secret;
use liveops_config::comms::CommsConfig;
use liveops_protocol::command::{Banner, Command, Op};
use serde_json::{Value, json};

use super::channel::{Channel, Message};
use crate::http::AppError;
use crate::state::Shared;

/// How long one world's agent (and its game) may take to show a banner.
const BANNER_TIMEOUT: Duration = Duration::from_secs(10);

/// Webhooks are answered at once or not at all.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// Where Discord, forum and email messages go (`[comms]`), set up at start.
#[derive(Default)]
pub struct Outbound {
    discord: Option<Secret>,
    forum: Option<Secret>,
    email: Option<super::mail::Mailer>,
    client: reqwest::Client,
}

impl Outbound {
    /// `email` is the notifier `[comms] email` names (taken out of the
    /// alert channels by the caller).
    pub fn new(
        cfg: &CommsConfig,
        email: Option<&liveops_config::EmailConfig>,
        client: reqwest::Client,
    ) -> Result<Outbound, liveops_config::ConfigErrors> {
        let url = |path: &Option<std::path::PathBuf>, key: &str| {
            path.as_ref()
                .map(|p| {
                    let s = liveops_config::secret_file::read(p, key)?;
                    if s.expose().starts_with("https://") || s.expose().starts_with("http://") {
                        Ok(s)
                    } else {
                        Err(liveops_config::ConfigErrors(vec![
                            liveops_config::Diagnostic {
                                file: p.display().to_string(),
                                position: None,
                                message: format!("{key} must hold an http(s) URL"),
                            },
                        ]))
                    }
                })
                .transpose()
        };
        Ok(Outbound {
            discord: url(&cfg.discord_webhook_file, "discord_webhook_file")?,
            forum: url(&cfg.forum_webhook_file, "forum_webhook_file")?,
            email: email
                .map(super::mail::Mailer::new)
                .transpose()
                .map_err(|message| {
                    liveops_config::ConfigErrors(vec![liveops_config::Diagnostic {
                        file: "[comms] email".into(),
                        position: None,
                        message,
                    }])
                })?,
            client,
        })
    }
}

pub struct Delivered {
    /// Said on the timeline after the message.
    pub note: String,
    pub detail: Value,
}

pub async fn deliver(s: &Shared, n: u64, m: &Message, actor: &str) -> Result<Delivered, AppError> {
    match m.channel {
        Channel::Status => Ok(Delivered {
            note: String::new(),
            detail: json!({"published": format!("/status/incidents/{n}")}),
        }),
        Channel::Banner => banner(s, n, m, actor).await,
        Channel::Discord => {
            let color = match m.state.as_str() {
                "resolved" => 0x1a7f37,
                "monitoring" => 0x0969da,
                _ => 0xcf222e,
            };
            // No mentions, whatever the text says: an update must not
            // ping the whole community.
            let body = json!({
                "embeds": [{
                    "title": m.part("title"),
                    "description": m.part("description"),
                    "url": m.link,
                    "color": color,
                }],
                "allowed_mentions": {"parse": []},
            });
            webhook(s, "discord", s.comms_out.discord.as_ref(), &body).await
        }
        Channel::Forum => {
            let body = json!({
                "title": m.part("title"),
                "body": m.part("body"),
                "incident": format!("INC-{n}"),
                "state": m.state.as_str(),
                "link": m.link,
            });
            webhook(s, "forum", s.comms_out.forum.as_ref(), &body).await
        }
        Channel::Email => match &s.comms_out.email {
            Some(mailer) => mailer.send(n, m).await,
            None => Err(AppError::Conflict(
                "no comms email: set [comms] email to an email notifier with a `to`, or send the draft by hand".into(),
            )),
        },
    }
}

/// POSTs `body` to the channel's webhook; its URL, a secret, is never in
/// an answer or a log line.
async fn webhook(
    s: &Shared,
    channel: &str,
    url: Option<&Secret>,
    body: &Value,
) -> Result<Delivered, AppError> {
    let Some(url) = url else {
        return Err(AppError::Conflict(format!(
            "no {channel} webhook: set [comms] {channel}_webhook_file, or draft the message and post it by hand"
        )));
    };
    let sent = s
        .comms_out
        .client
        .post(url.expose())
        .timeout(WEBHOOK_TIMEOUT)
        .json(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(Delivered {
            note: format!(" (posted to {channel})"),
            detail: json!({"posted": channel, "status": r.status().as_u16()}),
        }),
        Ok(r) => Err(AppError::BadGateway(format!(
            "the {channel} webhook answered {}: nothing sent",
            r.status()
        ))),
        // The error's text may carry the URL: only its kind is said.
        Err(e) => Err(AppError::BadGateway(format!(
            "cannot reach the {channel} webhook ({}): nothing sent",
            if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "connection refused or unreachable"
            } else {
                "request failed"
            }
        ))),
    }
}

async fn banner(s: &Shared, n: u64, m: &Message, actor: &str) -> Result<Delivered, AppError> {
    let worlds: Vec<String> = s
        .incidents
        .read(|b| b.get(n).map(|i| i.worlds.iter().cloned().collect()))
        .unwrap_or_default();
    if worlds.is_empty() {
        return Err(AppError::Conflict(format!(
            "INC-{n} names no world: a banner is shown in the incident's worlds (add one with the incident's pages, or open it with --world)"
        )));
    }
    let args = json!(Banner {
        text: m.part("text").to_owned(),
        incident: format!("INC-{n}"),
        state: m.state.as_str().to_owned(),
        link: m.link.clone(),
    });
    let sends = worlds.iter().map(|w| {
        let cmd = Command {
            id: s.relay.id(),
            op: Op::Banner,
            args: args.clone(),
            actor: actor.to_owned(),
            reason: Some(format!("comms for INC-{n}")),
        };
        async move { (w.clone(), s.relay.send(w, cmd, BANNER_TIMEOUT).await) }
    });
    let results = futures_util::future::join_all(sends).await;
    let mut shown = Vec::new();
    let mut failed = Vec::new();
    for (w, r) in results {
        match r {
            Ok(o) if o.status == 200 => shown.push(w),
            Ok(o) => failed.push(format!(
                "{w}: {}",
                o.body["error"].as_str().unwrap_or("the agent refused")
            )),
            Err(e) => failed.push(format!("{w}: {e}")),
        }
    }
    if shown.is_empty() {
        return Err(AppError::BadGateway(format!(
            "the banner reached no world: {}",
            failed.join("; ")
        )));
    }
    let mut note = format!(" (shown in {})", shown.join(", "));
    if !failed.is_empty() {
        note = format!(
            " (shown in {}; not shown: {})",
            shown.join(", "),
            failed.join("; ")
        );
    }
    Ok(Delivered {
        note,
        detail: json!({"shown": shown, "failed": failed}),
    })
}
