//! Game health and tick liveness.
//!
//! Two loops feed one [`Monitor`]: a probe of the game's health endpoint
//! (every `probe_interval`) and a tick check (every 100 ms) reading the
//! ingest's tick heartbeat. When the world goes down, stalls or recovers,
//! the reporter is woken at once so the collector hears of it without
//! waiting for the next interval.

mod monitor;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use liveops_config::HealthConfig;
use liveops_protocol::signal::HEALTH_PATH;
use tokio::sync::{Notify, watch};

pub use monitor::Monitor;

use crate::ingest::Shared;

/// How often tick liveness is checked: a tenth of the default one-second
/// stall minimum, so a stall is seen within 100 ms of crossing it.
const TICK_CHECK_EVERY: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct HealthHandle {
    pub monitor: Arc<Mutex<Monitor>>,
    /// Rung when "up" changes.
    pub changed: Arc<Notify>,
}

impl HealthHandle {
    /// `probed`: the game's health endpoint is probed (the agent knows
    /// the game's URL); reports say so, so alerts do not claim a probe.
    pub fn new(cfg: HealthConfig, probed: bool) -> Self {
        Self {
            monitor: Arc::new(Mutex::new(Monitor::new(cfg, probed, Instant::now()))),
            changed: Arc::new(Notify::new()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Monitor) -> bool) {
        let changed = {
            let mut m = self.monitor.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut m)
        };
        if changed {
            self.changed.notify_one();
        }
    }
}

/// Probes `{game}/liveops/v1/health` until `stop`.
pub async fn probe_loop(
    handle: HealthHandle,
    http: reqwest::Client,
    game: String,
    cfg: HealthConfig,
    mut stop: watch::Receiver<bool>,
) {
    let url = format!("{game}{HEALTH_PATH}");
    let mut every = tokio::time::interval(cfg.probe_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let result = match http.get(&url).timeout(cfg.probe_timeout).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
            Err(e) if e.is_timeout() => Err(format!(
                "no answer within {} ms",
                cfg.probe_timeout.as_millis()
            )),
            Err(e) if e.is_connect() => Err("connection refused".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        handle.update(|m| m.on_probe(Instant::now(), result));
    }
}

/// Checks tick liveness until `stop`.
pub async fn tick_loop(handle: HealthHandle, ingest: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(TICK_CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let now = Instant::now();
        let (age, usual) = (
            ingest.ticks.last_tick_age(now),
            ingest.ticks.usual_interval(),
        );
        handle.update(|m| m.on_tick_check(now, age, usual));
    }
}
