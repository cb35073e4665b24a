//! What was said to players about an incident: each message sent is on
//! the timeline; those published on the status page are also kept as the
//! incident's public updates, the only part of it the public pages show.

use serde::{Deserialize, Serialize};

use super::book::{Book, IncidentError, TEXT_MAX, TITLE_MAX, text};
use super::model::{Entry, Incident, What};

/// One update on the public status page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicUpdate {
    pub at_ms: u64,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub state: String,
    pub title: String,
    pub body: String,
}

/// A message sent on a channel, as the timeline records it.
pub struct Sent<'a> {
    pub channel: &'a str,
    pub state: &'a str,
    pub title: &'a str,
    /// The message (its main part), as players saw it.
    pub body: &'a str,
    /// Published on the status page.
    pub public: bool,
}

impl Book {
    /// Records a message sent about incident `id`.
    pub fn sent(
        &mut self,
        id: u64,
        s: &Sent<'_>,
        by: &str,
        now: u64,
    ) -> Result<&Incident, IncidentError> {
        let body = text(s.body, "a message", TEXT_MAX)?;
        let title = text(s.title, "a title", TITLE_MAX)?;
        let (inc, at) = self.active(id, now)?;
        if s.public {
            inc.updates.push(PublicUpdate {
                at_ms: at,
                state: s.state.to_owned(),
                title,
                body: body.clone(),
            });
        }
        inc.timeline.push(Entry {
            at_ms: at,
            by: by.into(),
            what: What::Comms {
                channel: s.channel.to_owned(),
                state: s.state.to_owned(),
            },
            text: body,
        });
        Ok(inc)
    }
}
