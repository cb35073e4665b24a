//! The world's health as a pure state machine: probe results and tick ages
//! go in, "up", "stalled" and time-weighted uptime come out.
//!
//! A world is up when its health endpoint answers and it keeps ticking. A
//! stalled world counts as down even while its process answers: players
//! see a frozen world either way.

use std::time::{Duration, Instant};

use liveops_config::HealthConfig;
use liveops_protocol::Health;

pub struct Monitor {
    cfg: HealthConfig,
    /// A game health endpoint is probed (the agent was given `--game`).
    probed: bool,
    started: Instant,
    failures: u32,
    probe_ok: bool,
    probe_detail: Option<String>,
    stalled: bool,
    last_tick_age: Option<Duration>,
    usual_interval: Option<Duration>,
    up_ms: f64,
    observed_ms: f64,
    accounted_to: Instant,
}

impl Monitor {
    pub fn new(cfg: HealthConfig, probed: bool, now: Instant) -> Self {
        Self {
            cfg,
            probed,
            started: now,
            failures: 0,
            probe_ok: true,
            probe_detail: None,
            stalled: false,
            last_tick_age: None,
            usual_interval: None,
            up_ms: 0.0,
            observed_ms: 0.0,
            accounted_to: now,
        }
    }

    pub fn up(&self) -> bool {
        self.probe_ok && !self.stalled
    }

    pub fn probe_ok(&self) -> bool {
        self.probe_ok
    }

    pub fn stalled(&self) -> bool {
        self.stalled
    }

    /// A probe finished. Returns true when "up" changed.
    pub fn on_probe(&mut self, now: Instant, result: Result<(), String>) -> bool {
        self.account(now);
        let was_up = self.up();
        match result {
            Ok(()) => {
                self.failures = 0;
                self.probe_ok = true;
                self.probe_detail = None;
            }
            Err(why) => {
                self.failures = self.failures.saturating_add(1);
                if self.failures >= self.cfg.failures_before_down {
                    self.probe_ok = false;
                }
                self.probe_detail = Some(why);
            }
        }
        was_up != self.up()
    }

    /// The stall threshold for the tick rate seen so far.
    pub fn stall_after(&self, usual: Option<Duration>) -> Duration {
        match usual {
            Some(u) => u.mul_f64(self.cfg.stall_factor).max(self.cfg.stall_min),
            None => self.cfg.stall_min,
        }
    }

    /// Checks tick liveness. `last_tick_age` is `None` before the first tick,
    /// in which case the agent's own start stands in for it: a world that
    /// never ticks is stalled too. Returns true when "up" changed.
    pub fn on_tick_check(
        &mut self,
        now: Instant,
        last_tick_age: Option<Duration>,
        usual: Option<Duration>,
    ) -> bool {
        self.account(now);
        let was_up = self.up();
        let age = last_tick_age.unwrap_or_else(|| now.saturating_duration_since(self.started));
        self.last_tick_age = last_tick_age;
        self.usual_interval = usual;
        self.stalled = age > self.stall_after(usual);
        was_up != self.up()
    }

    /// The interval's health, and a fresh accounting window.
    pub fn take(&mut self, now: Instant) -> Health {
        self.account(now);
        let detail = if !self.probe_ok {
            Some(
                self.probe_detail
                    .clone()
                    .unwrap_or_else(|| "unknown error".to_owned()),
            )
        } else if self.stalled {
            Some(match self.last_tick_age {
                Some(age) => format!("no tick for {:.1} s", age.as_secs_f64()),
                None => "no tick received yet".to_owned(),
            })
        } else {
            None
        };
        let health = Health {
            up: self.up(),
            probe_ok: self.probe_ok,
            stalled: self.stalled,
            up_ms: self.up_ms.round() as u64,
            observed_ms: self.observed_ms.round() as u64,
            last_tick_age_ms: self.last_tick_age.map(|a| a.as_millis() as u64),
            tick_interval_ms: self.usual_interval.map(|u| u.as_secs_f64() * 1000.0),
            detail,
            probed: self.probed,
            probe_failures: self.failures,
            probe_error: (self.failures > 0)
                .then(|| self.probe_detail.clone())
                .flatten(),
        };
        self.up_ms = 0.0;
        self.observed_ms = 0.0;
        health
    }

    /// Adds the time since the last event to the uptime counters, in the
    /// state that held during it.
    fn account(&mut self, now: Instant) {
        let elapsed = now
            .saturating_duration_since(self.accounted_to)
            .as_secs_f64()
            * 1000.0;
        self.observed_ms += elapsed;
        if self.up() {
            self.up_ms += elapsed;
        }
        self.accounted_to = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> HealthConfig {
        HealthConfig {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(800),
            failures_before_down: 2,
            stall_factor: 5.0,
            stall_min: Duration::from_secs(1),
        }
    }

    #[test]
    fn stall_threshold_is_factor_times_usual_interval_never_below_minimum() {
        let m = Monitor::new(cfg(), true, Instant::now());
        let cases = [
            (None, 1000),
            (Some(100), 1000),
            (Some(400), 2000),
            (Some(1000), 5000),
        ];
        for (usual, want) in cases {
            let got = m.stall_after(usual.map(Duration::from_millis));
            assert_eq!(got, Duration::from_millis(want), "usual {usual:?}");
        }
    }

    #[test]
    fn down_after_consecutive_failures_and_up_again_on_success() {
        let t0 = Instant::now();
        let mut m = Monitor::new(cfg(), true, t0);
        assert!(!m.on_probe(t0, Err("connection refused".into())));
        assert!(m.up());
        assert!(m.on_probe(t0 + Duration::from_secs(1), Err("HTTP 503".into())));
        assert!(!m.up());
        let h = m.take(t0 + Duration::from_secs(2));
        assert_eq!(h.detail.as_deref(), Some("HTTP 503"));
        assert_eq!((h.up_ms, h.observed_ms), (1000, 2000));
        assert!(m.on_probe(t0 + Duration::from_secs(3), Ok(())));
    }

    #[test]
    fn a_stalled_world_is_down_even_while_its_probe_answers() {
        let t0 = Instant::now();
        let mut m = Monitor::new(cfg(), true, t0);
        let usual = Some(Duration::from_millis(100));
        assert!(!m.on_tick_check(
            t0 + Duration::from_millis(500),
            Some(Duration::from_millis(50)),
            usual
        ));
        assert!(m.on_tick_check(
            t0 + Duration::from_millis(1600),
            Some(Duration::from_millis(1100)),
            usual
        ));
        assert!(m.stalled() && m.probe_ok() && !m.up());
        let h = m.take(t0 + Duration::from_millis(2000));
        assert!(h.stalled && !h.up);
        assert_eq!(h.up_ms, 1600);
    }

    #[test]
    fn a_world_that_never_ticks_stalls_after_the_minimum() {
        let t0 = Instant::now();
        let mut m = Monitor::new(cfg(), true, t0);
        assert!(!m.on_tick_check(t0 + Duration::from_millis(900), None, None));
        assert!(m.on_tick_check(t0 + Duration::from_millis(1100), None, None));
        assert_eq!(
            m.take(t0 + Duration::from_millis(1100)).detail.as_deref(),
            Some("no tick received yet")
        );
    }
}
