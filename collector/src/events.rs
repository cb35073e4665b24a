//! The collector's one stream of domain events.
//!
//! Subsystems say what happened here (an operator changed what is in
//! force, an agent reported flag-file reloads, an alert fired or ended)
//! instead of calling each consumer. Two kinds of consumer:
//!
//! - **recorders**, called in order before [`Events::publish`] returns: the
//!   audit log. A change a recorder refuses does not happen (the caller
//!   gets the error and rolls back), which is how "not audited, not done"
//!   holds for every subsystem without each one calling the audit log. A
//!   recorder may drop events it already holds (a replayed report's
//!   reloads), so no consumer sees them twice.
//! - **subscribers** on a broadcast channel, told afterwards: metrics, and
//!   the incident timeline (`crate::incident::feed`). A subscriber that falls behind loses
//!   the oldest events and is told how many (`RecvError::Lagged`); it never
//!   slows a publisher.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use liveops_protocol::Notification;
use liveops_protocol::flags::FlagReload;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::paging::PageEvent;
use crate::{CollectorError, now_ms};

/// Events kept for a subscriber that is behind.
const CAPACITY: usize = 4096;

/// Something that happened, as every consumer sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    /// Someone changed what is in force: an operator's mitigation, override
    /// or revert, the collector's own expiry, an admin's reseal.
    Action(Action),
    /// Flag-file reloads an agent reported with one report.
    FlagReloads {
        agent: String,
        world: String,
        report_seq: u64,
        reloads: Vec<FlagReload>,
    },
    /// An alert fired or resolved, as delivered to pagers (the audit
    /// log's own `AuditChainBroken` among them).
    Alert(Notification),
    /// A paging decision: routed, paged, escalated, acked, silenced, …
    Page(PageEvent),
}

impl Event {
    /// A bounded label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Action(_) => "action",
            Event::FlagReloads { .. } => "flag-reloads",
            Event::Alert(_) => "alert",
            Event::Page(_) => "page",
        }
    }
}

/// A change to what is in force, in the words the audit log keeps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Action {
    pub actor: String,
    pub role: String,
    /// One of [`crate::audit::ACTIONS`].
    pub action: &'static str,
    /// `m-N`, `o-N`, `report-N`, …
    pub id: String,
    pub subject: String,
    pub scope: String,
    pub reason: String,
    pub before: Value,
    pub after: Value,
}

/// An event with its place in the stream.
#[derive(Clone, Debug, Serialize)]
pub struct Stamped {
    /// Increasing from 1 within one collector run.
    pub seq: u64,
    /// When it was published (collector clock, Unix ms).
    pub at_ms: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// A consumer that must hold an event before it counts as done.
pub trait Recorder: Send + Sync {
    /// Records `events`, dropping from the list any it already holds.
    /// Blocking.
    fn record(&self, events: &mut Vec<Event>) -> Result<(), CollectorError>;
}

pub struct Events {
    recorders: Vec<Arc<dyn Recorder>>,
    tx: broadcast::Sender<Arc<Stamped>>,
    seq: AtomicU64,
}

impl Events {
    pub fn new(recorders: Vec<Arc<dyn Recorder>>) -> Events {
        Events {
            recorders,
            tx: broadcast::channel(CAPACITY).0,
            seq: AtomicU64::new(0),
        }
    }

    /// Records `events` with every recorder, then tells the subscribers.
    /// An `Err` means a recorder refused: the events did not happen.
    /// Blocking (the audit log fsyncs).
    pub fn publish(&self, mut events: Vec<Event>) -> Result<(), CollectorError> {
        for r in &self.recorders {
            r.record(&mut events)?;
        }
        self.tell(events);
        Ok(())
    }

    /// Tells the subscribers only: for events no recorder keeps (alerts).
    pub fn tell(&self, events: Vec<Event>) {
        let at_ms = now_ms();
        for event in events {
            let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
            // No subscriber is not an error: nobody was listening.
            let _ = self.tx.send(Arc::new(Stamped { seq, at_ms, event }));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Stamped>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Keep {
        held: Mutex<Vec<Event>>,
        refuse: bool,
    }

    impl Recorder for Keep {
        fn record(&self, events: &mut Vec<Event>) -> Result<(), CollectorError> {
            if self.refuse {
                return Err(CollectorError::AuditBroken("test".into()));
            }
            let mut held = self.held.lock().unwrap();
            events.retain(|e| !held.contains(e));
            held.extend(events.iter().cloned());
            Ok(())
        }
    }

    fn broken(why: &str) -> Event {
        Event::FlagReloads {
            agent: why.into(),
            world: "w1".into(),
            report_seq: 1,
            reloads: vec![],
        }
    }

    #[test]
    fn recorders_come_first_may_drop_what_they_hold_and_can_refuse() {
        let keep = Arc::new(Keep::default());
        let events = Events::new(vec![keep.clone()]);
        let mut rx = events.subscribe();
        events.publish(vec![broken("a"), broken("b")]).unwrap();
        events.publish(vec![broken("b"), broken("c")]).unwrap();
        let seen: Vec<(u64, Event)> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|s| (s.seq, s.event.clone()))
            .collect();
        assert_eq!(
            seen,
            [(1, broken("a")), (2, broken("b")), (3, broken("c"))],
            "the repeated `b` reaches nobody twice"
        );

        let refusing = Events::new(vec![Arc::new(Keep {
            refuse: true,
            ..Keep::default()
        })]);
        let mut rx = refusing.subscribe();
        assert!(refusing.publish(vec![broken("x")]).is_err());
        assert!(rx.try_recv().is_err(), "a refused event is told to no one");
        refusing.tell(vec![broken("y")]);
        assert_eq!(rx.try_recv().unwrap().event, broken("y"));
    }
}
