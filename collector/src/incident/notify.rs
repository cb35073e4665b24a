//! An incident's severity, told through the paging policy: while an
//! incident is active, its severity has moved (computed or set by hand),
//! and players are still affected (or a person set it), an
//! `IncidentSeverity` alert fires for the severity in force. It carries the
//! incident and the world of its first page, so it groups into that page:
//! a SEV1 route raises the page to the SEV1 policy, a lower one adds
//! nothing. A new severity resolves the alert of the old one; recovery or
//! the incident ending resolves the last, and the page can resolve.

use std::collections::BTreeMap;

use liveops_protocol::{AlertStatus, Notification, time::rfc3339};

use super::book::Book;
use super::model::{Incident, Sev, What};

pub const SEVERITY_ALERT: &str = "IncidentSeverity";

/// A severity to tell, or one to take back.
#[derive(Clone, Debug, PartialEq)]
pub struct SevNotice {
    pub incident: Incident,
    pub sev: Sev,
    pub status: AlertStatus,
}

impl Book {
    /// What the paging policy must hear now: for every incident whose
    /// severity to notify differs from the one notified, the old one
    /// resolved and the new one firing. Marks them notified.
    pub fn notices(&mut self) -> Vec<SevNotice> {
        let mut out = Vec::new();
        for inc in self.incidents.values_mut() {
            let moved = inc
                .timeline
                .iter()
                .any(|e| matches!(e.what, What::Severity { .. }));
            // Measured and no longer hurting anyone: nothing to page for.
            let hurting = inc
                .impact
                .as_ref()
                .is_none_or(|r| !r.now.affected.is_empty());
            let told = moved && (hurting || inc.severity.human.is_some());
            let want = (inc.state.is_active() && told).then(|| inc.severity.current());
            if want == inc.marks.notified {
                continue;
            }
            let old = std::mem::replace(&mut inc.marks.notified, want);
            self.dirty.insert(inc.id);
            let tell = |sev, status| SevNotice {
                incident: inc.clone(),
                sev,
                status,
            };
            out.extend(old.map(|sev| tell(sev, AlertStatus::Resolved)));
            out.extend(want.map(|sev| tell(sev, AlertStatus::Firing)));
        }
        out
    }
}

/// The alert for `n`, linking to the incident's page under `public_url`.
pub fn alert(n: &SevNotice, public_url: &str, now_ms: u64) -> Notification {
    let inc = &n.incident;
    let urgency = if n.sev <= Sev::Sev2 { "page" } else { "ticket" };
    let mut labels = BTreeMap::from([
        ("alertname".to_owned(), SEVERITY_ALERT.to_owned()),
        ("incident".to_owned(), inc.name()),
        ("incident_severity".to_owned(), n.sev.as_str().to_owned()),
        ("severity".to_owned(), urgency.to_owned()),
    ]);
    let first_page = inc.timeline.iter().find_map(|e| match &e.what {
        What::Page { world, .. } => Some(world.clone()),
        _ => None,
    });
    if let Some(w) = first_page.or_else(|| inc.worlds.first().cloned()) {
        labels.insert("world".to_owned(), w);
    }
    let why = inc
        .timeline
        .iter()
        .rev()
        .find(|e| matches!(e.what, What::Severity { .. }))
        .map_or("", |e| e.text.as_str());
    let worlds: Vec<&str> = inc.worlds.iter().map(String::as_str).collect();
    let link = format!("{public_url}/incidents/{}", inc.id);
    let mut annotations = BTreeMap::from([
        (
            "summary".to_owned(),
            format!("{} is {}: {}", inc.name(), n.sev, inc.title),
        ),
        (
            "description".to_owned(),
            format!(
                "{} ({}) is {} in {}: {why}",
                inc.name(),
                inc.state.as_str(),
                n.sev,
                if worlds.is_empty() {
                    "no world yet".to_owned()
                } else {
                    worlds.join(", ")
                }
            ),
        ),
        ("runbook_url".to_owned(), link.clone()),
    ]);
    if let Some(team) = &inc.team {
        annotations.insert("owner".to_owned(), team.clone());
    }
    let resolved = n.status == AlertStatus::Resolved;
    Notification {
        status: n.status,
        labels,
        annotations,
        starts_at: rfc3339(inc.opened_ms),
        ends_at: resolved.then(|| rfc3339(now_ms)),
        generator_url: link,
    }
}

pub const OVERDUE_ALERT: &str = "ActionItemOverdue";

/// An action item past its due date, as a ticket for its incident's team
/// (`severity = ticket`; the shipped routes send it to SEV4, the ticket
/// queue); resolved once it is done.
pub fn overdue_alert(
    n: &super::actions::ActionNotice,
    public_url: &str,
    now_ms: u64,
) -> Notification {
    let a = &n.action;
    let labels = BTreeMap::from([
        ("alertname".to_owned(), OVERDUE_ALERT.to_owned()),
        ("action".to_owned(), a.name()),
        ("incident".to_owned(), n.incident.clone()),
        ("owner".to_owned(), a.owner.clone()),
        ("severity".to_owned(), "ticket".to_owned()),
    ]);
    let link = format!(
        "{public_url}/incidents/{}",
        n.incident.trim_start_matches("INC-")
    );
    let mut annotations = BTreeMap::from([
        (
            "summary".to_owned(),
            format!(
                "{} is overdue (due {}): {} — owner {}",
                a.name(),
                liveops_protocol::time::rfc3339_seconds(a.due_ms),
                a.title,
                a.owner
            ),
        ),
        (
            "description".to_owned(),
            format!(
                "An action item of {}'s postmortem is past its due date. Do it and mark it \
                 (`liveops action done {} --note …`), or agree a new date.",
                n.incident,
                a.name()
            ),
        ),
        ("runbook_url".to_owned(), link.clone()),
    ]);
    if let Some(team) = &n.team {
        annotations.insert("owner".to_owned(), team.clone());
    }
    Notification {
        status: if n.firing {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        },
        labels,
        annotations,
        starts_at: rfc3339(a.due_ms),
        ends_at: (!n.firing).then(|| rfc3339(now_ms)),
        generator_url: link,
    }
}
