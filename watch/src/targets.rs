//! Which directories are watched for the file, and which events in them
//! call for a read.
//!
//! The directory of the configured path is always watched: saving there
//! (a rename over the file, a ConfigMap `..data` swap, repointing a link)
//! replaces the entry the agent was given. When that entry is a symlink to
//! a file in another directory, an in-place edit of the target touches
//! nothing in the link's directory, so the resolved target's directory is
//! watched too. It is resolved again after every read, so that a link
//! repointed into yet another directory takes the watch along.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// The paths whose events matter, spelled as the watcher reports them: the
/// directory it was asked to watch joined with the entry's name.
#[derive(Debug, PartialEq, Eq)]
struct Interest {
    link_dir: PathBuf,
    link_name: OsString,
    /// The resolved target, under the directory it is watched through.
    target: Option<PathBuf>,
}

impl Interest {
    fn covers(&self, p: &Path) -> bool {
        let in_link_dir = p.parent() == Some(self.link_dir.as_path());
        let name = p.file_name().unwrap_or_default();
        // `..`-prefixed entries are the ConfigMap machinery (`..data`, `..vN`).
        (in_link_dir && (name == self.link_name || name.as_encoded_bytes().starts_with(b"..")))
            || self.target.as_deref() == Some(p)
    }
}

pub(crate) struct Watches {
    interest: Arc<Mutex<Interest>>,
    tx: mpsc::Sender<()>,
    watcher: Option<RecommendedWatcher>,
    link_dir_watched: bool,
    /// The target's directory while it is watched on its own: never the
    /// link's directory, which inotify would watch once under one of the
    /// two names, so events would stop matching the other.
    target_dir: Option<PathBuf>,
}

impl Watches {
    /// Watches for `file`, an absolute path (see `run`).
    pub(crate) fn new(file: &Path, tx: mpsc::Sender<()>) -> Watches {
        let interest = Interest {
            link_dir: parent(file),
            link_name: file.file_name().map(OsString::from).unwrap_or_default(),
            target: None,
        };
        let mut w = Watches {
            interest: Arc::new(Mutex::new(interest)),
            tx,
            watcher: None,
            link_dir_watched: false,
            target_dir: None,
        };
        w.follow();
        w
    }

    /// Resolves the file again and moves the watches to match. Returns
    /// whether anything changed; the caller then reads once more, since a
    /// write between its last read and the new watch raised no event.
    pub(crate) fn follow(&mut self) -> bool {
        if self.watcher.is_none() {
            self.watcher = self.start();
        }
        let Some(watcher) = self.watcher.as_mut() else {
            return false;
        };
        let (link_dir, link) = {
            let i = lock(&self.interest);
            (i.link_dir.clone(), i.link_dir.join(&i.link_name))
        };
        let mut changed = false;
        if !self.link_dir_watched {
            // Retried on every read: the directory may exist now (a volume
            // mounted late).
            match watcher.watch(&link_dir, RecursiveMode::NonRecursive) {
                Ok(()) => (self.link_dir_watched, changed) = (true, true),
                Err(e) => cannot_watch(&link_dir, &e),
            }
        }
        // Follows the whole chain of links, those on the way included; only
        // the last directory is watched, so repointing a link in the middle
        // of a chain is left to the poll. An unresolvable link (its target
        // being replaced, or not there yet) keeps the watches it has: the
        // file most likely comes back there.
        let Ok(target) = std::fs::canonicalize(&link) else {
            return changed;
        };
        let dir = parent(&target);
        let (want_dir, mut seen_as) = if std::fs::canonicalize(&link_dir).is_ok_and(|d| d == dir) {
            (None, target.file_name().map(|n| link_dir.join(n)))
        } else {
            (Some(dir), Some(target))
        };
        if want_dir != self.target_dir {
            if let Some(old) = self.target_dir.take() {
                // Fails if the directory is gone already (a ConfigMap's old
                // `..vN`), which removed its watch too.
                let _ = watcher.unwatch(&old);
                changed = true;
            }
            if let Some(d) = want_dir {
                // On failure, retried after the next read; the poll covers it.
                match watcher.watch(&d, RecursiveMode::NonRecursive) {
                    Ok(()) => (self.target_dir, changed) = (Some(d), true),
                    Err(e) => {
                        cannot_watch(&d, &e);
                        seen_as = None;
                    }
                }
            }
        }
        let mut i = lock(&self.interest);
        if i.target != seen_as {
            i.target = seen_as;
            changed = true;
        }
        changed
    }

    fn start(&self) -> Option<RecommendedWatcher> {
        let interest = self.interest.clone();
        let tx = self.tx.clone();
        let handler = move |res: notify::Result<notify::Event>| {
            let wanted = match res {
                Ok(ev) => relevant(&ev, &lock(&interest)),
                // Events may have been lost (queue overflow): look again.
                Err(_) => true,
            };
            if wanted {
                // A full channel already holds a wake-up: nothing is lost.
                let _ = tx.try_send(());
            }
        };
        notify::recommended_watcher(handler)
            .inspect_err(|e| tracing::warn!(error = %e, "cannot watch a config file; polling only"))
            .ok()
    }
}

fn cannot_watch(dir: &Path, e: &notify::Error) {
    tracing::warn!(dir = %dir.display(), error = %e, "cannot watch a directory of a config file; polling it");
}

fn lock(interest: &Mutex<Interest>) -> MutexGuard<'_, Interest> {
    interest.lock().unwrap_or_else(|p| p.into_inner())
}

fn parent(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn relevant(ev: &notify::Event, interest: &Interest) -> bool {
    // Opening and reading (our own reads included) change nothing; a
    // writer closing the file is the best moment to look.
    if matches!(ev.kind, EventKind::Access(a) if a != AccessKind::Close(AccessMode::Write)) {
        return false;
    }
    ev.need_rescan() || ev.paths.iter().any(|p| interest.covers(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    fn ev(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    fn interest(target: Option<&str>) -> Interest {
        Interest {
            link_dir: PathBuf::from("/etc/l"),
            link_name: OsString::from("flags.toml"),
            target: target.map(PathBuf::from),
        }
    }

    #[test]
    fn only_the_file_its_target_and_configmap_entries_matter() {
        let i = interest(None);
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        assert!(relevant(&ev(rename, "/etc/l/flags.toml"), &i));
        assert!(relevant(&ev(rename, "/etc/l/..data"), &i));
        let create = EventKind::Create(CreateKind::File);
        assert!(relevant(&ev(create, "/etc/l/..2026_01_01"), &i));
        assert!(!relevant(&ev(rename, "/etc/l/other.toml"), &i));
        assert!(!relevant(&ev(rename, "/srv/c/flags.toml"), &i));
        let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
        assert!(!relevant(&ev(open, "/etc/l/flags.toml"), &i));
        let closed = EventKind::Access(AccessKind::Close(AccessMode::Write));
        assert!(relevant(&ev(closed, "/etc/l/flags.toml"), &i));
        assert_eq!(parent(Path::new("flags.toml")), PathBuf::from("."));

        let i = interest(Some("/srv/c/v1.toml"));
        assert!(relevant(&ev(closed, "/srv/c/v1.toml"), &i));
        assert!(!relevant(&ev(closed, "/srv/c/v2.toml"), &i));
        assert!(!relevant(&ev(closed, "/srv/c/..data"), &i));
        assert!(!relevant(&ev(closed, "/etc/l/v1.toml"), &i));
    }

    #[test]
    fn the_watches_follow_a_repointed_link() {
        let root = tempfile::tempdir().unwrap();
        let [link_dir, a, b] = ["link", "a", "b"].map(|d| {
            let d = root.path().join(d);
            std::fs::create_dir(&d).unwrap();
            std::fs::canonicalize(d).unwrap()
        });
        for d in [&link_dir, &a, &b] {
            std::fs::write(d.join("v.toml"), "").unwrap();
        }
        let link = link_dir.join("flags.toml");
        std::os::unix::fs::symlink(a.join("v.toml"), &link).unwrap();
        let (tx, _rx) = mpsc::channel(1);
        let mut w = Watches::new(&link, tx);
        assert_eq!(w.target_dir.as_ref(), Some(&a));
        assert!(!w.follow(), "nothing moved");

        let repoint = |to: &Path| {
            let tmp = link_dir.join(".flags.toml.tmp");
            std::os::unix::fs::symlink(to, &tmp).unwrap();
            std::fs::rename(&tmp, &link).unwrap();
        };
        repoint(&b.join("v.toml"));
        assert!(w.follow());
        assert_eq!(w.target_dir.as_ref(), Some(&b));
        assert_eq!(lock(&w.interest).target, Some(b.join("v.toml")));

        // A target in the link's own directory is seen through its watch.
        repoint(Path::new("v.toml"));
        assert!(w.follow());
        assert_eq!(w.target_dir, None);
        assert_eq!(lock(&w.interest).target, Some(link_dir.join("v.toml")));

        // A dangling link keeps what is watched.
        repoint(&root.path().join("nowhere.toml"));
        assert!(!w.follow());
        assert_eq!(lock(&w.interest).target, Some(link_dir.join("v.toml")));
    }
}
