//! The collector file's `[chat]` section: the incident chat bot's Slack and
//! Discord credentials, and who each chat user is in liveops.
//!
//! ```toml
//! [chat]
//! slack_signing_secret_file = "/etc/liveops/slack-signing-secret"
//! discord_public_key = "…64 hex digits…"
//!
//! [[chat.user]]
//! slack = "U024BE7LH"
//! discord = "80351110224678912"
//! person = "ana"
//! role = "responder"
//! ```
//!
//! The Slack signing secret is never in this file (files get committed and
//! pasted into tickets): it is read at start from `LIVEOPS_SLACK_SIGNING_SECRET`,
//! else from `slack_signing_secret_file`. Discord's key is public.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use crate::document::decode;
use crate::error::{ConfigErrors, Sink};
use crate::model::{Role, Secret};
use crate::values;

/// The environment variable that gives the Slack signing secret (it wins
/// over the file).
pub const SLACK_SECRET_ENV: &str = "LIVEOPS_SLACK_SIGNING_SECRET";

/// The chat bot's settings; empty (both platforms off) by default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChatConfig {
    /// A file holding Slack's signing secret, read at start.
    pub slack_signing_secret_file: Option<PathBuf>,
    /// Discord's application public key (Ed25519), as 32 bytes.
    pub discord_public_key: Option<[u8; 32]>,
    pub users: Vec<ChatUser>,
}

/// One chat user as liveops knows them: a person (the name on the
/// timeline and in the audit log) and the role their commands run with.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatUser {
    /// Slack user id (`U…`, from the profile's "Copy member ID").
    pub slack: Option<String>,
    /// Discord user id (a snowflake: digits).
    pub discord: Option<String>,
    pub person: String,
    pub role: Role,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChat {
    slack_signing_secret_file: Option<PathBuf>,
    discord_public_key: Option<Spanned<String>>,
    user: Option<Vec<Spanned<RawUser>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    slack: Option<Spanned<String>>,
    discord: Option<Spanned<String>>,
    person: Spanned<String>,
    role: Spanned<String>,
}

/// Checks a `[chat]` table into `cfg`.
pub(crate) fn apply(value: Spanned<DeValue<'_>>, cfg: &mut ChatConfig, sink: &mut Sink<'_>) {
    let Some(raw) = decode::<RawChat>(value, sink) else {
        return;
    };
    cfg.slack_signing_secret_file = raw.slack_signing_secret_file;
    if let Some(k) = &raw.discord_public_key {
        let mut key = [0u8; 32];
        if hex::decode_to_slice(k.get_ref().trim(), &mut key).is_ok() {
            cfg.discord_public_key = Some(key);
        } else {
            sink.at(
                k.span(),
                "discord_public_key must be 64 hex digits: the application's \"Public Key\" in Discord's developer portal",
            );
        }
    }
    // A chat id given twice would run as whichever entry came first.
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for u in raw.user.iter().flatten() {
        let span = u.span();
        let u = u.get_ref();
        if let Some(user) = user(u, span, sink) {
            for (platform, id) in [("slack", &u.slack), ("discord", &u.discord)] {
                let Some(id) = id else { continue };
                if !seen.insert((platform, id.get_ref())) {
                    sink.at(
                        id.span(),
                        format!(
                            "{platform} user `{}` is mapped twice; give it one [[chat.user]]",
                            id.get_ref()
                        ),
                    );
                }
            }
            cfg.users.push(user);
        }
    }
}

fn user(u: &RawUser, span: std::ops::Range<usize>, sink: &mut Sink<'_>) -> Option<ChatUser> {
    // `agent` is the reports' capability, not a person's.
    let role = Role::parse(u.role.get_ref()).filter(|r| *r != Role::Agent);
    if role.is_none() {
        sink.at(
            u.role.span(),
            format!(
                "unknown role `{}` for a chat user, expected `viewer`, `responder` or `admin`",
                u.role.get_ref()
            ),
        );
    }
    let person = values::name(u.person.get_ref(), u.person.span(), "person", sink);
    let slack = chat_id(
        &u.slack,
        |c| c.is_ascii_alphanumeric(),
        "a Slack user id is letters and digits, like U024BE7LH",
        sink,
    );
    let discord = chat_id(
        &u.discord,
        |c| c.is_ascii_digit(),
        "a Discord user id is digits, like 80351110224678912",
        sink,
    );
    if u.slack.is_none() && u.discord.is_none() {
        sink.at(span, "a [[chat.user]] needs `slack` or `discord` (or both)");
        return None;
    }
    if !person {
        return None;
    }
    Some(ChatUser {
        slack: slack.ok()?,
        discord: discord.ok()?,
        person: u.person.get_ref().clone(),
        role: role?,
    })
}

/// A chat user id, if given; `Err` (reported) when it has a character
/// `allowed` refuses.
fn chat_id(
    v: &Option<Spanned<String>>,
    allowed: fn(char) -> bool,
    why: &str,
    sink: &mut Sink<'_>,
) -> Result<Option<String>, ()> {
    let Some(v) = v else { return Ok(None) };
    let id = v.get_ref();
    if id.is_empty() || !id.chars().all(allowed) {
        sink.at(v.span(), why);
        return Err(());
    }
    Ok(Some(id.clone()))
}

/// The Slack signing secret: the environment's, else the file's (trimmed);
/// `None` when neither is given (Slack off). A file named but unreadable
/// or empty is an error: the operator meant Slack to be on.
pub fn slack_secret(cfg: &ChatConfig) -> Result<Option<Secret>, ConfigErrors> {
    if let Ok(s) = std::env::var(SLACK_SECRET_ENV)
        && !s.trim().is_empty()
    {
        return Ok(Some(Secret(s.trim().to_owned())));
    }
    let Some(path) = &cfg.slack_signing_secret_file else {
        return Ok(None);
    };
    read_secret(path).map(Some)
}

fn read_secret(path: &Path) -> Result<Secret, ConfigErrors> {
    crate::secret_file::read(path, "slack_signing_secret_file")
}

#[cfg(test)]
#[path = "chat_tests.rs"]
mod tests;
