//! Delivering notifications: a JSON-lines file, stdout, or a webhook.
//!
//! Evaluation never waits on delivery: each notifier has its own queue and
//! task, so a slow webhook cannot delay a page written to the file. A
//! webhook is retried with exponential backoff; what still fails is logged
//! and counted. With a paging policy, the pager (`crate::paging`) sits in
//! front of these and picks one notifier per delivery (`send_to`), told
//! how it went.

mod file;
mod webhook;

use std::sync::Arc;

use liveops_config::NotifierConfig;
use liveops_protocol::Notification;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::telemetry::CollectorMetrics;

/// Notifications waiting per notifier before new ones are dropped (and
/// counted): a stuck webhook must not grow memory without bound.
const QUEUE: usize = 10_000;

pub struct Notifiers {
    /// (metrics name, channel name, kind, queue).
    queues: Vec<(String, String, &'static str, mpsc::Sender<Job>)>,
    metrics: Arc<CollectorMetrics>,
}

/// Told the outcome of one delivery, once its notifier is done with it.
pub type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

/// One notification on a notifier's queue.
pub struct Job {
    pub n: Notification,
    done: Option<Done>,
}

impl Job {
    fn finish(self, outcome: Result<(), String>) {
        if let Some(done) = self.done {
            done(outcome);
        }
    }
}

impl Notifiers {
    /// Starts one task per notifier in `tasks`; they end when the
    /// `Notifiers` is dropped, after delivering what was queued.
    pub fn start(
        configs: &[NotifierConfig],
        http: reqwest::Client,
        metrics: Arc<CollectorMetrics>,
        tasks: &mut JoinSet<()>,
    ) -> Self {
        let mut queues = Vec::new();
        for cfg in configs {
            let (tx, rx) = mpsc::channel(QUEUE);
            let m = metrics.clone();
            let name = match cfg {
                NotifierConfig::File { path } => {
                    tasks.spawn(file::run(file::Target::File(path.clone()), rx, m));
                    format!("file:{}", path.display())
                }
                NotifierConfig::Stdout => {
                    tasks.spawn(file::run(file::Target::Stdout, rx, m));
                    "stdout".to_owned()
                }
                NotifierConfig::Webhook {
                    name,
                    url,
                    max_attempts,
                    timeout,
                } => {
                    let hook = webhook::Webhook {
                        name: name.clone(),
                        http: http.clone(),
                        url: url.clone(),
                        max_attempts: *max_attempts,
                        timeout: *timeout,
                    };
                    tasks.spawn(hook.run(rx, m));
                    name.clone()
                }
            };
            queues.push((name, cfg.channel().to_owned(), cfg.kind(), tx));
        }
        Self { queues, metrics }
    }

    /// Queues `n` to the notifier the paging policy calls `channel`;
    /// `done` hears how it went. False when there is no such notifier or
    /// its queue is full.
    pub fn send_to(&self, channel: &str, n: &Notification, done: Done) -> bool {
        let Some((name, _, _, q)) = self.queues.iter().find(|q| q.1 == channel) else {
            return false;
        };
        let job = Job {
            n: n.clone(),
            done: Some(done),
        };
        let queued = q.try_send(job).is_ok();
        if !queued {
            self.metrics.notification_failed(name);
        }
        queued
    }

    /// The kind (`file`, `stdout`, `webhook`) of the notifier called `channel`.
    pub fn kind(&self, channel: &str) -> Option<&'static str> {
        self.queues.iter().find(|q| q.1 == channel).map(|q| q.2)
    }

    pub fn send(&self, n: &Notification) {
        for (name, _, _, q) in &self.queues {
            let job = Job {
                n: n.clone(),
                done: None,
            };
            if q.try_send(job).is_err() {
                self.metrics.notification_failed(name);
                tracing::error!(notifier = %name, alert = ?n.label("alertname"), "notifier queue full; notification dropped");
            }
        }
    }
}
