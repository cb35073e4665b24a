//! JSON lines to a file or stdout, one notification per line, flushed as it
//! happens so a `tail -f` (or a test) sees a page the moment it fires.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::Job;
use crate::telemetry::CollectorMetrics;

pub enum Target {
    File(PathBuf),
    Stdout,
}

pub async fn run(target: Target, mut rx: mpsc::Receiver<Job>, metrics: Arc<CollectorMetrics>) {
    let name = match &target {
        Target::File(p) => format!("file:{}", p.display()),
        Target::Stdout => "stdout".to_owned(),
    };
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match &target {
        Target::Stdout => Box::new(tokio::io::stdout()),
        Target::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = tokio::fs::create_dir_all(dir).await;
            }
            match tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
            {
                Ok(f) => Box::new(f),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "cannot open the pager log; notifications to it are lost");
                    while let Some(job) = rx.recv().await {
                        metrics.notification_failed(&name);
                        job.finish(Err("cannot open the pager log".into()));
                    }
                    return;
                }
            }
        }
    };
    while let Some(job) = rx.recv().await {
        let mut line = match serde_json::to_vec(&job.n) {
            Ok(l) => l,
            Err(_) => continue,
        };
        line.push(b'\n');
        let written = async {
            out.write_all(&line).await?;
            out.flush().await
        };
        match written.await {
            Ok(()) => {
                metrics.notification_sent(&name);
                job.finish(Ok(()));
            }
            Err(e) => {
                metrics.notification_failed(&name);
                tracing::error!(notifier = %name, error = %e, "cannot write notification");
                job.finish(Err(format!("cannot write: {e}")));
            }
        }
    }
}
