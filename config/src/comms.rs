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
//! email = "players-mail"   # an [[notifier]] of kind email, kept for comms
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
    /// The `[[notifier]]` (kind `email`, `to` set: the players' list)
    /// emails to players are sent through; it gets no alerts.
    pub email: Option<String>,
}

pub(crate) fn defaults() -> CommsConfig {
    CommsConfig {
        templates: None,
        game: "the game".into(),
        discord_webhook_file: None,
        forum_webhook_file: None,
        email: None,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawComms {
    templates: Option<PathBuf>,
    game: Option<Spanned<String>>,
    discord_webhook_file: Option<PathBuf>,
    forum_webhook_file: Option<PathBuf>,
    email: Option<Spanned<String>>,
}

/// Checks a `[comms]` table and applies what it sets; returns the email
/// notifier it names, for [`check_email`] once the notifiers are read.
pub(crate) fn apply(
    value: Spanned<DeValue<'_>>,
    cfg: &mut CommsConfig,
    sink: &mut Sink<'_>,
) -> Option<Spanned<String>> {
    let raw = decode::<RawComms>(value, sink)?;
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
    cfg.email = raw.email.as_ref().map(|e| e.get_ref().clone());
    raw.email
}

/// The email notifier `[comms] email` names must be one, with a `to`.
pub(crate) fn check_email(
    name: &Spanned<String>,
    notifiers: &[crate::NotifierConfig],
    sink: &mut Sink<'_>,
) {
    let found = notifiers.iter().find(|n| n.name() == *name.get_ref());
    match found {
        Some(crate::NotifierConfig::Email(e)) if e.to.is_some() => {}
        Some(crate::NotifierConfig::Email(_)) => sink.at(
            name.span(),
            format!(
                "the email notifier `{}` needs a `to` (the players' list) to send comms",
                name.get_ref()
            ),
        ),
        Some(_) => sink.at(
            name.span(),
            format!("notifier `{}` is not of kind email", name.get_ref()),
        ),
        None => sink.at(
            name.span(),
            format!(
                "no [[notifier]] named `{}` (comms email needs one of kind email)",
                name.get_ref()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_comms_email_must_name_an_email_notifier_with_a_to() {
        let base = crate::DEFAULT_COLLECTOR_TOML;
        let with = |comms: &str, notifier: &str| {
            let text = base.replacen("[comms]\n", &format!("[comms]\n{comms}\n"), 1);
            format!("{text}\n{notifier}")
        };
        let mail = "[[notifier]]\nkind = \"email\"\nname = \"players\"\nhost = \"127.0.0.1\"\nfrom = \"news@realms.example\"\n";
        let ok = with(
            "email = \"players\"",
            &format!("{mail}to = \"players@lists.realms.example\"\n"),
        );
        let cfg = crate::parse_collector("c.toml", &ok).unwrap();
        assert_eq!(cfg.comms.email.as_deref(), Some("players"));
        for (text, want) in [
            (
                with("email = \"players\"", mail),
                "the email notifier `players` needs a `to`",
            ),
            (
                with("email = \"stdout\"", ""),
                "notifier `stdout` is not of kind email",
            ),
            (
                with("email = \"nobody\"", ""),
                "no [[notifier]] named `nobody`",
            ),
        ] {
            let err = crate::parse_collector("c.toml", &text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{want:?} not in {err}");
        }
    }
}
