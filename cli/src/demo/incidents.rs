//! Incidents as the demo tells them: one opening from a page, its severity
//! computed from the simulated players (and why), the in-game banner the
//! comms templates draft for it, and at the end its postmortem, written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use liveops_collector::comms::Channel;
use liveops_collector::comms::http::draft_message;
use liveops_collector::incident::postmortem;
use liveops_collector::incident::{Incident, What};
use liveops_collector::state::Shared;

pub struct IncidentPrinter {
    shared: Arc<Shared>,
    /// Timeline entries already told, per incident.
    told: BTreeMap<u64, usize>,
    /// Incidents whose banner draft was printed.
    drafted: Vec<u64>,
}

impl IncidentPrinter {
    pub fn new(shared: Arc<Shared>) -> Self {
        IncidentPrinter {
            shared,
            told: BTreeMap::new(),
            drafted: Vec::new(),
        }
    }

    /// Prints what happened to incidents since the last call.
    pub fn print(&mut self, elapsed: Duration) {
        let at = format!("{:>6.1}s", elapsed.as_secs_f64());
        let incidents: Vec<Incident> = self
            .shared
            .incidents()
            .read(|b| b.list().cloned().collect());
        for inc in incidents.iter().rev() {
            let seen = self.told.entry(inc.id).or_insert(0);
            for e in inc.timeline.iter().skip(*seen) {
                match &e.what {
                    What::Opened => println!(
                        "{at}  INCIDENT  {} opened: {} (team {})",
                        inc.name(),
                        inc.title,
                        inc.team.as_deref().unwrap_or("-")
                    ),
                    What::Severity { from, to } => {
                        println!("{at}  SEVERITY  {} {from} → {to}: {}", inc.name(), e.text)
                    }
                    What::Signal { source, event, .. } if source == "impact" => {
                        println!("{at}  IMPACT    {} {event}: {}", inc.name(), e.text)
                    }
                    _ => {}
                }
            }
            *seen = inc.timeline.len();
            if inc.severity.computed.is_some() && !self.drafted.contains(&inc.id) {
                self.drafted.push(inc.id);
                self.draft(inc, &at);
            }
        }
    }

    fn draft(&self, inc: &Incident, at: &str) {
        match draft_message(&self.shared, inc.id, Channel::Banner, None, "") {
            Ok(m) => println!(
                "{at}  COMMS     {} banner draft ({}): \"{}\"\n          send it: liveops comms send {} --channel status --apply (public page {})",
                inc.name(),
                m.template,
                m.part("text"),
                inc.name(),
                m.link
            ),
            Err(e) => println!("{at}  COMMS     {}: no draft: {e}", inc.name()),
        }
    }

    /// Writes each incident's postmortem into `dir`; returns the paths.
    pub fn postmortems(&self, dir: &Path) -> Vec<PathBuf> {
        let url = self.shared.config().public_url.clone().unwrap_or_default();
        let now = liveops_protocol::time::now_ms();
        let docs: Vec<(String, String)> = self.shared.incidents().read(|b| {
            b.list()
                .map(|i| {
                    let doc = postmortem::document(i, &url, now);
                    (i.name(), postmortem::markdown(&doc))
                })
                .collect()
        });
        let mut written = Vec::new();
        for (name, text) in docs {
            let path = dir.join(format!("liveops-demo-{name}-postmortem.md"));
            match std::fs::write(&path, text) {
                Ok(()) => written.push(path),
                Err(e) => eprintln!("cannot write {}: {e}", path.display()),
            }
        }
        written
    }
}
