//! The on-call schedule, published: who is on call now and the next four
//! weeks as a page (`/oncall`), JSON (`/api/v1/oncall`) and a calendar
//! feed (`/oncall.ics`).
//!
//! The schedule is read and validated once at start (a bad file stops
//! the collector like any config error) and resolved per request by the
//! pure `liveops-oncall` core. Every route is a read, open like
//! `/healthz`: only names and times are published, never contacts.
//!
//! - `http.rs`: the routes.
//! - `page.rs`: the HTML page (no JavaScript).

pub mod http;
mod page;

use liveops_oncall::Schedule;

use crate::state::Shared;

impl Shared {
    /// The on-call schedule in force.
    pub fn oncall(&self) -> &Schedule {
        &self.oncall
    }

    /// The same state, publishing `schedule`.
    pub(crate) fn with_oncall(mut self, schedule: Schedule) -> Self {
        self.oncall = schedule;
        self
    }
}
