//! The on-call schedule, published: who is on call now and the next four
//! weeks as a page (`/oncall`), JSON (`/api/v1/oncall`) and a calendar
//! feed (`/oncall.ics`).
//!
//! The schedule is read and validated at start (a bad file stops the
//! collector like any config error), swapped whole when a good new file
//! is saved (`crate::reload`), and resolved per request by the pure
//! `liveops-oncall` core. Every route is a read, open like
//! `/healthz`: only names and times are published, never contacts.
//!
//! - `http.rs`: the routes.
//! - `page.rs`: the HTML page (no JavaScript).

pub mod http;
mod page;

use std::sync::Arc;

use arc_swap::ArcSwap;
use liveops_oncall::Schedule;

use crate::state::Shared;

impl Shared {
    /// The on-call schedule in force now (a reload swaps it whole, so one
    /// request sees one version).
    pub fn oncall(&self) -> Arc<Schedule> {
        self.oncall.load_full()
    }

    /// The same state, publishing `schedule` (the pager's roster reads
    /// the same cell).
    pub(crate) fn with_oncall(mut self, schedule: Arc<ArcSwap<Schedule>>) -> Self {
        self.oncall = schedule;
        self
    }
}
