//! Noticing that the flag file changed.
//!
//! The file's parent directory is watched, not the file: an editor saves by
//! writing a temporary file and renaming it over the old one, and a
//! Kubernetes ConfigMap swaps a `..data` symlink, so the inode one would
//! watch is replaced and a watch on it would go silent after the first
//! save. Events for the file's name or for `..`-prefixed entries (the
//! ConfigMap machinery) trigger a re-read after a short quiet period, so a
//! burst of writes is read once. A slow poll re-reads anyway, for
//! filesystems whose events do not arrive; unchanged bytes are skipped by
//! hash, so neither path reloads twice.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};

use super::Flags;

/// Quiet time after the last event before the file is read.
const DEBOUNCE: Duration = Duration::from_millis(30);
/// A directory that never goes quiet is still read this often.
const MAX_DEBOUNCE: Duration = Duration::from_millis(250);

/// Watches until `stop`, reloading `flags` on every relevant change.
pub async fn run(flags: Arc<Flags>, poll_every: Duration, mut stop: watch::Receiver<bool>) {
    let Some(file) = flags.file().cloned() else {
        return;
    };
    // Absolute, so that the parent of `flags.toml` is a real directory;
    // not canonical, so that a symlinked file keeps its own directory.
    let file = std::path::absolute(&file).unwrap_or(file);
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let mut watcher = start_watcher(&file, &tx);
    let mut poll = tokio::time::interval(poll_every);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(()) = rx.recv() => debounce(&mut rx).await,
            _ = poll.tick() => {
                if watcher.is_none() {
                    // The directory may exist now (a volume mounted late).
                    watcher = start_watcher(&file, &tx);
                }
            }
        }
        let f = flags.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || f.reload_from_disk()).await {
            tracing::error!(error = %e, "flag reload panicked");
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

fn start_watcher(file: &Path, tx: &mpsc::Sender<()>) -> Option<RecommendedWatcher> {
    let dir = parent(file);
    let name = file.file_name().map(OsString::from).unwrap_or_default();
    let tx = tx.clone();
    let handler = move |res: notify::Result<notify::Event>| {
        let wanted = match res {
            Ok(ev) => relevant(&ev, &name),
            // Events may have been lost (queue overflow): look again.
            Err(_) => true,
        };
        if wanted {
            // A full channel already holds a wake-up: nothing is lost.
            let _ = tx.try_send(());
        }
    };
    let result = notify::recommended_watcher(handler)
        .and_then(|mut w| w.watch(&dir, RecursiveMode::NonRecursive).map(|()| w));
    match result {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the flag file's directory; polling only");
            None
        }
    }
}

fn parent(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn relevant(ev: &notify::Event, name: &OsString) -> bool {
    // Opening and reading (our own reads included) change nothing; a
    // writer closing the file is the best moment to look.
    if matches!(ev.kind, EventKind::Access(a) if a != AccessKind::Close(AccessMode::Write)) {
        return false;
    }
    ev.need_rescan()
        || ev.paths.iter().any(|p| {
            p.file_name()
                .is_some_and(|n| n == name.as_os_str() || n.as_encoded_bytes().starts_with(b".."))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    fn ev(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn only_the_file_and_configmap_entries_matter() {
        let name = OsString::from("flags.toml");
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        assert!(relevant(&ev(rename, "/etc/l/flags.toml"), &name));
        assert!(relevant(&ev(rename, "/etc/l/..data"), &name));
        assert!(relevant(
            &ev(EventKind::Create(CreateKind::File), "/etc/l/..2026_01_01"),
            &name
        ));
        assert!(!relevant(&ev(rename, "/etc/l/other.toml"), &name));
        assert!(!relevant(
            &ev(
                EventKind::Access(AccessKind::Open(AccessMode::Any)),
                "/etc/l/flags.toml"
            ),
            &name
        ));
        assert!(relevant(
            &ev(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                "/etc/l/flags.toml"
            ),
            &name
        ));
        assert_eq!(parent(Path::new("flags.toml")), PathBuf::from("."));
    }
}
