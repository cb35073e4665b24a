//! Hot reload of a file people edit: noticing that it changed, and reading
//! it without ever blocking on it. The agent's flag file and the
//! collector's on-call schedule and paging policy share it.
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

mod read;
mod targets;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use read::{ReadError, read_regular};
use targets::Watches;

/// What is reloaded: the owner of the file's served state.
pub trait Reload: Send + Sync + 'static {
    /// The file as configured.
    fn file(&self) -> &Path;
    /// Reads the file (with [`read_regular`]) and applies or refuses it.
    /// Blocking: it runs on a blocking thread.
    fn reload(&self);
    /// Refuses the file for a reason found without reading it (a read
    /// that has not returned), so the owner's status says so meanwhile.
    fn refuse(&self, why: String);
}

/// Quiet time after the last event before the file is read.
const DEBOUNCE: Duration = Duration::from_millis(30);
/// A directory that never goes quiet is still read this often.
const MAX_DEBOUNCE: Duration = Duration::from_millis(250);
/// How long the watcher waits for one read before it gets on with watching.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Watches until `stop`, reloading `target` on every relevant change
/// (and every `poll_every` regardless).
pub async fn run(target: Arc<dyn Reload>, poll_every: Duration, mut stop: watch::Receiver<bool>) {
    let file: PathBuf = target.file().to_owned();
    // Absolute, so that the parent of `flags.toml` is a real directory;
    // not canonical, so that a symlinked file keeps its own directory.
    let file = std::path::absolute(&file).unwrap_or(file);
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let mut watches = Watches::new(&file, tx);
    let mut reader = Reader {
        target,
        stuck: None,
        stop: stop.clone(),
    };
    // A write between the owner's first read and these watches raised no
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
    target: Arc<dyn Reload>,
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
                let t = self.target.clone();
                tokio::task::spawn_blocking(move || t.reload())
            }
        };
        tokio::select! {
            done = &mut read => {
                if let Err(e) = done {
                    tracing::error!(file = %self.target.file().display(), error = %e, "reload panicked");
                }
            }
            _ = tokio::time::sleep(READ_TIMEOUT) => {
                tracing::error!(file = %self.target.file().display(), timeout = ?READ_TIMEOUT, "file read still blocked; not reading it again until it returns");
                self.target.refuse(format!("cannot read: the read has not returned after {}s (a hung filesystem?)", READ_TIMEOUT.as_secs()));
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
