//! The flag file's hot reload: `liveops-watch` notices changes and calls
//! back here, on a blocking thread, to read and apply the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Flags;

/// Watches until `stop`, reloading `flags` on every relevant change; a
/// no-op without a flag file.
pub async fn run(flags: Arc<Flags>, poll_every: Duration, stop: watch::Receiver<bool>) {
    let Some(file) = flags.file().cloned() else {
        return;
    };
    liveops_watch::run(Arc::new(FlagFile { flags, file }), poll_every, stop).await;
}

struct FlagFile {
    flags: Arc<Flags>,
    file: PathBuf,
}

impl liveops_watch::Reload for FlagFile {
    fn file(&self) -> &Path {
        &self.file
    }

    fn reload(&self) {
        self.flags.reload_from_disk();
    }

    fn refuse(&self, why: String) {
        self.flags.refuse(why);
    }
}
