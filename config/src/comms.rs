//! The collector file's `[comms]` section and the shipped comms templates
//! (`config/comms/`, embedded: a collector without a templates directory
//! speaks with these).
//!
//! ```toml
//! [comms]
//! templates = "comms"     # a directory of CHANNEL[.STATE[.SEV]].j2 files
//! game = "Realms of Steel"
//! discord_webhook_file = "community-discord-webhook"   # the URL is a secret
//! forum_webhook_file = "forum-webhook"
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use crate::document::decode;
use crate::error::Sink;

/// The shipped templates, by file name.
pub const DEFAULT_TEMPLATES: &[(&str, &str)] = &[
    ("banner.j2", include_str!("../comms/banner.j2")),
    (
        "banner.investigating.SEV1.j2",
        include_str!("../comms/banner.investigating.SEV1.j2"),
    ),
    ("discord.j2", include_str!("../comms/discord.j2")),
    ("forum.j2", include_str!("../comms/forum.j2")),
    ("email.j2", include_str!("../comms/email.j2")),
    ("status.j2", include_str!("../comms/status.j2")),
];

#[derive(Clone, Debug, PartialEq)]
pub struct CommsConfig {
    /// The templates directory; `None`: the shipped templates.
    pub templates: Option<PathBuf>,
    /// How messages name the game to players.
    pub game: String,
    /// A file holding the community Discord's webhook URL (a secret).
    pub discord_webhook_file: Option<PathBuf>,
    /// A file holding the URL the forum's posts are sent to.
    pub forum_webhook_file: Option<PathBuf>,
}

pub(crate) fn defaults() -> CommsConfig {
    CommsConfig {
        templates: None,
        game: "the game".into(),
        discord_webhook_file: None,
        forum_webhook_file: None,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawComms {
    templates: Option<PathBuf>,
    game: Option<Spanned<String>>,
    discord_webhook_file: Option<PathBuf>,
    forum_webhook_file: Option<PathBuf>,
}

pub(crate) fn apply(value: Spanned<DeValue<'_>>, cfg: &mut CommsConfig, sink: &mut Sink<'_>) {
    let Some(raw) = decode::<RawComms>(value, sink) else {
        return;
    };
    if let Some(t) = raw.templates {
        cfg.templates = Some(t);
    }
    cfg.discord_webhook_file = raw.discord_webhook_file.or(cfg.discord_webhook_file.take());
    cfg.forum_webhook_file = raw.forum_webhook_file.or(cfg.forum_webhook_file.take());
    if let Some(g) = raw.game {
        let name = g.get_ref().trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            sink.at(g.span(), "game must be 1–100 printable characters");
        } else {
            cfg.game = name.to_owned();
        }
    }
}
