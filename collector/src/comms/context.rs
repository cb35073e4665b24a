//! What a comms template sees: the incident as players may see it (title,
//! worlds, state, severity, the systems hurting, players affected), the
//! link to its public page, and the operator's message. No notes, no
//! people, no timeline: those are internal.

use serde_json::{Value, json};

use super::channel::CommsState;
use crate::incident::{Incident, Sev, State};

/// The context for `inc` in `state`, linking to `link`.
pub fn context(
    inc: &Incident,
    state: CommsState,
    link: &str,
    game: &str,
    message: &str,
    now: u64,
) -> Value {
    let worlds: Vec<&str> = inc.worlds.iter().map(String::as_str).collect();
    let impact = inc.impact.as_ref();
    let systems: Vec<String> = impact
        .map(|r| r.now.systems.iter().map(|s| s.replace('_', " ")).collect())
        .unwrap_or_default();
    json!({
        "game": game,
        "link": link,
        "state": state.as_str(),
        "message": message.trim(),
        "now": liveops_protocol::time::rfc3339_seconds(now),
        "incident": {
            "id": inc.name(),
            "number": inc.id,
            "title": inc.title,
            "severity": inc.severity.current(),
            "worlds": worlds,
            "worlds_text": if worlds.is_empty() { game.to_owned() } else { worlds.join(", ") },
            "started_at": liveops_protocol::time::rfc3339_seconds(inc.opened_ms),
        },
        "impact": {
            "players": impact.map_or(0.0, |r| r.now.players.round()),
            "players_share_pct": impact.map_or(0.0, |r| (r.now.players_share * 1000.0).round() / 10.0),
            "systems": systems,
            "systems_text": if systems.is_empty() { "the game".to_owned() } else { systems.join(", ") },
        },
    })
}

/// The incident `liveops check-config` renders every template against.
pub fn sample() -> Incident {
    let mut book = crate::incident::Book::default();
    let draft = crate::incident::Draft {
        title: "Payments failing in eu-1".into(),
        worlds: vec!["eu-1".into(), "eu-2".into()],
        sev: Some(Sev::Sev2),
    };
    let mut inc = book
        .open(&draft, "liveops", 1_764_800_000_000)
        .expect("a valid sample")
        .clone();
    inc.state = State::Investigating;
    inc
}
