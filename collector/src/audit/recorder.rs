//! The audit log as the event stream's recorder: every action, every
//! paging decision and every reported flag-file reload is appended
//! (fsync'd) before the event counts as done; alerts themselves are not
//! the audit log's business.

use std::sync::Arc;

use super::{Audit, From};
use crate::CollectorError;
use crate::events::{Event, Recorder};
use crate::store::Store;

pub struct AuditRecorder {
    pub audit: Arc<Audit>,
    pub store: Arc<Store>,
}

impl Recorder for AuditRecorder {
    fn record(&self, events: &mut Vec<Event>) -> Result<(), CollectorError> {
        let actions: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Action(a) => Some(a.clone()),
                Event::Page(p) => Some(super::pages::draft(p)),
                _ => None,
            })
            .collect();
        if !actions.is_empty() {
            self.audit.append(&self.store, actions)?;
        }
        let mut err = None;
        events.retain(|e| match e {
            Event::FlagReloads {
                agent,
                world,
                report_seq,
                reloads,
            } if err.is_none() => {
                let from = From {
                    agent,
                    world,
                    seq: *report_seq,
                };
                match self.audit.record_reloads(&self.store, from, reloads) {
                    Ok(new) => new,
                    Err(e) => {
                        err = Some(e);
                        false
                    }
                }
            }
            _ => true,
        });
        err.map_or(Ok(()), Err)
    }
}
