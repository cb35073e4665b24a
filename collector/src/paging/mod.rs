//! Paging: from a firing alert to the person who must act on it, and on
//! to the next one until someone acknowledges.
//!
//! The pure part is the page book ([`book::Book`]): plain data changed by
//! one function of an input and `now`, table-tested under a controlled
//! clock. Around it, [`Pager`] keeps the book in sled (`pages`,
//! `silences`), publishes every decision on the event stream (the audit
//! log records it, `/metrics` counts it), and hands deliveries to the
//! channels; [`task::run`] sleeps until the next deadline and feeds it
//! alerts and delivery reports.
//!
//! - `page.rs`: a page and its deliveries, as the book keeps it.
//! - `route.rs`: team and severity of an alert; silences, maintenance,
//!   inhibition. `alerts.rs`: grouping, flap window. `raise.rs`: a more
//!   urgent alert joining raises the page's severity. `escalate.rs`:
//!   steps, deadlines, repeats, working hours, fallback, ack, resolve.
//! - `notice.rs`: handoffs and moved shifts, told to the people on call;
//!   `inflight.rs`: their channel, and the next one when it fails.
//! - `dispatch.rs`, `roster.rs`: the channels and the on-call schedule,
//!   as the pager sees them; `clock.rs`: its clock (moved by hand in
//!   tests).
//! - `http.rs`: pages, ack/resolve, silences; `alertmanager.rs`: the
//!   Alertmanager webhook receiver.

pub mod alertmanager;
mod alerts;
pub mod book;
pub mod clock;
pub mod dispatch;
mod escalate;
pub mod event;
pub mod http;
mod inflight;
pub mod notice;
mod page;
mod raise;
pub mod roster;
pub mod route;
pub mod silence;
mod store;
pub mod task;

#[cfg(test)]
mod alerts_tests;
#[cfg(test)]
mod book_tests;
#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod notice_tests;
#[cfg(test)]
mod raise_tests;
#[cfg(test)]
mod store_tests;

use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use liveops_config::paging::Paging;
use liveops_protocol::{DeliveryReport, Notification};
use tokio::sync::{Notify, mpsc};

use crate::CollectorError;
use crate::events::{Event, Events};
use crate::store::Store;
use crate::telemetry::CollectorMetrics;
use book::{Book, Ctx, Effects, Input, PageError};
use clock::Clock;
use dispatch::Dispatch;
use roster::Roster;

pub use event::{PageEvent, PageEventKind};

/// What a paging input can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PagingError {
    #[error(transparent)]
    Page(#[from] PageError),
    /// Storing or auditing it failed: an operator's change did not happen.
    #[error(transparent)]
    Collector(#[from] CollectorError),
}

pub struct Pager {
    /// Swapped whole when `paging.toml` is reloaded.
    policy: ArcSwap<Paging>,
    clock: Arc<dyn Clock>,
    roster: Arc<dyn Roster>,
    dispatch: Arc<dyn Dispatch>,
    public_url: String,
    book: Mutex<Book>,
    trees: store::Trees,
    metrics: Arc<CollectorMetrics>,
    alerts: mpsc::UnboundedSender<Notification>,
    /// Rung when the book changed outside the task (an ack, a silence):
    /// the task works out its next wake-up again.
    pub(crate) changed: Notify,
}

/// The task's ends of the pager's queues.
pub struct Inbox {
    pub alerts: mpsc::UnboundedReceiver<Notification>,
    pub reports: mpsc::Receiver<DeliveryReport>,
}

impl Pager {
    /// Opens the book stored in `store`. `dispatch` delivers; its
    /// reports come back through `reports`.
    pub fn open(
        (policy, clock): (Paging, Arc<dyn Clock>),
        roster: Arc<dyn Roster>,
        dispatch: Arc<dyn Dispatch>,
        reports: mpsc::Receiver<DeliveryReport>,
        public_url: String,
        (store, metrics): (&Store, Arc<CollectorMetrics>),
    ) -> Result<(Pager, Inbox), CollectorError> {
        let trees = store::Trees::open(store)?;
        let mut book = trees.load()?;
        book.announce_handoffs_from(clock.now_ms());
        metrics.pages_open(book.open_pages());
        let (alerts, alerts_rx) = mpsc::unbounded_channel();
        let pager = Pager {
            policy: ArcSwap::from_pointee(policy),
            clock,
            roster,
            dispatch,
            public_url,
            book: Mutex::new(book),
            trees,
            metrics,
            alerts,
            changed: Notify::new(),
        };
        let inbox = Inbox {
            alerts: alerts_rx,
            reports,
        };
        Ok((pager, inbox))
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an alert for the pager's task: evaluation never waits on
    /// paging.
    pub fn offer(&self, n: Notification) {
        let _ = self.alerts.send(n);
    }

    /// A look at the book (pages, silences) under its lock.
    pub fn read<T>(&self, f: impl FnOnce(&Book) -> T) -> T {
        f(&self.lock())
    }

    pub fn next_due(&self, now: u64) -> Option<u64> {
        let policy = self.policy.load();
        self.lock().next_due(&policy, &*self.roster, now)
    }

    /// Now, on the pager's clock.
    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Makes the task look at the clock again (after a [`ManualClock`]
    /// moved, or a new schedule changed the next handoff).
    ///
    /// [`ManualClock`]: clock::ManualClock
    pub fn wake(&self) {
        self.changed.notify_one();
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Paging> {
        self.policy.load_full()
    }

    /// Pages from now on by `policy`; open pages keep their place (step,
    /// deadline) and follow the new steps from their next move.
    pub fn set_policy(&self, policy: Paging) {
        self.policy.store(Arc::new(policy));
        self.wake();
    }

    /// Applies one input, stores the book, publishes every decision and
    /// hands the deliveries to their channels. An operator's input (ack,
    /// resolve, a silence) that the audit log refuses is undone; the
    /// pager's own inputs go through [`Pager::handle_own`]. Blocking (the
    /// audit log fsyncs).
    pub fn handle(&self, events: &Events, input: Input, now: u64) -> Result<Effects, PagingError> {
        let operator = matches!(
            input,
            Input::Ack { .. }
                | Input::Resolve { .. }
                | Input::Silence { .. }
                | Input::Expire { .. }
        );
        if !operator {
            return Ok(self.handle_own(events, vec![input], now));
        }
        let policy = self.policy.load_full();
        let cx = self.ctx(&policy);
        let mut book = self.lock();
        let mut draft = book.clone();
        let fx = draft.apply(&cx, input, now)?;
        events.publish(fx.events.iter().cloned().map(Event::Page).collect())?;
        *book = draft;
        self.count(&fx.events, &book);
        let refused = self.deliver(&fx, now);
        self.save(&mut book);
        drop(book);
        let refused = refused.into_iter().map(Input::Report).collect();
        self.handle_own(events, refused, now);
        self.changed.notify_one();
        Ok(fx)
    }

    /// The pager's own inputs (alerts, delivery reports, ticks, moved
    /// shifts), applied together under one lock, with one audit write and
    /// one save for all: a thousand delivery reports arriving at once cost
    /// one fsync, not a thousand, so a deadline behind them is not late.
    /// These go ahead even when the audit log refuses them (people must
    /// still be paged while it is broken); the failure is logged.
    pub fn handle_own(&self, events: &Events, mut inputs: Vec<Input>, now: u64) -> Effects {
        let policy = self.policy.load_full();
        let cx = self.ctx(&policy);
        let mut all = Effects::default();
        // A channel that would not even queue a delivery fails like one
        // that tried: the next channel of the step takes it. Each round
        // moves every refused delivery one channel on, so this ends.
        while !inputs.is_empty() {
            let mut book = self.lock();
            let mut fx = Effects::default();
            for input in inputs.drain(..) {
                match book.apply(&cx, input, now) {
                    Ok(one) => fx.absorb(one),
                    Err(e) => tracing::error!(error = %e, "paging input refused"),
                }
            }
            let decided: Vec<Event> = fx.events.iter().cloned().map(Event::Page).collect();
            if let Err(e) = events.publish(decided.clone()) {
                tracing::error!(error = %e, "paging decisions not audited; paging goes on");
                events.tell(decided);
            }
            self.count(&fx.events, &book);
            inputs = self
                .deliver(&fx, now)
                .into_iter()
                .map(Input::Report)
                .collect();
            self.save(&mut book);
            drop(book);
            all.absorb(fx);
        }
        all
    }

    fn ctx<'a>(&'a self, policy: &'a Paging) -> Ctx<'a> {
        Ctx {
            policy,
            roster: &*self.roster,
            channels: &*self.dispatch,
            public_url: &self.public_url,
        }
    }

    fn deliver(&self, fx: &Effects, now: u64) -> Vec<DeliveryReport> {
        let mut refused = Vec::new();
        for (channel, d) in &fx.deliveries {
            if !self.dispatch.deliver(channel, d.clone()) {
                tracing::error!(channel = %channel, page = %d.page_id, "channel refused a delivery (unknown or queue full)");
                refused.push(DeliveryReport {
                    page_id: d.page_id.clone(),
                    channel: channel.clone(),
                    action: d.action,
                    attempt: d.attempt,
                    error: Some(format!("channel `{channel}` did not take the delivery")),
                    at_ms: now,
                });
            }
        }
        refused
    }

    fn count(&self, events: &[PageEvent], book: &Book) {
        for e in events {
            let sev = e.severity.map_or("none", |s| s.as_str());
            self.metrics.page_event(sev, e.kind.as_str());
        }
        self.metrics.pages_open(book.open_pages());
    }

    fn save(&self, book: &mut Book) {
        if let Err(e) = self.trees.save(book) {
            tracing::error!(error = %e, "cannot store the page book; it is kept in memory");
        }
    }
}

/// The pager for `policy`, on the collector's notifiers, paging the
/// people of `schedule` (the collector's cell: reloads are seen at once).
pub fn start(
    (policy, clock): (Paging, Arc<dyn Clock>),
    schedule: Arc<ArcSwap<liveops_oncall::Schedule>>,
    notifiers: Arc<crate::notify::Notifiers>,
    reports: mpsc::Receiver<DeliveryReport>,
    public_url: String,
    env: (&Store, Arc<CollectorMetrics>),
) -> Result<(Pager, Inbox), CollectorError> {
    let dispatch = Arc::new(dispatch::NotifierDispatch { notifiers });
    let roster = Arc::new(roster::ScheduleRoster(schedule));
    Pager::open((policy, clock), roster, dispatch, reports, public_url, env)
}
