//! Noticing that the flag file changed.
//!
//! The file's parent directory is watched, not the file: an editor saves by
//! writing a temporary file and renaming it over the old one, and a
//! Kubernetes ConfigMap swaps a `..data` symlink, so the inode one would
//! watch is replaced and a watch on it would go silent after the first
//! save. A file that is a symlink into another directory also has that
//! directory watched, for in-place edits of the target (see `targets`).
//! Relevant events trigger a re-read after a short quiet period, so a
//! burst of writes is read once. A slow poll re-reads anyway, for
//! filesystems whose events do not arrive; unchanged bytes are skipped by
//! hash, so neither path reloads twice.
//!
//! A read never holds up the watcher or shutdown: it runs on a blocking
//! thread, the watcher waits for it at most `READ_TIMEOUT` (a regular file
//! on a hung network mount can still block) and never once stop is asked
//! for, and while a read is stuck no second one is started.

pub(crate) mod read;
mod targets;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::Flags;
use targets::Watches;

/// Quiet time after the last event before the file is read.
const DEBOUNCE: Duration = Duration::from_millis(30);
/// A directory that never goes quiet is still read this often.
const MAX_DEBOUNCE: Duration = Duration::from_millis(250);
/// How long the watcher waits for one read before it gets on with watching.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Watches until `stop`, reloading `flags` on every relevant change.
pub async fn run(flags: Arc<Flags>, poll_every: Duration, mut stop: watch::Receiver<bool>) {
    let Some(file) = flags.file().cloned() else {
        return;
    };
    // Absolute, so that the parent of `flags.toml` is a real directory;
    // not canonical, so that a symlinked file keeps its own directory.
    let file = std::path::absolute(&file).unwrap_or(file);
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let mut watches = Watches::new(&file, tx);
    let mut reader = Reader {
        flags,
        stuck: None,
        stop: stop.clone(),
    };
    // A write between the agent's first read and these watches raised no
    // event.
    reader.reload().await;
    let mut poll = tokio::time::interval(poll_every);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(()) = rx.recv() => debounce(&mut rx).await,
            _ = poll.tick() => {}
        }
        reader.reload().await;
        // The link may have been repointed since the last read.
        if watches.follow() {
            reader.reload().await;
        }
        if *stop.borrow() {
            break;
        }
    }
}

struct Reader {
    flags: Arc<Flags>,
    /// A read that outlived `READ_TIMEOUT`, still running.
    stuck: Option<JoinHandle<()>>,
    /// A clone, so that waiting here leaves the loop's view of `stop` as is.
    stop: watch::Receiver<bool>,
}

impl Reader {
    async fn reload(&mut self) {
        let mut read = match self.stuck.take() {
            Some(h) if !h.is_finished() => h,
            _ => {
                let f = self.flags.clone();
                tokio::task::spawn_blocking(move || f.reload_from_disk())
            }
        };
        tokio::select! {
            done = &mut read => {
                if let Err(e) = done {
                    tracing::error!(error = %e, "flag reload panicked");
                }
            }
            _ = tokio::time::sleep(READ_TIMEOUT) => {
                tracing::error!(file = ?self.flags.file(), timeout = ?READ_TIMEOUT, "flag file read still blocked; not reading it again until it returns");
                self.flags.refuse(format!("cannot read: the read has not returned after {}s (a hung filesystem?)", READ_TIMEOUT.as_secs()));
                self.stuck = Some(read);
            }
            _ = self.stop.wait_for(|s| *s) => self.stuck = Some(read),
        }
    }
}

async fn debounce(rx: &mut mpsc::Receiver<()>) {
    let started = Instant::now();
    while started.elapsed() < MAX_DEBOUNCE {
        match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
            Ok(Some(())) => continue,
            _ => break,
        }
    }
}
