//! Starting and stopping an agent.
//!
//! [`Agent::start`] binds every socket first (so a port clash fails fast and
//! a caller that asked for port 0 learns the real ports), then runs until
//! the `shutdown` future resolves. The flag file is read before the HTTP
//! listener answers, so the first OFREP answer is already the file's.
//! Shutdown order matters: stop ingest, spool a last report, give the
//! sender a bounded time to deliver, flush the spool to disk, and only then
//! stop serving `/metrics`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use liveops_config::AgentConfig;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::commands::Commands;
use crate::flags::overrides::{self, Subscription};
use crate::flags::{self, Flags};
use crate::health::{self, HealthHandle};
use crate::http::{self, AppState};
use crate::ingest::{self, Shared};
use crate::report::Reporter;
use crate::report::sender::Sender;
use crate::report::spool::Spool;
use crate::snapshot::{self, Retention, Snapshots};
use crate::telemetry::{AgentMetrics, FlagMetrics};
use crate::{AgentError, Bound};

/// Time the sender gets at shutdown to deliver what is spooled.
const FINAL_DELIVERY: Duration = Duration::from_secs(2);

pub struct Agent {
    bound: Bound,
    agent_id: String,
    tasks: JoinSet<Result<(), AgentError>>,
    ingest_threads: Vec<JoinHandle<()>>,
    stop_ingest: Arc<AtomicBool>,
    stop_tx: watch::Sender<bool>,
    spool: Arc<Spool>,
    flags: Arc<Flags>,
}

impl Agent {
    pub async fn start(
        cfg: AgentConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Agent, AgentError> {
        let spool = Arc::new(Spool::open(&cfg.data_dir, &cfg.spool, &cfg.world)?);
        let agent_id = spool.agent_id().to_owned();
        let metrics = Arc::new(AgentMetrics::new(&cfg.world));
        let flag_metrics = match cfg.flags.file {
            Some(_) => metrics.flags(),
            None => FlagMetrics::noop(),
        };
        let flags = Flags::open(&cfg.world, &cfg.flags, spool.db(), flag_metrics)?;
        let first_read = flags.clone();
        tokio::task::spawn_blocking(move || first_read.reload_from_disk())
            .await
            .map_err(|e| AgentError::Task("flag file read", e.to_string()))?;
        let shared = Arc::new(Shared::new(cfg.ingest.max_series));
        let stop_ingest = Arc::new(AtomicBool::new(false));

        let mut ingest_threads = Vec::new();
        let mut statsd_udp = None;
        if let Some(addr) = cfg.statsd_udp {
            let (bound, t) = ingest::spawn_udp(
                addr,
                cfg.ingest.recv_buffer_bytes,
                shared.clone(),
                stop_ingest.clone(),
            )
            .map_err(|e| AgentError::bind("DogStatsD (UDP)", addr, e))?;
            statsd_udp = Some(bound);
            ingest_threads.push(t);
        }
        if let Some(path) = &cfg.statsd_unix {
            let t = ingest::spawn_unix(
                path,
                cfg.ingest.recv_buffer_bytes,
                shared.clone(),
                stop_ingest.clone(),
            )
            .map_err(|e| AgentError::bind("DogStatsD (Unix)", path.display(), e))?;
            ingest_threads.push(t);
        }
        let server = liveops_http::Server::bind(cfg.http, &cfg.http_server, "agent")
            .map_err(|e| AgentError::bind("HTTP", cfg.http, e))?;
        let http_addr = server
            .local_addr()
            .map_err(|e| AgentError::bind("HTTP", cfg.http, e))?;
        metrics.watch_http(server.stats());

        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        let health = HealthHandle::new(cfg.health.clone(), cfg.game.is_some());
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();

        let sender = Sender::new(
            client.clone(),
            &cfg.collector,
            cfg.token.clone(),
            spool.clone(),
            metrics.clone(),
            cfg.spool.max_attempts,
        );
        let reporter = Reporter {
            world: cfg.world.clone(),
            interval: cfg.report_interval,
            ingest: shared.clone(),
            health: health.clone(),
            spool: spool.clone(),
            metrics: metrics.clone(),
            flags: flags.clone(),
            sent_wake: sender.wake.clone(),
        };
        // The reporter stops first and spools its last report; the sender
        // is told to stop only after that (see `wait`).
        let (sender_stop_tx, sender_stop_rx) = watch::channel(false);
        let reporter_stop = stop_rx.clone();
        tasks.spawn(async move {
            let result = reporter.run(reporter_stop).await;
            let _ = sender_stop_tx.send(true);
            result
        });
        tasks.spawn(async move {
            sender.run(sender_stop_rx, FINAL_DELIVERY).await;
            Ok(())
        });
        tasks.spawn(health::tick_loop(health.clone(), shared.clone(), stop_rx.clone()).map_ok());
        if let Some(game) = cfg.game.clone() {
            tasks.spawn(
                health::probe_loop(
                    health.clone(),
                    client.clone(),
                    game,
                    cfg.health.clone(),
                    stop_rx.clone(),
                )
                .map_ok(),
            );
        }
        // Without a flag file there is nothing to watch and nothing an
        // override could apply to.
        if cfg.flags.file.is_some() {
            let poll = cfg.flags.poll_interval;
            tasks.spawn(flags::watch::run(flags.clone(), poll, stop_rx.clone()).map_ok());
            tasks.spawn(overrides::expiry_loop(flags.clone(), stop_rx.clone()).map_ok());
            let subscription = Subscription {
                flags: flags.clone(),
                collector: cfg.collector.clone(),
                token: cfg.token.clone(),
            };
            tasks.spawn(subscription.run(stop_rx.clone()).map_ok());
        }
        let snapshots = Arc::new(
            Snapshots::open(
                &cfg.data_dir,
                cfg.game.clone(),
                client.clone(),
                Retention {
                    all: cfg.snapshots.keep_all,
                    hourly: cfg.snapshots.keep_hourly,
                    daily: cfg.snapshots.keep_daily,
                },
                cfg.snapshots.timeout,
            )
            .map_err(|e| AgentError::Task("snapshot store", e.to_string()))?,
        );
        let commands = Commands {
            world: cfg.world.clone(),
            collector: cfg.collector.clone(),
            token: cfg.token.clone(),
            snapshots: snapshots.clone(),
            game: cfg.game.clone(),
            client: client.clone(),
        };
        tasks.spawn(commands.run(stop_rx.clone()).map_ok());
        if let (Some(_), Some(every)) = (&cfg.game, cfg.snapshots.every) {
            tasks.spawn(snapshot::schedule(snapshots, every, stop_rx.clone()).map_ok());
        }
        let state = AppState {
            world: cfg.world.clone(),
            agent_id: agent_id.clone(),
            metrics,
            ingest: shared,
            spool: spool.clone(),
            health,
            statsd_udp,
            flags: flags.clone(),
        };
        let http_stop = stop_rx.clone();
        tasks.spawn(async move {
            server
                .serve(http::router(state, http_stop.clone()), http_stop)
                .await;
            Ok(())
        });
        let stop_on_shutdown = stop_tx.clone();
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_on_shutdown.send(true);
        });
        tracing::info!(world = %cfg.world, agent = %agent_id, http = %http_addr, statsd = ?statsd_udp, collector = %cfg.collector, "agent started");
        Ok(Agent {
            bound: Bound {
                http: http_addr,
                statsd_udp,
            },
            agent_id,
            tasks,
            ingest_threads,
            stop_ingest,
            stop_tx,
            spool,
            flags,
        })
    }

    pub fn bound(&self) -> &Bound {
        &self.bound
    }

    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// The flags this agent serves.
    pub fn flags(&self) -> &Arc<Flags> {
        &self.flags
    }

    /// Begins shutdown now, as if the `shutdown` future had resolved.
    pub fn stop(&self) {
        let _ = self.stop_tx.send(true);
    }

    /// Waits until the agent has shut down: last report spooled, delivery
    /// tried, spool flushed.
    pub async fn wait(mut self) -> Result<(), AgentError> {
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            let result = joined
                .map_err(|e| AgentError::Task("agent", e.to_string()))
                .and_then(|r| r);
            if let Err(e) = result {
                tracing::error!(error = %e, "agent task failed");
                // A failed task must not leave the others running.
                let _ = self.stop_tx.send(true);
                first_error.get_or_insert(e);
            }
        }
        self.stop_ingest.store(true, Ordering::Relaxed);
        for t in self.ingest_threads.drain(..) {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        self.spool.flush()?;
        tracing::info!(spooled = self.spool.len(), "agent stopped");
        first_error.map_or(Ok(()), Err)
    }
}

trait MapOk: Future<Output = ()> + Sized {
    fn map_ok(self) -> impl Future<Output = Result<(), AgentError>> {
        async move {
            self.await;
            Ok(())
        }
    }
}

impl<F: Future<Output = ()>> MapOk for F {}
