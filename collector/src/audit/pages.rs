//! Paging decisions as audit entries: who (an operator, or `pager`) did
//! what to which page or silence, about which alert, and why.

use serde_json::{Value, json};

use super::Draft;
use crate::paging::PageEvent;

pub(super) fn draft(e: &PageEvent) -> Draft {
    let mut scope = Vec::new();
    if let Some(w) = &e.world {
        scope.push(format!("world {w}"));
    }
    if let Some(t) = &e.team {
        scope.push(format!("team {t}"));
    }
    if let Some(s) = e.severity {
        scope.push(s.to_string());
    }
    let subject = match (&e.alertname, &e.channel, &e.person) {
        (a, Some(c), Some(p)) => format!(
            "{} {} via {c} to {p}",
            e.kind.as_str(),
            a.as_deref().unwrap_or("")
        ),
        (a, Some(c), None) => format!("{} {} via {c}", e.kind.as_str(), a.as_deref().unwrap_or("")),
        (Some(a), None, _) => format!("{} {a}", e.kind.as_str()),
        (None, None, _) => e.kind.as_str().to_owned(),
    };
    Draft {
        actor: e.actor.clone(),
        role: e.role.clone(),
        action: "page",
        id: e.id.clone().unwrap_or_default(),
        subject,
        scope: if scope.is_empty() {
            "fleet".into()
        } else {
            scope.join(", ")
        },
        reason: e.reason.clone(),
        before: Value::Null,
        after: json!(e),
    }
}
