//! Delivering a message that was applied: the status page publishes it by
//! recording it (nothing to send); the in-game banner goes to every world
//! of the incident through its agent (`POST {game}/liveops/v1/banner`,
//! the relay's `banner` command). What reached whom is returned, for the
//! timeline and the answer.

use std::time::Duration;

use liveops_protocol::command::{Banner, Command, Op};
use serde_json::{Value, json};

use super::channel::{Channel, Message};
use crate::http::AppError;
use crate::state::Shared;

/// How long one world's agent (and its game) may take to show a banner.
const BANNER_TIMEOUT: Duration = Duration::from_secs(10);

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
        c => Err(AppError::Conflict(format!(
            "{} messages cannot be delivered by this collector yet: draft it and post it by hand, or publish on the status page (--channel status)",
            c.as_str()
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
