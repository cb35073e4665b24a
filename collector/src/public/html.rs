//! The pages: plain HTML and a little CSS, no JavaScript, every value
//! escaped (titles and messages are people's text).

use std::fmt::Write;

use super::view::{PublicIncident, StatusView};
use crate::incident::Incident;
use crate::incident::postmortem::describe;

/// Text safe in HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse;width:100%}\
td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}.operational{color:#1a7f37}\
.degraded{color:#9a6700}.down{color:#cf222e}.update{border-left:3px solid #ccc;padding:.2rem .8rem;margin:.8rem 0}\
.state{font-weight:600;text-transform:capitalize}small{color:#666}";

fn page(title: &str, body: &str, feed: bool) -> String {
    let link = if feed {
        "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"/status/feed.atom\" title=\"Incidents\">"
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title>{link}<style>{STYLE}</style></head><body>\n{body}</body></html>\n",
        esc(title)
    )
}

fn incident_line(out: &mut String, i: &PublicIncident) {
    let _ = writeln!(
        out,
        "<li><a href=\"/status/incidents/{}\">{}</a> <span class=\"state\">{}</span> <small>{} · updated {}</small></li>",
        i.id,
        esc(&i.title),
        esc(&i.state),
        esc(&i.worlds.join(", ")),
        esc(&i.updated_at)
    );
}

/// `/status`.
pub fn status(v: &StatusView) -> String {
    let mut b = format!("<h1>{} status</h1>\n", esc(&v.game));
    let all_ok = v.open.is_empty() && v.worlds.iter().all(|w| w.status == "operational");
    let _ = writeln!(
        b,
        "<p class=\"{}\"><strong>{}</strong></p>",
        if all_ok { "operational" } else { "degraded" },
        if all_ok {
            "All systems operational"
        } else {
            "Some players are affected"
        }
    );
    b.push_str("<h2>Open incidents</h2>\n");
    if v.open.is_empty() {
        b.push_str("<p>None.</p>\n");
    } else {
        b.push_str("<ul>\n");
        v.open.iter().for_each(|i| incident_line(&mut b, i));
        b.push_str("</ul>\n");
    }
    for (title, rows) in [
        (
            "Worlds",
            v.worlds
                .iter()
                .map(|w| (w.world.as_str(), w.status))
                .collect::<Vec<_>>(),
        ),
        (
            "Game systems",
            v.systems
                .iter()
                .map(|s| (s.system.as_str(), s.status))
                .collect(),
        ),
    ] {
        let _ = writeln!(b, "<h2>{title}</h2>\n<table>");
        for (name, status) in rows {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td class=\"{status}\">{status}</td></tr>",
                esc(name)
            );
        }
        b.push_str("</table>\n");
    }
    b.push_str("<h2>Past 30 days</h2>\n");
    if v.past.is_empty() {
        b.push_str("<p>No incidents.</p>\n");
    } else {
        b.push_str("<ul>\n");
        v.past.iter().for_each(|i| incident_line(&mut b, i));
        b.push_str("</ul>\n");
        if v.past_total > v.past.len() {
            let _ = writeln!(
                b,
                "<p><small>The newest {} of {} shown.</small></p>",
                v.past.len(),
                v.past_total
            );
        }
    }
    let _ = writeln!(
        b,
        "<p><small>As of {} · <a href=\"/status.json\">JSON</a> · <a href=\"/status/feed.atom\">Atom feed</a></small></p>",
        esc(&v.generated_at)
    );
    page(&format!("{} status", v.game), &b, true)
}

/// `/status/incidents/{id}`: the updates, in order.
pub fn incident(i: &PublicIncident, game: &str) -> String {
    let mut b = format!(
        "<p><a href=\"/status\">{} status</a></p>\n<h1>{}</h1>\n<p><span class=\"state\">{}</span> · {} · since {}</p>\n",
        esc(game),
        esc(&i.title),
        esc(&i.state),
        esc(&i.worlds.join(", ")),
        esc(&i.started_at)
    );
    for u in &i.updates {
        let _ = writeln!(
            b,
            "<div class=\"update\"><p><span class=\"state\">{}</span> <small>{}</small></p><p>{}</p></div>",
            esc(&u.title),
            esc(&u.at),
            esc(&u.body).replace('\n', "<br>")
        );
    }
    page(&i.title, &b, true)
}

/// `/incidents/{id}`: everything, for the people running it.
pub fn internal(inc: &Incident, public_link: &str) -> String {
    let t = liveops_protocol::time::rfc3339_seconds;
    let mut b = format!(
        "<h1>{} · {}</h1>\n<p><span class=\"state\">{}</span> · {} · worlds {} · team {}</p>\n",
        esc(&inc.name()),
        esc(&inc.title),
        inc.state.as_str(),
        inc.severity.current(),
        esc(&inc.worlds.iter().cloned().collect::<Vec<_>>().join(", ")),
        esc(inc.team.as_deref().unwrap_or("—"))
    );
    let _ = writeln!(
        b,
        "<p>Public page: <a href=\"{0}\">{0}</a> · <a href=\"/api/v1/incidents/{1}\">JSON</a> · <a href=\"/api/v1/incidents/{1}/postmortem\">postmortem</a></p>",
        esc(public_link),
        inc.id
    );
    b.push_str("<h2>People</h2>\n<ul>\n");
    for (role, person) in &inc.roles {
        let _ = writeln!(
            b,
            "<li>{}: {}</li>",
            esc(&format!("{role:?}").to_lowercase()),
            esc(person)
        );
    }
    b.push_str("</ul>\n<h2>Timeline</h2>\n<table>\n<tr><th>Time</th><th>Who</th><th>What</th><th>Detail</th></tr>\n");
    for e in &inc.timeline {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t(e.at_ms),
            esc(&e.by),
            esc(&describe(e)),
            esc(&e.text)
        );
    }
    b.push_str("</table>\n");
    page(&format!("{} {}", inc.name(), inc.title), &b, false)
}
