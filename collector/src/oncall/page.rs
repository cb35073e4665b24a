//! The `/oncall` page: who is on call now per team and role, and the next
//! four weeks of the final schedule, overrides and coverage marked. Plain
//! HTML and a little CSS, every value escaped; readable without
//! JavaScript and in a terminal browser.

use std::fmt::Write;

use liveops_oncall::jiff::Timestamp;
use liveops_oncall::jiff::tz::TimeZone;
use liveops_oncall::{OnCall, Role, Schedule, Source, after};

use super::http::AHEAD_SECONDS;
use crate::public::html::esc;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}\
table{border-collapse:collapse;margin-bottom:2rem}\
th,td{border-bottom:1px solid #ddd;padding:.35rem .8rem;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.nobody{color:#b00020;font-weight:bold}\
.mark{font-size:.8rem;padding:0 .3rem;border-radius:.2rem;margin-left:.3rem}\
.mark.override{background:#ffe08a}.mark.coverage{background:#bde0fe}\
tr.override td,tr.coverage td{background:#fffbea}small{color:#666}";

pub(super) fn render(schedule: &Schedule, now: Timestamp) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(
        h,
        "<title>On call · liveops</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>On call</h1><p>As of <time datetime=\"{now}\">{}</time>. Times are UTC. \
         <a href=\"/oncall.ics\">Subscribe (iCalendar)</a> · <a href=\"/api/v1/oncall\">JSON</a></p>",
        short(now)
    );
    now_table(schedule, now, &mut h);
    ahead_table(schedule, now, &mut h);
    h.push_str("</body></html>\n");
    h
}

fn now_table(schedule: &Schedule, now: Timestamp, h: &mut String) {
    h.push_str("<h2>Now</h2><table id=\"now\"><thead><tr><th>Team</th><th>Role</th><th>On call</th><th>Until</th></tr></thead><tbody>");
    let who = schedule.who(now, None);
    for team in schedule.teams() {
        for role in Role::ALL {
            let here: Vec<&OnCall> = who
                .iter()
                .filter(|o| o.team == team && o.role == role)
                .collect();
            let _ = write!(
                h,
                "<tr data-team=\"{t}\" data-role=\"{r}\"><td>{t}</td><td>{r}</td>",
                t = esc(team),
                r = role
            );
            if here.is_empty() {
                h.push_str("<td class=\"people nobody\">nobody</td><td></td></tr>");
                continue;
            }
            h.push_str("<td class=\"people\">");
            for (i, o) in here.iter().enumerate() {
                if i > 0 {
                    h.push_str("<br>");
                }
                let _ = write!(
                    h,
                    "<span class=\"person\" data-source=\"{}\">{}</span>{}",
                    o.source.kind(),
                    esc(&o.person),
                    mark(&o.source)
                );
            }
            h.push_str("</td><td>");
            for (i, o) in here.iter().enumerate() {
                if i > 0 {
                    h.push_str("<br>");
                }
                let _ = write!(h, "{}", local(schedule, o));
            }
            h.push_str("</td></tr>");
        }
    }
    h.push_str("</tbody></table>");
}

fn ahead_table(schedule: &Schedule, now: Timestamp, h: &mut String) {
    h.push_str("<h2>Next four weeks</h2><table id=\"shifts\"><thead><tr><th>From</th><th>Until</th><th>Team</th><th>Role</th><th>Person</th><th>Why</th></tr></thead><tbody>");
    for o in schedule.shifts(now, after(now, AHEAD_SECONDS), None) {
        let why = match &o.source {
            Source::Rotation { name } => format!("rotation {}", esc(name)),
            Source::Override { reason } => format!(
                "<span class=\"mark override\">override</span> {}",
                esc(reason.as_deref().unwrap_or(""))
            ),
            Source::Coverage { name } => {
                format!(
                    "<span class=\"mark coverage\">coverage</span> {}",
                    esc(name)
                )
            }
        };
        let _ = write!(
            h,
            "<tr class=\"{}\"><td><time datetime=\"{}\">{}</time></td><td><time datetime=\"{}\">{}</time></td><td>{}</td><td>{}</td><td>{}</td><td>{why}</td></tr>",
            o.source.kind(),
            o.from,
            short(o.from),
            o.until,
            short(o.until),
            esc(&o.team),
            o.role,
            esc(&o.person),
        );
    }
    h.push_str("</tbody></table>");
}

fn mark(source: &Source) -> String {
    match source {
        Source::Rotation { .. } => String::new(),
        Source::Override { reason } => format!(
            "<span class=\"mark override\" title=\"{}\">override</span>",
            esc(reason.as_deref().unwrap_or(""))
        ),
        Source::Coverage { name } => format!(
            "<span class=\"mark coverage\" title=\"{}\">coverage</span>",
            esc(name)
        ),
    }
}

/// The end of a piece in UTC, and on the person's own wall clock.
fn local(schedule: &Schedule, o: &OnCall) -> String {
    let theirs = schedule.person(&o.person).map_or_else(String::new, |p| {
        let t = o.until.to_zoned(p.zone.clone());
        format!(
            " <small>({} {})</small>",
            t.strftime("%a %H:%M"),
            esc(p.zone_name())
        )
    });
    format!(
        "<time datetime=\"{}\">{}</time>{theirs}",
        o.until,
        short(o.until)
    )
}

/// `Mon 2026-12-07 08:00`, in UTC.
fn short(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC)
        .strftime("%a %Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_who_is_on_call_and_escapes_text() {
        let cfg = liveops_config::parse_oncall("o.toml", liveops_config::DEFAULT_ONCALL_TOML);
        let s = Schedule::new(cfg.unwrap());
        let at: Timestamp = "2026-12-12T12:00:00Z".parse().unwrap();
        let page = render(&s, at);
        assert!(page.contains(
            "<tr data-team=\"engineering\" data-role=\"primary\"><td>engineering</td><td>primary</td><td class=\"people\"><span class=\"person\" data-source=\"rotation\">alice</span><br><span class=\"person\" data-source=\"coverage\">erin</span>"
        ), "{page}");
        assert!(page.contains(
            "<span class=\"mark override\">override</span> bob covers the holidays for carol"
        ));
        assert!(!page.contains("<script"));
        assert!(
            !page.contains("example.com"),
            "no contacts on a public page"
        );
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
