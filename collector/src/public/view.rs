//! What the public pages show: published incidents only, and for each
//! only its public updates.

use serde::Serialize;

use crate::incident::{Book, Incident};

/// How far back `/status` lists past incidents, and how many at most (a
/// page of 10,000 would be megabytes nobody reads).
pub const HISTORY_MS: u64 = 30 * 86_400_000;
pub const PAST_MAX: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Update {
    pub at: String,
    pub at_ms: u64,
    pub state: String,
    pub title: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublicIncident {
    pub id: u64,
    pub title: String,
    /// The newest update's state.
    pub state: String,
    pub worlds: Vec<String>,
    pub started_at: String,
    pub updated_at: String,
    pub updated_ms: u64,
    pub updates: Vec<Update>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorldStatus {
    pub world: String,
    /// `operational`, `degraded` (an open incident) or `down`.
    pub status: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SystemStatus {
    pub system: String,
    pub status: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusView {
    pub game: String,
    pub generated_at: String,
    pub worlds: Vec<WorldStatus>,
    pub systems: Vec<SystemStatus>,
    pub open: Vec<PublicIncident>,
    /// Resolved within the last 30 days, newest first, at most [`PAST_MAX`].
    pub past: Vec<PublicIncident>,
    /// How many were resolved within the last 30 days in all.
    pub past_total: usize,
}

/// `inc` as the public sees it, if anything of it was published.
pub fn public(inc: &Incident) -> Option<PublicIncident> {
    let first = inc.updates.first()?;
    let last = inc.updates.last()?;
    let t = liveops_protocol::time::rfc3339_seconds;
    Some(PublicIncident {
        id: inc.id,
        title: inc.title.clone(),
        state: last.state.clone(),
        worlds: inc.worlds.iter().cloned().collect(),
        started_at: t(first.at_ms),
        updated_at: t(last.at_ms),
        updated_ms: last.at_ms,
        updates: inc
            .updates
            .iter()
            .map(|u| Update {
                at: t(u.at_ms),
                at_ms: u.at_ms,
                state: u.state.clone(),
                title: u.title.clone(),
                body: u.body.clone(),
            })
            .collect(),
    })
}

/// The whole page: `worlds` are the live worlds and whether each is up;
/// `systems` the SLO names.
pub fn status(
    book: &Book,
    game: &str,
    worlds: &[(String, bool)],
    systems: &[String],
    now: u64,
) -> StatusView {
    let mut open = Vec::new();
    let mut past = Vec::new();
    let mut past_total = 0;
    let mut hurting: Vec<&str> = Vec::new();
    for inc in book.list() {
        let Some(last) = inc.updates.last() else {
            continue;
        };
        if last.state != "resolved" && !inc.state.is_final() {
            if let Some(r) = &inc.impact {
                hurting.extend(r.now.systems.iter().map(String::as_str));
            }
            open.extend(public(inc));
        } else if now.saturating_sub(last.at_ms) <= HISTORY_MS {
            past_total += 1;
            // Newest incidents first; the newest update first would need
            // them all: close enough for a history list.
            if past.len() < PAST_MAX {
                past.extend(public(inc));
            }
        }
    }
    past.sort_by_key(|p| std::cmp::Reverse(p.updated_ms));
    let in_open = |w: &str| open.iter().any(|i| i.worlds.iter().any(|x| x == w));
    StatusView {
        game: game.to_owned(),
        generated_at: liveops_protocol::time::rfc3339_seconds(now),
        worlds: worlds
            .iter()
            .map(|(w, up)| WorldStatus {
                world: w.clone(),
                status: match (up, in_open(w)) {
                    (false, _) => "down",
                    (true, true) => "degraded",
                    (true, false) => "operational",
                },
            })
            .collect(),
        systems: systems
            .iter()
            .map(|s| SystemStatus {
                system: s.replace('_', " "),
                status: if hurting.contains(&s.as_str()) {
                    "degraded"
                } else {
                    "operational"
                },
            })
            .collect(),
        open,
        past,
        past_total,
    }
}
