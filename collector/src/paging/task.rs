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
        let input = tokio::select! {
            Some(n) = inbox.alerts.recv() => Input::Alert(n),
            Some(r) = inbox.reports.recv() => Input::Report(r),
            _ = tokio::time::sleep(wait) => Input::Tick,
            _ = pager.changed.notified() => continue,
            _ = stop.changed() => break,
        };
        let (s, p) = (shared.clone(), pager.clone());
        let handled = tokio::task::spawn_blocking(move || p.handle(&s.events, input, p.now()))
            .await
            .map_err(|e| CollectorError::Task("pager", e.to_string()))?;
        if let Err(e) = handled {
            tracing::error!(error = %e, "paging failed");
        }
    }
    Ok(())
}
