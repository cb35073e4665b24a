//! Flag reloads carried by agent reports, as audit entries, and which
//! reports the log already holds (so a replayed report is recorded once).

use std::collections::HashMap;

use liveops_protocol::flags::{FlagChange, FlagReload};
use serde_json::{Map, Value};

use super::Draft;

/// Which agent's report, for which world, carried reloads.
#[derive(Clone, Copy, Debug)]
pub struct From<'a> {
    pub agent: &'a str,
    pub world: &'a str,
    pub seq: u64,
}

/// The entry for one reload a report carries.
pub(super) fn draft(report: &From<'_>, r: &FlagReload) -> Draft {
    let at = crate::rfc3339(r.at_ms);
    let short = r.sha256.get(..12).unwrap_or(&r.sha256);
    let (action, reason) = match (&r.error, r.applied) {
        (_, true) => ("flag-reload", format!("reloaded at {at}, sha256 {short}")),
        (Some(e), false) => (
            "flag-reload-rejected",
            format!("rejected at {at}; the last good flags stay served: {e}"),
        ),
        (None, false) => ("flag-reload-rejected", format!("rejected at {at}")),
    };
    let side = |f: fn(&FlagChange) -> &Option<String>| {
        let m: Map<String, Value> = r
            .changes
            .iter()
            .map(|c| {
                (
                    c.flag.clone(),
                    f(c).clone().map_or(Value::Null, Value::String),
                )
            })
            .collect();
        Value::Object(m)
    };
    Draft {
        actor: format!("agent:{}", report.agent),
        role: "agent".into(),
        action,
        id: format!("report-{}", report.seq),
        subject: r.file.clone(),
        scope: format!("world {}", report.world),
        reason,
        before: side(|c| &c.before),
        after: side(|c| &c.after),
    }
}

/// Per agent, the last report whose reloads are in `entries`.
pub(super) fn in_log(entries: &[Value]) -> HashMap<String, u64> {
    let mut out: HashMap<String, u64> = HashMap::new();
    for e in entries {
        let agent = e
            .get("actor")
            .and_then(Value::as_str)
            .and_then(|a| a.strip_prefix("agent:"));
        let seq = e
            .get("id")
            .and_then(Value::as_str)
            .and_then(|i| i.strip_prefix("report-"))
            .and_then(|s| s.parse::<u64>().ok());
        if let (Some(agent), Some(seq)) = (agent, seq) {
            let last = out.entry(agent.to_owned()).or_default();
            *last = (*last).max(seq);
        }
    }
    out
}
