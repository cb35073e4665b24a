//! Work for the whole fleet that must not take the core from the reports.
//!
//! A checkpoint or a scrape of ten thousand worlds costs the better part
//! of a second of CPU. Run at the reports' priority on a busy core, it
//! delays every report behind it for as long; on a thread of its own at a
//! lower priority it takes what the reports leave, and finishes a little
//! later instead.

/// Nice value of a background thread that still takes the state lock now
/// and then (a scrape reads the state in slices). Not lower: starved while
/// holding the lock, it would keep every report waiting behind it.
pub const READS_STATE: i32 = 10;
/// Nice value of a background thread that holds nothing the reports wait
/// for (a checkpoint being written): it takes only what they leave. At 10,
/// writing a checkpoint of seven thousand worlds still slowed the reports
/// of the seconds after its cut.
pub const HOLDS_NOTHING: i32 = 19;

/// Lowers the calling thread's priority to `nice` (Linux nice values are
/// per thread). A thread that does this should end with its work: a pooled
/// thread would keep the lower priority.
pub fn lower_priority(nice: i32) {
    if let Err(e) = rustix::process::setpriority_process(None, nice) {
        tracing::debug!(error = %e, "background thread keeps its priority");
    }
}

/// Runs `f` on a new thread named `name`, and waits for it without
/// blocking the runtime. `f` lowers the priority ([`lower_priority`]) of
/// the thread doing work that can wait: to [`READS_STATE`] while it still
/// takes the state lock, to [`HOLDS_NOTHING`] once it no longer does.
pub async fn run<T: Send + 'static>(
    name: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, crate::CollectorError> {
    let task = |e: &dyn std::fmt::Display| crate::CollectorError::Task(name, e.to_string());
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || drop(tx.send(f())))
        .map_err(|e| task(&e))?;
    rx.await.map_err(|e| task(&e))
}
