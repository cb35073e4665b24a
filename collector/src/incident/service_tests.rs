use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use liveops_config::Role;

use super::*;
use crate::events::Recorder;
use crate::incident::{Draft, State};
use crate::telemetry::CollectorMetrics;

/// An audit log that can be made to refuse.
#[derive(Default)]
struct Log {
    refuse: AtomicBool,
    kept: std::sync::Mutex<Vec<Event>>,
}

impl Recorder for Log {
    fn record(&self, events: &mut Vec<Event>) -> Result<(), CollectorError> {
        if self.refuse.load(Ordering::Relaxed) {
            return Err(CollectorError::AuditBroken("the log was replaced".into()));
        }
        self.kept.lock().unwrap().extend(events.iter().cloned());
        Ok(())
    }
}

fn caller() -> Caller {
    Caller {
        name: "ana".into(),
        role: Role::Responder,
    }
}

#[test]
fn a_change_the_audit_log_refuses_is_undone_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let log = Arc::new(Log::default());
    let events = Events::new(vec![log.clone()]);
    let incidents = Incidents::open(&store, Arc::new(CollectorMetrics::new())).unwrap();
    let who = caller();
    let c = |what| Change {
        by: &who,
        what,
        reason: "",
    };
    let draft = Draft {
        title: "Logins failing".into(),
        ..Draft::default()
    };
    let inc = incidents
        .change(&events, &c("open"), None, |b| {
            b.open(&draft, "ana", 1).map(|i| i.id)
        })
        .unwrap();
    assert_eq!(inc.id, 1);

    log.refuse.store(true, Ordering::Relaxed);
    let moved = incidents.change(&events, &c("status"), Some(1), |b| {
        b.status(1, State::Investigating, "", "ana", 2)
            .map(|i| i.id)
    });
    assert!(matches!(moved, Err(ChangeError::Collector(_))), "{moved:?}");
    let opened = incidents.change(&events, &c("open"), None, |b| {
        b.open(&draft, "ana", 3).map(|i| i.id)
    });
    assert!(opened.is_err());
    // Neither happened: not in memory, not in sled, no id used.
    incidents.read(|b| {
        assert_eq!(b.get(1).map(|i| i.state), Some(State::Triage));
        assert!(b.get(2).is_none());
    });
    drop(incidents);
    let again = Incidents::open(&store, Arc::new(CollectorMetrics::new())).unwrap();
    again.read(|b| {
        assert_eq!(
            b.get(1).map(|i| (i.state, i.timeline.len())),
            Some((State::Triage, 1))
        );
        assert!(b.get(2).is_none());
    });
    log.refuse.store(false, Ordering::Relaxed);
    let next = again
        .change(&events, &c("open"), None, |b| {
            b.open(&draft, "ana", 4).map(|i| i.id)
        })
        .unwrap();
    assert_eq!(next.id, 2);
    // Only what happened was audited.
    let kept = log.kept.lock().unwrap();
    let subjects: Vec<&str> = kept
        .iter()
        .filter_map(|e| match e {
            Event::Action(a) => Some(a.subject.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(subjects, ["open", "open"]);
}
