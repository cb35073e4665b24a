//! The blameless postmortem, pre-filled from the incident: summary facts,
//! player impact, detection and response times, the timeline, and the
//! action items; contributing factors and lessons are left for people,
//! with the questions that keep them blameless. Pure: the incident in,
//! JSON or Markdown out.

use serde_json::{Value, json};

use super::model::{Entry, Incident, What};
use super::response::times;
use liveops_protocol::time::{human_ms, rfc3339_seconds};

/// The postmortem as data (`--format json`), the Markdown's source.
pub fn document(inc: &Incident, public_url: &str, now: u64) -> Value {
    let t = times(inc);
    let seconds: serde_json::Map<String, Value> = t
        .seconds()
        .into_iter()
        .map(|(p, s)| (format!("{p}_seconds"), json!(s)))
        .collect();
    let impact = inc.impact.as_ref();
    json!({
        "incident": inc.name(),
        "title": inc.title,
        "link": format!("{public_url}/incidents/{}", inc.id),
        "state": inc.state,
        "severity": inc.severity.current(),
        "severity_computed": inc.severity.computed,
        "severity_set_by_hand": inc.severity.human,
        "worlds": inc.worlds,
        "team": inc.team,
        "roles": inc.roles,
        "opened_at": rfc3339_seconds(inc.opened_ms),
        "started_at": rfc3339_seconds(t.started_ms),
        "resolved_at": t.resolved_ms.map(rfc3339_seconds),
        "duration_seconds": t.resolved_ms.unwrap_or(now).saturating_sub(t.started_ms) as f64 / 1e3,
        "impact": {
            "peak_players": impact.map_or(0.0, |r| r.peak_players),
            "peak_players_share": impact.map_or(0.0, |r| r.peak_players_share),
            "peak_worlds": impact.map_or(0, |r| r.peak_worlds),
            "payments_failed": impact.map_or(0.0, |r| r.payments_failed),
            "systems": systems(inc),
        },
        "response": seconds,
        "timeline": inc.timeline.iter().map(|e| json!({
            "at": rfc3339_seconds(e.at_ms),
            "by": e.by,
            "what": describe(e),
            "text": e.text,
        })).collect::<Vec<_>>(),
        "action_items": inc.actions.iter().map(|a| json!({
            "id": a.name(),
            "title": a.title,
            "owner": a.owner,
            "due": rfc3339_seconds(a.due_ms),
            "done": a.done,
        })).collect::<Vec<_>>(),
        "contributing_factors": [],
        "lessons": {"went_well": [], "went_wrong": [], "got_lucky": []},
    })
}

/// Every system that hurt while it ran, as the timeline's severity
/// reasons and the last measurement name them.
fn systems(inc: &Incident) -> Vec<String> {
    let mut s: Vec<String> = inc
        .impact
        .as_ref()
        .map(|r| r.now.systems.clone())
        .unwrap_or_default();
    for e in &inc.timeline {
        if let What::Signal { source, .. } = &e.what
            && source == "alert"
            && let Some((name, _)) = e.text.split_once(':')
        {
            s.push(name.to_owned());
        }
    }
    s.sort();
    s.dedup();
    s
}

/// One timeline entry in words.
pub fn describe(e: &Entry) -> String {
    match &e.what {
        What::Opened => "opened".into(),
        What::State { from, to } => format!("{} → {}", from.as_str(), to.as_str()),
        What::Severity { from, to } => format!("severity {from} → {to}"),
        What::Assigned { role, person } => {
            format!("{person} is {}", json!(role).as_str().unwrap_or("?"))
        }
        What::Page { page, world } => format!("page p-{page} for {world}"),
        What::Note { note } => json!(note).as_str().unwrap_or("note").to_owned(),
        What::Action {
            action,
            done: false,
        } => format!("action item A-{action} added"),
        What::Action { action, done: true } => format!("action item A-{action} done"),
        What::Signal { source, event, .. } => format!("{source} {event}"),
        What::Comms { channel, state } => format!("{channel} message ({state})"),
    }
}

/// Text safe in a Markdown table cell: no pipes, no line breaks, no HTML.
fn cell(s: &str) -> String {
    crate::public::html::esc(s)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn secs(v: &Value) -> String {
    v.as_f64().map_or("—".into(), |s| human_ms(s * 1000.0))
}

const BLAMELESS: &str = "> **Blameless.** This postmortem describes what the systems and the process did, \
not who was at fault. People acted on what they knew at the time; where that was not \
enough, the fix is in the systems, the tools or the process. Write it so that everyone \
who was there can sign it.";

/// The postmortem in Markdown, from [`document`].
pub fn markdown(d: &Value) -> String {
    let s = |v: &Value| v.as_str().map(cell).unwrap_or_default();
    let mut out = format!(
        "# Postmortem: {} — {}\n\n{BLAMELESS}\n\n",
        s(&d["incident"]),
        s(&d["title"])
    );
    let list = |v: &Value| {
        let items: Vec<String> = v.as_array().into_iter().flatten().map(s).collect();
        if items.is_empty() {
            "—".to_owned()
        } else {
            items.join(", ")
        }
    };
    let roles: Vec<String> = d["roles"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(r, p)| format!("{r} {}", s(p)))
        .collect();
    let by_hand = &d["severity_set_by_hand"];
    let sev = match by_hand["sev"].as_str() {
        Some(h) => format!(
            "{h} (set by {}: {}; computed {})",
            s(&by_hand["by"]),
            s(&by_hand["reason"]),
            d["severity_computed"].as_str().unwrap_or("—")
        ),
        None => s(&d["severity"]),
    };
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in [
        ("Severity", sev),
        ("State", s(&d["state"])),
        ("Worlds", list(&d["worlds"])),
        ("Team", d["team"].as_str().map_or("—".into(), cell)),
        (
            "People",
            if roles.is_empty() {
                "—".into()
            } else {
                roles.join(", ")
            },
        ),
        ("Began (first bad signal)", s(&d["started_at"])),
        (
            "Resolved",
            d["resolved_at"].as_str().map_or("not yet".into(), cell),
        ),
        ("Duration", secs(&d["duration_seconds"])),
        ("Incident page", s(&d["link"])),
    ] {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out.push_str("\n## Summary\n\n_To be written: what happened and what players saw, in two or three sentences, for someone who was not there._\n\n");
    let i = &d["impact"];
    out.push_str(&format!(
        "## Player impact\n\n- Worlds affected at the peak: {}\n- Players affected at the peak: {:.0} ({:.1} % of the players online)\n- Payments failed while it ran: about {:.0}\n- Systems and alerts: {}\n- Duration: {}\n\n",
        i["peak_worlds"],
        i["peak_players"].as_f64().unwrap_or(0.0),
        i["peak_players_share"].as_f64().unwrap_or(0.0) * 100.0,
        i["payments_failed"].as_f64().unwrap_or(0.0),
        list(&i["systems"]),
        secs(&d["duration_seconds"]),
    ));
    let r = &d["response"];
    out.push_str(
        "## Detection and response\n\nFrom the collector's own timestamps.\n\n| | |\n|---|---|\n",
    );
    for (k, phase) in [
        ("Time to detect (first bad signal → alert)", "detect"),
        ("Time to acknowledge (alert → someone on it)", "acknowledge"),
        (
            "Time to mitigate (first bad signal → SLOs back within objective)",
            "mitigate",
        ),
        ("Time to resolve (first bad signal → resolved)", "resolve"),
    ] {
        out.push_str(&format!(
            "| {k} | {} |\n",
            secs(&r[format!("{phase}_seconds")])
        ));
    }
    out.push_str(
        "\n## Timeline\n\nTimes UTC.\n\n| Time | Who | What | Detail |\n|---|---|---|---|\n",
    );
    for e in d["timeline"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            s(&e["at"]),
            s(&e["by"]),
            s(&e["what"]),
            s(&e["text"])
        ));
    }
    out.push_str("\n## Contributing factors\n\n_To be written by the people who ran it. For each, ask \"how did this make sense at the time?\", not \"who did this?\": the conditions (a change, a load, a missing alarm, an unclear runbook) that together let the fault reach players, and what made it harder to see or to fix._\n\n");
    out.push_str("## Lessons\n\n### What went well\n\n_To be written._\n\n### What went wrong\n\n_To be written._\n\n### Where we got lucky\n\n_To be written._\n\n");
    out.push_str("## Action items\n\n");
    let items = d["action_items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        out.push_str(&format!(
            "_None yet: `liveops action add {} --title … --owner … --due YYYY-MM-DD`._\n",
            s(&d["incident"])
        ));
    } else {
        out.push_str("| Item | What | Owner | Due | Status |\n|---|---|---|---|---|\n");
        for a in items {
            let status = match a["done"]["note"].as_str() {
                Some(n) => format!("done: {}", cell(n)),
                None => "open".into(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {status} |\n",
                s(&a["id"]),
                s(&a["title"]),
                s(&a["owner"]),
                s(&a["due"])
            ));
        }
    }
    out
}
