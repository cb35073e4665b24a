//! Notices: what a person on call is told that is not a page. At each
//! handoff the incoming person hears what is firing for their team; when
//! a new schedule moves someone's future shifts, they hear which.
//!
//! Pure, like the rest of the book: the roster says who takes over when,
//! the book says what is open, and the result is deliveries
//! ([`PageAction::Notify`]) and decisions to publish. `inflight.rs`
//! picks the channel (the first of the policy's that shows a message and
//! knows the person's address) and falls back when it fails.

use std::collections::BTreeMap;

use liveops_protocol::{
    AlertStatus, Delivery, FiringPage, Notice, Notification, PageAction, Severity, ShiftSpan,
};

use super::book::{Book, Ctx, Effects, PageState};
use crate::rfc3339;

/// Handoffs missed by more than this (the collector was down) are not
/// announced late: the person has been on call for a while already.
pub const CATCH_UP_MS: u64 = 3_600_000;

/// Someone takes over `team`'s `role` at `at_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandoffDue {
    pub at_ms: u64,
    pub team: String,
    pub role: String,
    pub from_person: Option<String>,
    pub to_person: String,
}

/// One person's shifts a new schedule added and removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftChange {
    pub person: String,
    pub gained: Vec<ShiftSpan>,
    pub lost: Vec<ShiftSpan>,
}

impl Book {
    /// Announces every handoff in `(announced until, now]` once, and
    /// moves the mark to `now`. The first call only sets the mark: a
    /// collector starting up does not announce history.
    pub(super) fn handoffs(&mut self, cx: &Ctx<'_>, now: u64, fx: &mut Effects) {
        let Some(since) = self.handoffs_until else {
            self.handoffs_until = Some(now);
            return;
        };
        if now <= since {
            return;
        }
        self.handoffs_until = Some(now);
        let from = since.max(now.saturating_sub(CATCH_UP_MS));
        for h in cx
            .roster
            .handoffs(from.saturating_add(1), now.saturating_add(1))
        {
            let firing = self.firing_for(&h.team, cx.public_url);
            let severity = firing.iter().map(|f| f.severity).min();
            let summary = format!(
                "On call: you are now {} {} (from {})",
                h.team,
                h.role,
                rfc3339(h.at_ms)
            );
            let description = match firing.len() {
                0 => format!("Nothing is firing for {} right now.", h.team),
                n => {
                    let lines: Vec<String> = firing.iter().map(firing_line).collect();
                    format!("Firing for {} now ({n}):\n{}", h.team, lines.join("\n"))
                }
            };
            let notice = Notice::Handoff {
                role: h.role.clone(),
                at: rfc3339(h.at_ms),
                from_person: h.from_person.clone(),
                firing,
            };
            let id = format!("n-handoff-{}-{}-{}", h.team, h.role, h.at_ms);
            let text = Text {
                name: "OnCallHandoff",
                summary,
                description,
                role: Some(&h.role),
            };
            let d = draft(cx, id, &h.team, severity, text, notice, now);
            self.send_notice(cx, &h.to_person, d, "handoff", now, fx);
        }
    }

    /// Tells each person in `changes` which of their shifts moved.
    pub(super) fn shifts_moved(
        &mut self,
        cx: &Ctx<'_>,
        changes: Vec<ShiftChange>,
        now: u64,
        fx: &mut Effects,
    ) {
        for c in changes {
            let mut lines = Vec::new();
            lines.extend(c.gained.iter().map(|s| format!("+ {}", shift_line(s))));
            lines.extend(c.lost.iter().map(|s| format!("- {}", shift_line(s))));
            let summary = format!(
                "On call: your shifts changed ({} added, {} removed)",
                c.gained.len(),
                c.lost.len()
            );
            let team = c
                .gained
                .first()
                .or(c.lost.first())
                .map_or(String::new(), |s| s.team.clone());
            let text = Text {
                name: "OnCallShiftsMoved",
                summary,
                description: lines.join("\n"),
                role: None,
            };
            let notice = Notice::ShiftsMoved {
                gained: c.gained,
                lost: c.lost,
            };
            let id = format!("n-moved-{}-{now}", c.person);
            let d = draft(cx, id, &team, None, text, notice, now);
            self.send_notice(cx, &c.person, d, "shifts moved", now, fx);
        }
    }

    /// The team's pages not yet resolved, most urgent first.
    fn firing_for(&self, team: &str, public_url: &str) -> Vec<FiringPage> {
        let mut out: Vec<FiringPage> = self
            .pages
            .values()
            .filter(|p| p.is_open() && p.team == team)
            .filter_map(|p| {
                let lead = p.lead_alert()?;
                Some(FiringPage {
                    page_id: p.id.clone(),
                    alertname: lead.label("alertname").unwrap_or("alert").to_owned(),
                    world: lead.label("world").map(str::to_owned),
                    severity: p.severity,
                    summary: lead.annotations.get("summary").cloned().unwrap_or_default(),
                    state: match p.state {
                        PageState::Acked => "acked",
                        PageState::Held => "held",
                        _ => "open",
                    }
                    .to_owned(),
                    url: format!("{public_url}/api/v1/pages/{}", p.id),
                    runbook_url: lead
                        .annotations
                        .get("runbook_url")
                        .filter(|u| !u.is_empty())
                        .cloned(),
                })
            })
            .collect();
        out.sort_by_key(|f| f.severity);
        out
    }
}

struct Text<'a> {
    name: &'static str,
    summary: String,
    description: String,
    role: Option<&'a str>,
}

fn draft(
    cx: &Ctx<'_>,
    id: String,
    team: &str,
    severity: Option<Severity>,
    text: Text<'_>,
    notice: Notice,
    now: u64,
) -> Delivery {
    let url = format!("{}/oncall", cx.public_url);
    let mut labels = BTreeMap::from([("alertname".to_owned(), text.name.to_owned())]);
    if !team.is_empty() {
        labels.insert("team".into(), team.to_owned());
    }
    if let Some(r) = text.role {
        labels.insert("role".into(), r.to_owned());
    }
    let annotations = BTreeMap::from([
        ("summary".to_owned(), text.summary),
        ("description".to_owned(), text.description),
    ]);
    Delivery {
        page_id: id,
        action: PageAction::Notify,
        // Nothing here wakes anyone: a notice is as urgent as the most
        // urgent page it lists, else the least.
        severity: severity.unwrap_or(Severity::Sev4),
        team: team.to_owned(),
        to: None,
        attempt: 1,
        alert: Notification {
            status: AlertStatus::Firing,
            labels,
            annotations,
            starts_at: rfc3339(now),
            ends_at: None,
            generator_url: url.clone(),
        },
        page_url: url,
        at_ms: now,
        notice: Some(notice),
    }
}

fn firing_line(f: &FiringPage) -> String {
    let world = f
        .world
        .as_deref()
        .map_or(String::new(), |w| format!(" {w}"));
    format!(
        "{} {}{world} ({}): {} {}",
        f.severity, f.alertname, f.state, f.summary, f.url
    )
}

fn shift_line(s: &ShiftSpan) -> String {
    format!("{} {} {} → {}", s.team, s.role, s.from, s.until)
}
