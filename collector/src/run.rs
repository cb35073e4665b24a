//! Starting and stopping a collector.
//!
//! [`Collector::start`] loads the flag catalogue and mitigations, restores
//! state, binds, and runs the API, the evaluation loop, the checkpoint loop
//! and the override expiry timer until `shutdown` resolves. At
//! shutdown it stops accepting, evaluates once more, writes a checkpoint,
//! and lets the notifiers deliver what is queued (bounded by a deadline).
//! With a paging policy, the pager's task (`crate::paging::task`) runs too;
//! with an `oncall` or `paging` file, its watcher (`crate::reload`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use liveops_config::CollectorConfig;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::audit::Audit;
use crate::auth::Tokens;
use crate::events::Event;
use crate::notify::Notifiers;
use crate::overrides::Overrides;
use crate::paging::clock::{Clock, SystemClock};
use crate::state::Shared;
use crate::store::Store;
use crate::telemetry::CollectorMetrics;
use crate::{CollectorError, http};

/// How often SLO series are checkpointed; the journal covers in between.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);
/// Time queued notifications get to go out at shutdown.
const NOTIFY_DRAIN: Duration = Duration::from_secs(5);

pub struct Collector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: JoinSet<Result<(), CollectorError>>,
    notifier_tasks: JoinSet<()>,
    stop_tx: watch::Sender<bool>,
}

impl Collector {
    pub async fn start(
        cfg: CollectorConfig,
        tokens: Tokens,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Collector, CollectorError> {
        Self::start_with_clock(cfg, tokens, Arc::new(SystemClock), shutdown).await
    }

    /// As [`Collector::start`], with the pager on `clock` (a
    /// [`ManualClock`](crate::paging::clock::ManualClock) in tests of
    /// escalations and handoffs).
    pub async fn start_with_clock(
        mut cfg: CollectorConfig,
        tokens: Tokens,
        clock: Arc<dyn Clock>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Collector, CollectorError> {
        let server = liveops_http::Server::bind(cfg.listen, &cfg.http_server, "collector")
            .map_err(|source| CollectorError::Bind {
                addr: cfg.listen.to_string(),
                source,
            })?;
        let addr = server.local_addr().map_err(|source| CollectorError::Bind {
            addr: cfg.listen.to_string(),
            source,
        })?;
        let public_url = crate::public_url::resolve(cfg.public_url.as_deref(), addr);
        // Runbooks given as collector paths become links people can open.
        for slo in &mut cfg.slos {
            if slo.runbook.starts_with('/') {
                slo.runbook = format!("{public_url}{}", slo.runbook);
            }
            if let Some(r) = slo.backlog.as_mut().and_then(|b| b.runbook.as_mut())
                && r.starts_with('/')
            {
                *r = format!("{public_url}{r}");
            }
        }
        cfg.public_url = Some(public_url);
        if tokens.is_empty() {
            tracing::warn!(
                "no API tokens configured: every report will be refused (401); see [[token]] in the config or LIVEOPS_AGENT_TOKEN"
            );
        }
        let catalogue = liveops_config::load_catalogue(&cfg)?;
        let oncall = liveops_oncall::Schedule::new(liveops_config::load_collector_oncall(&cfg)?);
        let watched = [
            (crate::reload::Which::Oncall, cfg.oncall_file.clone()),
            (crate::reload::Which::Paging, cfg.paging_file.clone()),
        ];
        let store = Store::open(&cfg.data_dir)?;
        let metrics = Arc::new(CollectorMetrics::new());
        metrics.watch_http(server.stats());
        let audit = Audit::open(&cfg.data_dir, &store, metrics.clone())?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let overrides = Overrides::open(catalogue, &store, stop_rx.clone())?;
        // The notifier player comms are emailed through gets no alerts.
        let comms_email = cfg
            .comms
            .email
            .as_ref()
            .and_then(|name| cfg.notifiers.iter().position(|n| n.name() == *name))
            .map(|i| cfg.notifiers.remove(i))
            .and_then(|n| match n {
                liveops_config::NotifierConfig::Email(e) => Some(e),
                _ => None,
            });
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        let mut notifier_tasks = JoinSet::new();
        let (notifiers, reports) = Notifiers::start(
            &cfg.notifiers,
            http.clone(),
            metrics.clone(),
            &mut notifier_tasks,
        );
        let notifiers = Arc::new(notifiers);
        let (teams, people) = oncall.names();
        let names = liveops_config::paging::ScheduleNames {
            teams: &teams,
            people: &people,
        };
        let policy = liveops_config::load_paging(&cfg, Some(names))?;
        let url = cfg.public_url.clone().unwrap_or_default();
        let schedule = Arc::new(arc_swap::ArcSwap::from_pointee(oncall));
        let pager = policy
            .map(|p| {
                let (n, m, s) = (notifiers.clone(), metrics.clone(), schedule.clone());
                crate::paging::start((p, clock), s, n, reports, url, (&store, m))
            })
            .transpose()?;
        let incidents = Arc::new(crate::incident::Incidents::open(&store, metrics.clone())?);
        let chat = crate::chat::Chat::new(&cfg.chat)?;
        let parts = (Arc::new(store), overrides, Arc::new(audit), incidents);
        let outbound =
            crate::comms::deliver::Outbound::new(&cfg.comms, comms_email.as_ref(), http.clone())?;
        let templates = crate::comms::Templates::from_config(&cfg.comms).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            CollectorError::Comms(lines.join("\n"))
        })?;
        let shared = Arc::new(
            Shared::new(cfg, tokens, metrics, notifiers, parts)
                .with_oncall(schedule)
                .with_comms(templates, outbound)
                .with_chat(chat),
        );
        for (which, path) in watched {
            if let Some(p) = path {
                shared.config_files.watch(which, &p);
            }
        }
        shared.restore()?;

        let mut tasks = JoinSet::new();
        let app = http::router(shared.clone());
        let http_stop = stop_rx.clone();
        tasks.spawn(async move {
            server.serve(app, http_stop).await;
            Ok(())
        });
        tasks.spawn(evaluate_loop(shared.clone(), stop_rx.clone()));
        tasks.spawn(checkpoint_loop(shared.clone(), stop_rx.clone()));
        tasks.spawn(count_events(shared.clone(), stop_rx.clone()));
        tasks.spawn(crate::incident::feed::run(shared.clone(), stop_rx.clone()));
        if let Some((pager, inbox)) = pager {
            let _ = shared.pager.set(Arc::new(pager));
            tasks.spawn(crate::paging::task::run(
                shared.clone(),
                inbox,
                stop_rx.clone(),
            ));
        }
        let reload = crate::reload::run(shared.clone(), stop_rx.clone());
        tasks.spawn(async move {
            reload.await;
            Ok(())
        });
        tasks.spawn(expiry_loop(shared.clone(), stop_rx));
        let stop = stop_tx.clone();
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        tracing::info!(%addr, slos = shared.cfg.slos.len(), notifiers = shared.cfg.notifiers.len(), "collector started");
        Ok(Collector {
            addr,
            shared,
            tasks,
            notifier_tasks,
            stop_tx,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Begins shutdown now.
    pub fn stop(&self) {
        let _ = self.stop_tx.send(true);
    }

    /// Waits for shutdown to finish.
    pub async fn wait(mut self) -> Result<(), CollectorError> {
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(e) = joined
                .map_err(|e| CollectorError::Task("collector", e.to_string()))
                .and_then(|r| r)
            {
                tracing::error!(error = %e, "collector task failed");
                let _ = self.stop_tx.send(true);
                first_error.get_or_insert(e);
            }
        }
        // Dropping the last handle to the notifiers closes their queues;
        // their tasks end once what was queued is delivered.
        drop(self.shared);
        let drained = tokio::time::timeout(NOTIFY_DRAIN, async {
            while self.notifier_tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("notifications still undelivered at shutdown");
            self.notifier_tasks.abort_all();
        }
        tracing::info!("collector stopped");
        first_error.map_or(Ok(()), Err)
    }
}

async fn evaluate_loop(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CollectorError> {
    let mut every = tokio::time::interval(shared.cfg.evaluation_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = shared.evaluate_now.notified() => {}
            _ = stop.changed() => break,
        }
        // On a thread of its own: the runtime's workers go on serving
        // reports meanwhile (see `Shared::evaluate`).
        let s = shared.clone();
        let notes = tokio::task::spawn_blocking(move || {
            // Then incidents are re-rated from the same moment's state: a
            // page opened by the last pass has its severity by this one.
            let mut notes = s.evaluate();
            notes.extend(s.assess_incidents());
            notes
        })
        .await
        .map_err(|e| CollectorError::Task("evaluation", e.to_string()))?;
        shared.metrics.upkeep();
        let public_url = shared.cfg.public_url.as_deref().unwrap_or_default();
        for n in &notes {
            tracing::info!(status = ?n.status, alert = ?n.label("alertname"), world = ?n.label("world"), slo = ?n.label("slo"), "alert");
            // With a paging policy the pager decides who hears of it.
            match shared.pager() {
                Some(p) => p.offer(n.clone()),
                None => shared
                    .notifiers
                    .broadcast(crate::notify::direct(n, public_url)),
            }
        }
        shared
            .events
            .tell(notes.into_iter().map(Event::Alert).collect());
    }
    Ok(())
}

/// Removes overrides when their TTL has passed: sleeps until the next
/// expiry (or until the book changes), so nothing outlives its time box by
/// more than a few milliseconds.
async fn expiry_loop(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CollectorError> {
    let mut book = shared.overrides.subscribe();
    loop {
        let next = book.borrow_and_update().next_expiry();
        let wait = match next {
            // An override is active up to its expiry millisecond: wake
            // just after it.
            Some(t) => t
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_add(Duration::from_millis(1)),
            None => Duration::from_secs(3_600),
        }
        // Timers run on the monotonic clock, expiries on the wall clock:
        // looking again every 30 s bounds the delay a clock step causes.
        .min(Duration::from_secs(30));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = book.changed() => continue,
            _ = stop.changed() => break,
        }
        let s = shared.clone();
        let swept = tokio::task::spawn_blocking(move || {
            s.overrides.expire((&s.store, &s.events), SystemTime::now())
        })
        .await
        .map_err(|e| CollectorError::Task("expiry", e.to_string()))?;
        match swept {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "operator overrides expired"),
            Err(e) => {
                tracing::error!(error = %e, "cannot expire overrides; retrying in 1s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    Ok(())
}

/// The event stream's first subscriber: `liveops_collector_events_total`
/// by kind, so a subsystem that stops publishing shows on a dashboard.
async fn count_events(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CollectorError> {
    use tokio::sync::broadcast::error::RecvError;
    let mut rx = shared.events.subscribe();
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Ok(e) => shared.metrics.event(e.event.kind()),
                Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "event counter fell behind"),
                Err(RecvError::Closed) => break,
            },
            _ = stop.changed() => break,
        }
    }
    Ok(())
}

async fn checkpoint_loop(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CollectorError> {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => break,
        }
        let s = shared.clone();
        let written =
            crate::background::run("checkpoint", move || s.checkpoint_in_background()).await?;
        if let Err(e) = written {
            tracing::error!(error = %e, "checkpoint failed; the journal still holds every report");
        }
    }
    let s = shared.clone();
    tokio::task::spawn_blocking(move || s.checkpoint())
        .await
        .map_err(|e| CollectorError::Task("checkpoint", e.to_string()))?
}
