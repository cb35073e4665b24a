//! The pager's one task: takes alerts and delivery reports as they come,
//! and otherwise sleeps until the book's next deadline or handoff, so an
//! escalation fires within milliseconds of it. Time is the pager's clock
//! (`clock.rs`); [`Pager::wake`](super::Pager::wake) makes it look again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Inbox;
use super::book::Input;
use crate::CollectorError;
use crate::state::Shared;

/// At most this many inputs are applied together: a bound on how long
/// the book's lock is held at once.
const BATCH: usize = 1024;

impl Inbox {
    /// `first` and whatever else is already queued (up to [`BATCH`]).
    fn batch(&mut self, first: Input) -> Vec<Input> {
        let mut inputs = vec![first];
        while inputs.len() < BATCH {
            match (self.alerts.try_recv(), self.reports.try_recv()) {
                (Err(_), Err(_)) => break,
                (a, r) => {
                    inputs.extend(a.ok().map(Input::Alert));
                    inputs.extend(r.ok().map(Input::Report));
                }
            }
        }
        inputs
    }
}

/// Timers run on the monotonic clock, deadlines on the wall clock:
/// looking again at least this often bounds what a clock step costs.
const LOOK_AGAIN: Duration = Duration::from_secs(30);

pub async fn run(
    shared: Arc<Shared>,
    mut inbox: Inbox,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CollectorError> {
    let Some(pager) = shared.pager().cloned() else {
        return Ok(());
    };
    loop {
        let now = pager.now();
        let wait = pager
            .next_due(now)
            .map_or(LOOK_AGAIN, |t| Duration::from_millis(t.saturating_sub(now)))
            .min(LOOK_AGAIN);
        let first = tokio::select! {
            Some(n) = inbox.alerts.recv() => Input::Alert(n),
            Some(r) = inbox.reports.recv() => Input::Report(r),
            _ = tokio::time::sleep(wait) => Input::Tick,
            _ = pager.changed.notified() => continue,
            _ = stop.changed() => break,
        };
        let mut inputs = inbox.batch(first);
        // A deadline that passed while the queue filled is met in the
        // same pass.
        let now = pager.now();
        if !matches!(inputs[0], Input::Tick) && pager.next_due(now).is_some_and(|t| t <= now) {
            inputs.push(Input::Tick);
        }
        let (s, p) = (shared.clone(), pager.clone());
        tokio::task::spawn_blocking(move || p.handle_own(&s.events, inputs, p.now()))
            .await
            .map_err(|e| CollectorError::Task("pager", e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use liveops_protocol::{AlertStatus, DeliveryReport, PageAction};
    use tokio::sync::mpsc;

    use super::{BATCH, Inbox, Input};

    fn report(n: usize) -> DeliveryReport {
        DeliveryReport {
            page_id: format!("p-{n}"),
            channel: "pagerduty".into(),
            action: PageAction::Trigger,
            attempt: 1,
            error: None,
            at_ms: 0,
        }
    }

    #[test]
    fn what_is_queued_is_taken_in_one_pass_up_to_the_bound() {
        let (alerts, alerts_rx) = mpsc::unbounded_channel();
        let (reports, reports_rx) = mpsc::channel(4 * BATCH);
        let mut inbox = Inbox {
            alerts: alerts_rx,
            reports: reports_rx,
        };
        let n = crate::paging::book_tests::alert("WorldDown", "w1", AlertStatus::Firing);
        alerts.send(n).unwrap();
        for i in 0..3 {
            reports.try_send(report(i)).unwrap();
        }
        let batch = inbox.batch(Input::Tick);
        assert_eq!(batch.len(), 5, "the first input, the alert and 3 reports");
        assert!(matches!(batch[0], Input::Tick));

        for i in 0..2 * BATCH {
            reports.try_send(report(i)).unwrap();
        }
        assert_eq!(inbox.batch(Input::Tick).len(), BATCH);
        assert_eq!(inbox.batch(Input::Tick).len(), BATCH);
        assert_eq!(
            inbox.batch(Input::Tick).len(),
            3,
            "the first and the 2 left"
        );
    }
}
