//! Delivery channels: what carries a page to people.
//!
//! The pager decides who hears of an alert and through which channel; a
//! channel only carries a [`Delivery`] and answers with one
//! [`DeliveryReport`] once its own retries are over. Each channel has its
//! own queue and task, so a slow or failing receiver never delays another,
//! and evaluation never waits on any of them.
//!
//! # Layout
//!
//! - `file`: JSON lines to a file or stdout; `webhook`: the same object
//!   POSTed. Both keep the alert's fields at the top level, page fields beside.
//! - `pagerduty`, `alertmanager`, `slack`, `discord`, `email`: each a pure
//!   `Delivery -> body` formatter, within its platform's limits, and the
//!   sending around it.
//! - `retry`: the one retry loop they share (backoff, `Retry-After`,
//!   deadline); `text`: truncation and the words every channel uses.
//! - `health`: which channels keep failing, for `NotifierFailing`;
//!   `direct`: the page every alert change becomes until a pager decides.

mod alertmanager;
mod direct;
mod discord;
pub(crate) mod email;
mod file;
mod health;
pub(crate) mod pagerduty;
pub(crate) mod retry;
#[cfg(test)]
mod serve_tests;
mod slack;
mod text;
mod webhook;

use std::future::Future;
use std::sync::Arc;

use liveops_config::NotifierConfig;
use liveops_protocol::{Delivery, DeliveryReport};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinSet;

use crate::telemetry::CollectorMetrics;
pub use direct::direct;
pub use health::Failing;
use health::Health;

/// Deliveries waiting per channel before new ones are refused (and
/// reported failed): a stuck receiver must not grow memory without bound.
const QUEUE: usize = 10_000;

/// What a channel is, so the pager can look up a recipient's address of
/// that kind (a PagerDuty routing key, an email address, a Discord id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    File,
    Stdout,
    Webhook,
    PagerDuty,
    Alertmanager,
    Slack,
    Discord,
    Email,
}

impl ChannelKind {
    fn of(cfg: &NotifierConfig) -> ChannelKind {
        match cfg {
            NotifierConfig::File { .. } => Self::File,
            NotifierConfig::Stdout => Self::Stdout,
            NotifierConfig::Webhook { .. } => Self::Webhook,
            NotifierConfig::PagerDuty { .. } => Self::PagerDuty,
            NotifierConfig::Alertmanager { .. } => Self::Alertmanager,
            NotifierConfig::Slack { .. } => Self::Slack,
            NotifierConfig::Discord { .. } => Self::Discord,
            NotifierConfig::Email(_) => Self::Email,
        }
    }

    /// The config's `kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Stdout => "stdout",
            Self::Webhook => "webhook",
            Self::PagerDuty => "pagerduty",
            Self::Alertmanager => "alertmanager",
            Self::Slack => "slack",
            Self::Discord => "discord",
            Self::Email => "email",
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("no notifier named `{0}`")]
pub struct UnknownChannel(pub String);

/// What every channel task holds: its name, where it sends (as a log line
/// may show it: no secret), and where the outcome of a delivery goes.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) name: String,
    pub(crate) shown: String,
    pub(crate) metrics: Arc<CollectorMetrics>,
    health: Arc<Health>,
    reports: mpsc::Sender<DeliveryReport>,
}

impl Ctx {
    /// The end of one delivery: counted, logged when it failed, recorded for
    /// the channel's health, and reported to the pager.
    pub(crate) fn done(&self, d: &Delivery, result: Result<(), String>) {
        let now = crate::now_ms();
        match &result {
            Ok(()) => self.metrics.notification_sent(&self.name),
            Err(why) => {
                self.metrics.notification_failed(&self.name);
                tracing::error!(notifier = %self.name, to = %self.shown, page = %d.page_id, action = ?d.action, alert = ?d.alert.label("alertname"), error = %why, "delivery failed");
            }
        }
        self.health.record(&self.name, &result, now);
        let report = DeliveryReport {
            page_id: d.page_id.clone(),
            channel: self.name.clone(),
            action: d.action,
            attempt: d.attempt,
            error: result.err(),
            at_ms: now,
        };
        // Closed: nobody reads reports yet (no pager). Full: the pager is
        // far behind; the log line and metrics above still tell.
        if let Err(TrySendError::Full(_)) = self.reports.try_send(report) {
            tracing::warn!(notifier = %self.name, "delivery report dropped: the pager is not reading them");
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests(name: &str) -> Ctx {
        Ctx {
            name: name.to_owned(),
            shown: "test".to_owned(),
            metrics: Arc::new(CollectorMetrics::new()),
            health: Arc::default(),
            reports: mpsc::channel(1).0,
        }
    }

    #[cfg(test)]
    pub(crate) fn metrics_retried(&self) -> u64 {
        let text = self.metrics.render();
        let line = format!(
            "{}{{notifier=\"{}\"}} ",
            liveops_telemetry::names::NOTIFICATIONS_RETRIED,
            self.name
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// A channel that carries one delivery at a time, retries included.
pub(crate) trait Carrier: Send + Sync + 'static {
    fn carry(&self, ctx: &Ctx, d: &Delivery) -> impl Future<Output = Result<(), String>> + Send;
}

/// A channel's deliveries are spread over this many lanes by page.
const LANES: usize = 8;

/// A channel's task. Each page's deliveries go through one lane, in
/// order and each to its end, so a resolve never overtakes its trigger;
/// pages are spread over [`LANES`] lanes, so one page's retries (a 429,
/// a timeout) do not hold up every other page, and a burst of pages (a
/// thousand worlds down) goes out several at a time.
async fn serve(carrier: impl Carrier, ctx: Ctx, mut rx: mpsc::Receiver<Delivery>) {
    let carrier = Arc::new(carrier);
    let mut lanes = JoinSet::new();
    let queues: Vec<mpsc::Sender<Delivery>> = (0..LANES)
        .map(|_| {
            let (tx, mut lane) = mpsc::channel::<Delivery>(QUEUE / LANES);
            let (carrier, ctx) = (carrier.clone(), ctx.clone());
            lanes.spawn(async move {
                while let Some(d) = lane.recv().await {
                    let result = carrier.carry(&ctx, &d).await;
                    ctx.done(&d, result);
                }
            });
            tx
        })
        .collect();
    while let Some(d) = rx.recv().await {
        let lane = lane_of(&d.page_id);
        if queues[lane].send(d).await.is_err() {
            break;
        }
    }
    // Closing the lanes' queues ends them once they are drained.
    drop(queues);
    while lanes.join_next().await.is_some() {}
}

fn lane_of(page_id: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    page_id.hash(&mut h);
    usize::try_from(h.finish() % LANES as u64).unwrap_or(0)
}

/// A channel that could not be set up: every delivery fails, visibly.
async fn refuse(why: String, ctx: Ctx, mut rx: mpsc::Receiver<Delivery>) {
    while let Some(d) = rx.recv().await {
        ctx.done(&d, Err(why.clone()));
    }
}

struct Channel {
    kind: ChannelKind,
    queue: mpsc::Sender<Delivery>,
    ctx: Ctx,
}

pub struct Notifiers {
    channels: Vec<Channel>,
    health: Arc<Health>,
}

impl Notifiers {
    /// Starts one task per channel in `tasks`; they end when the
    /// `Notifiers` is dropped, after delivering what was queued. Every
    /// delivery's outcome comes back on the receiver, once.
    pub fn start(
        configs: &[NotifierConfig],
        http: reqwest::Client,
        metrics: Arc<CollectorMetrics>,
        tasks: &mut JoinSet<()>,
    ) -> (Notifiers, mpsc::Receiver<DeliveryReport>) {
        let (reports, reports_rx) = mpsc::channel(QUEUE);
        let health = Arc::new(Health::default());
        let mut channels = Vec::new();
        for cfg in configs {
            let (queue, rx) = mpsc::channel(QUEUE);
            let ctx = Ctx {
                name: cfg.name(),
                shown: shown(cfg),
                metrics: metrics.clone(),
                health: health.clone(),
                reports: reports.clone(),
            };
            metrics.notifier_registered(&ctx.name);
            let c = ctx.clone();
            match cfg {
                NotifierConfig::File { path } => {
                    tasks.spawn(file::run(file::Target::File(path.clone()), c, rx))
                }
                NotifierConfig::Stdout => tasks.spawn(file::run(file::Target::Stdout, c, rx)),
                NotifierConfig::Webhook {
                    url,
                    max_attempts,
                    timeout,
                    ..
                } => tasks.spawn(serve(
                    webhook::Webhook::new(http.clone(), url, *max_attempts, *timeout),
                    c,
                    rx,
                )),
                NotifierConfig::PagerDuty {
                    url,
                    routing_key,
                    retry,
                    ..
                } => tasks.spawn(serve(
                    pagerduty::PagerDuty::new(http.clone(), url, routing_key.clone(), *retry),
                    c,
                    rx,
                )),
                NotifierConfig::Alertmanager {
                    urls,
                    resend,
                    retry,
                    ..
                } => tasks.spawn(alertmanager::run(
                    alertmanager::Alertmanagers::new(http.clone(), urls, *resend, *retry),
                    c,
                    rx,
                )),
                NotifierConfig::Slack { url, retry, .. } => tasks.spawn(serve(
                    slack::Slack::new(http.clone(), url.clone(), *retry),
                    c,
                    rx,
                )),
                NotifierConfig::Discord { url, retry, .. } => tasks.spawn(serve(
                    discord::Discord::new(http.clone(), url.clone(), *retry),
                    c,
                    rx,
                )),
                NotifierConfig::Email(e) => match email::Email::new(e) {
                    Ok(mail) => tasks.spawn(serve(mail, c, rx)),
                    Err(why) => {
                        tracing::error!(notifier = %ctx.name, error = %why, "cannot set up the email notifier; its deliveries fail");
                        tasks.spawn(refuse(why, c, rx))
                    }
                },
            };
            channels.push(Channel {
                kind: ChannelKind::of(cfg),
                queue,
                ctx,
            });
        }
        (Notifiers { channels, health }, reports_rx)
    }

    /// Queues one delivery for the channel named `channel`.
    pub fn deliver(&self, channel: &str, d: Delivery) -> Result<(), UnknownChannel> {
        let c = self
            .channels
            .iter()
            .find(|c| c.ctx.name == channel)
            .ok_or_else(|| UnknownChannel(channel.to_owned()))?;
        enqueue(c, d);
        Ok(())
    }

    /// Queues one delivery for every channel.
    pub fn broadcast(&self, d: Delivery) {
        for c in &self.channels {
            enqueue(c, d.clone());
        }
    }

    /// Every channel's name and kind, in config order.
    pub fn channels(&self) -> impl Iterator<Item = (&str, ChannelKind)> {
        self.channels.iter().map(|c| (c.ctx.name.as_str(), c.kind))
    }

    /// The channels whose last delivery failed.
    pub fn failing(&self) -> Vec<Failing> {
        self.health.failing()
    }
}

fn enqueue(c: &Channel, d: Delivery) {
    match c.queue.try_send(d) {
        Ok(()) => {}
        Err(TrySendError::Full(d)) => c.ctx.done(&d, Err("the channel's queue is full".into())),
        Err(TrySendError::Closed(d)) => c.ctx.done(&d, Err("the channel has stopped".into())),
    }
}

/// Where a channel sends, as a log line may show it.
fn shown(cfg: &NotifierConfig) -> String {
    match cfg {
        NotifierConfig::File { path } => path.display().to_string(),
        NotifierConfig::Stdout => "stdout".to_owned(),
        // A generic webhook's URL is written in the config as an address,
        // not a credential (as it always was in its log lines).
        NotifierConfig::Webhook { url, .. } | NotifierConfig::PagerDuty { url, .. } => url.clone(),
        NotifierConfig::Alertmanager { urls, .. } => urls.join(", "),
        NotifierConfig::Slack { url, .. } | NotifierConfig::Discord { url, .. } => {
            text::redact_url(url.expose())
        }
        NotifierConfig::Email(e) => format!("smtp://{}:{}", e.host, e.port),
    }
}
