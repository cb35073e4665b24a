//! The incident book in sled, one record per incident in `incidents` (a
//! change writes that incident only), the id counter under `next`; every
//! change published as an audited action before it counts.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;

use super::book::{Book, IncidentError};
use super::model::Incident;
use crate::CollectorError;
use crate::auth::Caller;
use crate::events::{Action, Event, Events};
use crate::store::Store;
use crate::telemetry::CollectorMetrics;

const NEXT: &[u8] = b"next";

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Refused(#[from] IncidentError),
    #[error(transparent)]
    Collector(#[from] CollectorError),
}

pub struct Incidents {
    book: Mutex<Book>,
    tree: sled::Tree,
    metrics: Arc<CollectorMetrics>,
}

/// One operator's change: who, what (the audit log's subject), and why.
pub struct Change<'a> {
    pub by: &'a Caller,
    pub what: &'static str,
    pub reason: &'a str,
}

impl Incidents {
    pub fn open(
        store: &Store,
        metrics: Arc<CollectorMetrics>,
    ) -> Result<Incidents, CollectorError> {
        let tree = store.tree("incidents")?;
        let mut book = Book::default();
        for item in tree.iter() {
            let (k, v) = item?;
            if k.as_ref() == NEXT {
                book.next = serde_json::from_slice(&v)?;
            } else if let Ok(key) = <[u8; 8]>::try_from(k.as_ref()) {
                match serde_json::from_slice::<Incident>(&v) {
                    Ok(i) => {
                        book.incidents.insert(u64::from_be_bytes(key), i);
                    }
                    Err(e) => tracing::warn!(error = %e, "skipping an unreadable stored incident"),
                }
            }
        }
        // A counter behind its incidents (a crash between two writes) must
        // not hand out a used id.
        book.next = book
            .next
            .max(book.incidents.keys().last().copied().unwrap_or(0));
        metrics.incidents(&book.counts());
        Ok(Incidents {
            book: Mutex::new(book),
            tree,
            metrics,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn read<T>(&self, f: impl FnOnce(&Book) -> T) -> T {
        f(&self.lock())
    }

    /// Runs `f` on the book (it returns the incident it changed), audits
    /// the change and stores it. Refused by the book: nothing changed.
    /// Refused by the audit log: undone, not stored.
    pub fn change(
        &self,
        events: &Events,
        c: &Change<'_>,
        existing: Option<u64>,
        f: impl FnOnce(&mut Book) -> Result<u64, IncidentError>,
    ) -> Result<Incident, ChangeError> {
        let mut book = self.lock();
        let before = existing.and_then(|id| book.get(id).cloned());
        let next = book.next;
        let id = match f(&mut book) {
            Ok(id) => id,
            Err(e) => {
                book.take_dirty();
                return Err(e.into());
            }
        };
        let undo = |book: &mut Book| {
            match &before {
                Some(i) => {
                    book.incidents.insert(id, i.clone());
                }
                None => {
                    book.incidents.remove(&id);
                }
            }
            book.next = next;
            book.take_dirty();
        };
        let Some(after) = book.get(id).cloned() else {
            undo(&mut book);
            return Err(IncidentError::Unknown(id).into());
        };
        let worlds: Vec<&str> = after.worlds.iter().map(String::as_str).collect();
        let action = Action {
            actor: c.by.name.clone(),
            role: c.by.role.as_str().to_owned(),
            action: "incident",
            id: format!("INC-{id}"),
            subject: c.what.to_owned(),
            scope: format!("worlds:{}", worlds.join(",")),
            reason: c.reason.to_owned(),
            before: before.as_ref().map_or(
                json!(null),
                |i| json!({"state": i.state, "severity": i.severity.current()}),
            ),
            after: json!(after.timeline.last()),
        };
        if let Err(e) = events.publish(vec![Event::Action(action)]) {
            undo(&mut book);
            return Err(e.into());
        }
        let dirty = book.take_dirty();
        self.observe(&mut book, &dirty);
        if let Err(e) = self.save(&book, &dirty, true) {
            // Audited but not stored: say so loudly; it is kept in memory
            // and written with the next change.
            tracing::error!(error = %e, incident = id, "incident change audited but not stored");
            book.dirty.extend(dirty);
        }
        Ok(after)
    }

    /// A change derived from an event already recorded (see `feed.rs`):
    /// applied and stored, not audited again.
    pub fn derive(&self, f: impl FnOnce(&mut Book)) {
        let mut book = self.lock();
        f(&mut book);
        let dirty = book.take_dirty();
        if dirty.is_empty() {
            return;
        }
        self.observe(&mut book, &dirty);
        // No flush of its own: sled writes within 200 ms, and an outage's
        // page storm must not queue a flush per delivery behind the stream.
        if let Err(e) = self.save(&book, &dirty, false) {
            tracing::error!(error = %e, "incident timeline not stored; kept for the next change");
            book.dirty.extend(dirty);
        }
    }

    /// Records each measurement of player impact (see `assess.rs`), and
    /// returns the severities the paging policy must hear of.
    pub fn assess(
        &self,
        rows: Vec<(u64, super::impact::Impact, Option<u64>)>,
        r: super::assess::Rating<'_>,
    ) -> Vec<super::notify::SevNotice> {
        let mut notices = Vec::new();
        self.derive(|b| {
            for (id, impact, first_bad) in rows {
                b.assess(id, impact, first_bad, r);
            }
            notices = b.notices();
        });
        notices
    }

    /// Overdue action items to tell (or take back) at `now`; updates their
    /// gauges.
    pub fn overdue(&self, now: u64) -> Vec<super::actions::ActionNotice> {
        let mut notices = Vec::new();
        self.derive(|b| notices = b.action_notices(now));
        let (open, overdue) = self.read(|b| b.action_counts(now));
        self.metrics.action_items(open, overdue);
        notices
    }

    /// Counts on `/metrics` each response phase the changed incidents
    /// reached, once per incident.
    fn observe(&self, book: &mut Book, ids: &std::collections::BTreeSet<u64>) {
        for id in ids {
            let Some(inc) = book.incidents.get_mut(id) else {
                continue;
            };
            for (phase, secs) in super::response::times(inc).seconds() {
                if let Some(secs) = secs
                    && inc.marks.observed.insert(phase.to_owned())
                {
                    self.metrics.incident_response(phase, secs);
                }
            }
        }
    }

    fn save(
        &self,
        book: &Book,
        ids: &std::collections::BTreeSet<u64>,
        flush: bool,
    ) -> Result<(), CollectorError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            if let Some(i) = book.get(*id) {
                batch.insert(&id.to_be_bytes(), serde_json::to_vec(i)?);
            }
        }
        batch.insert(NEXT, serde_json::to_vec(&book.next)?);
        self.metrics.incidents(&book.counts());
        self.tree.apply_batch(batch)?;
        if flush {
            self.tree.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
