//! The channels comms go out on, the parts of each message, and the limits
//! the platforms set (a Discord embed over its limits is refused whole, so
//! a long message is an error here, before anyone sends it).

use serde::Serialize;

use crate::incident::State;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// The in-game banner: one short line of plain text.
    Banner,
    /// The community Discord: an embed.
    Discord,
    /// The forum: a Markdown post.
    Forum,
    /// Email: subject, text and HTML.
    Email,
    /// The public status page.
    Status,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Banner,
        Channel::Discord,
        Channel::Forum,
        Channel::Email,
        Channel::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Banner => "banner",
            Channel::Discord => "discord",
            Channel::Forum => "forum",
            Channel::Email => "email",
            Channel::Status => "status",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The blocks its template defines, each with its longest rendering
    /// in characters.
    pub fn parts(self) -> &'static [(&'static str, usize)] {
        match self {
            Channel::Banner => &[("text", BANNER_MAX)],
            // Discord's embed limits: title 256, description 4096.
            Channel::Discord => &[("title", 256), ("description", 4096)],
            Channel::Forum => &[("title", 200), ("body", 60_000)],
            Channel::Email => &[("subject", 200), ("text", 60_000), ("html", 100_000)],
            Channel::Status => &[("title", 100), ("body", 4000)],
        }
    }
}

/// A banner longer than a tweet does not fit a game's HUD.
pub const BANNER_MAX: usize = 280;

/// The states players hear of (Statuspage's words), from the incident's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommsState {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl CommsState {
    pub const ALL: [CommsState; 4] = [
        CommsState::Investigating,
        CommsState::Identified,
        CommsState::Monitoring,
        CommsState::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommsState::Investigating => "investigating",
            CommsState::Identified => "identified",
            CommsState::Monitoring => "monitoring",
            CommsState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<CommsState> {
        CommsState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn of(s: State) -> CommsState {
        match s {
            State::Triage | State::Investigating => CommsState::Investigating,
            State::Identified => CommsState::Identified,
            State::Mitigated => CommsState::Monitoring,
            State::Resolved | State::Closed | State::Cancelled => CommsState::Resolved,
        }
    }
}

/// One rendered message: its parts by block name, in the channel's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub channel: Channel,
    pub state: CommsState,
    /// The template file it came from.
    pub template: String,
    pub parts: Vec<(String, String)>,
    /// The incident page every message links to.
    pub link: String,
}

impl Message {
    pub fn part(&self, name: &str) -> &str {
        self.parts
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}
