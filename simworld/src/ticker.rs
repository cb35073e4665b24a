//! The game loop: a plain OS thread that ticks the [`Sim`] on a fixed
//! schedule and reports each tick over DogStatsD.
//!
//! Game loops are not async: a tick is CPU work that must not be interleaved
//! with anything else. The loop's only contact with the rest of the process
//! is [`Shared`] (atomics the HTTP side reads, and the state behind a lock
//! held only while a tick changes it) and a channel whose closing tells it
//! to stop.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use liveops_client::Client;
use liveops_client::flags::FlagClient;
use liveops_client::signal::{PLAYERS_ONLINE, TICK_BACKLOG, TICK_DURATION};

use crate::state::Churn;
use crate::switches::Switches;
use crate::traffic;
use crate::world::Sim;
use crate::{Fault, Shared};

/// Settings the loop needs, taken from [`crate::WorldConfig`].
pub(crate) struct Schedule {
    pub(crate) interval: Duration,
    pub(crate) players: u32,
    pub(crate) seed: u64,
    /// The agent's flags; without them every system stays on.
    pub(crate) flags: Option<FlagClient>,
    /// Normal play and the state faults, applied to [`Shared::state`].
    pub(crate) churn: Churn,
}

/// Starts the loop. It runs until every sender of `stop` is dropped (nothing
/// is ever sent on it), then drops `stats`, which sends what is still queued.
pub(crate) fn spawn(
    schedule: Schedule,
    shared: Arc<Shared>,
    stats: Client,
    stop: Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("world-{}", shared.name))
        .spawn(move || run(schedule, &shared, &stats, &stop))
}

fn run(mut schedule: Schedule, shared: &Shared, stats: &Client, stop: &Receiver<()>) {
    let interval = schedule.interval;
    let mut sim = Sim::new(schedule.players, schedule.seed);
    let mut next = Instant::now();
    // Starts "a second ago" so the first tick reports the player count.
    let mut since_players_gauge = Duration::from_secs(1);
    loop {
        // Waiting on the channel rather than sleeping means shutdown is
        // noticed at once, even with a long tick interval or a stall.
        match stop.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let fault = shared.fault.get();
        if fault.is_some_and(Fault::stops_ticks) {
            // A hung game loop sends nothing at all, not even zeros: the
            // silence is the signal the agent must notice.
            next = Instant::now() + interval;
            continue;
        }
        if let Some(flags) = &schedule.flags {
            sim.set_switches(Switches::read(flags));
        }
        let started = Instant::now();
        let out = sim.tick(started, interval, fault);
        // Part of the tick's work, so a stalled or downed world's state
        // stands still too.
        schedule.churn.tick(&shared.state, fault);
        thread::sleep(out.busy);
        let took = started.elapsed();

        shared.ticks.fetch_add(1, Ordering::Relaxed);
        shared
            .players_online
            .store(out.players_online, Ordering::Relaxed);
        // Whole microseconds: finer digits are noise and lengthen every line.
        let took_ms = took.as_micros() as f64 / 1000.0;
        stats.timing_ms(TICK_DURATION, took_ms, &[]);
        stats.gauge(TICK_BACKLOG, out.backlog as f64, &[]);
        traffic::send(stats, &out.activity);
        since_players_gauge += interval;
        if since_players_gauge >= Duration::from_secs(1) {
            stats.gauge(PLAYERS_ONLINE, f64::from(out.players_online), &[]);
            since_players_gauge = Duration::ZERO;
        }

        // A fixed-rate schedule. A tick that overran starts the next one at
        // once instead of replaying the ones missed: replaying would burst
        // telemetry, and a real server skips ahead the same way.
        next += interval;
        next = next.max(Instant::now());
    }
}
