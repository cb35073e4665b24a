//! Delivering notifications: a JSON-lines file, stdout, or a webhook.
//!
//! Evaluation never waits on delivery: each notifier has its own queue and
//! task, so a slow webhook cannot delay a page written to the file. A
//! webhook is retried with exponential backoff; what still fails is logged
//! and counted. On-call routing (schedules, escalation) comes later and
//! sits in front of these.

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
    queues: Vec<(String, mpsc::Sender<Notification>)>,
    metrics: Arc<CollectorMetrics>,
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
            queues.push((name, tx));
        }
        Self { queues, metrics }
    }

    pub fn send(&self, n: &Notification) {
        for (name, q) in &self.queues {
            if q.try_send(n.clone()).is_err() {
                self.metrics.notification_failed(name);
                tracing::error!(notifier = %name, alert = ?n.label("alertname"), "notifier queue full; notification dropped");
            }
        }
    }
}
