//! The world's state and its tick: villages produce resources, armies march,
//! and players act.
//!
//! [`Sim`] is the game itself: plain data advanced one tick at a time, with
//! no clocks or sockets of its own, so a test can step it directly. The
//! thread that drives it on a schedule and reports each tick is in
//! [`crate::ticker`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::Fault;
use crate::switches::Switches;
use crate::traffic::{self, Activity, Op, Population};

/// Battles one tick can resolve. A real server bounds work per tick the same
/// way so that one busy moment cannot make every tick late; what does not fit
/// waits for the next tick and shows up as `tick.backlog`.
const ARRIVALS_PER_TICK: usize = 20;
/// How long an army marches, in seconds.
const MARCH_SECS: std::ops::Range<f64> = 5.0..60.0;

/// One player's village.
#[derive(Clone, Debug)]
struct Village {
    stock: u64,
    /// Resources produced per tick.
    production: u64,
}

/// An army on its way to another village.
///
/// Arrival is a wall-clock time, not a tick number: when ticks stop, armies
/// keep "arriving", and once the world resumes they are overdue. That is
/// exactly the backlog a stalled game has to work off.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Army {
    due: Instant,
    from: usize,
    to: usize,
    /// A raid loots its target; a march delivers what it carries.
    raid: bool,
    carried: u64,
}

/// What one tick did, for the ticker to report.
#[derive(Debug)]
pub(crate) struct TickOutcome {
    pub(crate) activity: Activity,
    /// Arrivals already due that this tick could not resolve.
    pub(crate) backlog: usize,
    pub(crate) players_online: u32,
    /// Time the ticker should spend working before it reports the tick; see
    /// [`Sim::busy_time`].
    pub(crate) busy: Duration,
}

pub(crate) struct Sim {
    rng: StdRng,
    players: Population,
    baseline: traffic::Baseline,
    villages: Vec<Village>,
    /// Soonest arrival first.
    armies: BinaryHeap<Reverse<Army>>,
    /// The kill switches in force, set by the ticker before each tick.
    switches: Switches,
}

impl Sim {
    /// A world with one village per player of the configured mean.
    pub(crate) fn new(players: u32, seed: u64) -> Sim {
        let mut rng = StdRng::seed_from_u64(seed);
        let villages = (0..players)
            .map(|_| Village {
                stock: rng.random_range(100..1000),
                production: rng.random_range(1..5),
            })
            .collect();
        Sim {
            rng,
            players: Population::new(players),
            baseline: traffic::Baseline::default(),
            villages,
            armies: BinaryHeap::new(),
            switches: Switches::default(),
        }
    }

    /// Advances the world by one tick of `dt` ending at `now`.
    ///
    /// Every random draw happens in the same order whatever the clock says,
    /// so a seed replays the same player activity tick for tick.
    pub(crate) fn tick(&mut self, now: Instant, dt: Duration, fault: Option<Fault>) -> TickOutcome {
        self.players.step(&mut self.rng, dt);
        let mut activity = traffic::draw(
            &mut self.rng,
            &mut self.baseline,
            self.players.online(),
            dt,
            fault,
        );
        self.switches.apply(&mut activity);
        for village in &mut self.villages {
            village.stock += village.production;
        }
        self.apply(&activity, now);
        let per_tick = if fault == Some(Fault::TickBacklog) {
            0
        } else {
            ARRIVALS_PER_TICK
        };
        let resolved = self.resolve_arrivals(now, per_tick);
        TickOutcome {
            backlog: self.armies.iter().filter(|a| a.0.due <= now).count(),
            players_online: self.players.online().round() as u32,
            busy: self.busy_time(resolved),
            activity,
        }
    }

    pub(crate) fn set_switches(&mut self, switches: Switches) {
        self.switches = switches;
    }

    /// Carries out what players' successful requests asked for; a failed
    /// request changes nothing, as in a real game.
    fn apply(&mut self, activity: &Activity, now: Instant) {
        if self.villages.is_empty() {
            return;
        }
        for req in activity.requests.iter().filter(|r| r.ok) {
            let from = self.rng.random_range(0..self.villages.len());
            let to = self.rng.random_range(0..self.villages.len());
            match req.op {
                Op::March | Op::Attack => {
                    let carried = self.villages[from].stock / 10;
                    self.villages[from].stock -= carried;
                    let secs = self.rng.random_range(MARCH_SECS);
                    let due = now + Duration::from_secs_f64(secs);
                    let raid = req.op == Op::Attack;
                    self.armies.push(Reverse(Army {
                        due,
                        from,
                        to,
                        raid,
                        carried,
                    }));
                }
                Op::Trade => {
                    let goods = self.villages[from].stock / 20;
                    self.villages[from].stock -= goods;
                    self.villages[to].stock += goods;
                }
                Op::Build => {
                    let cost = self.villages[from].stock.min(100);
                    self.villages[from].stock -= cost;
                    self.villages[from].production += 1;
                }
                Op::Chat => {}
            }
        }
    }

    /// Resolves due arrivals, at most `per_tick`; returns how many.
    fn resolve_arrivals(&mut self, now: Instant, per_tick: usize) -> usize {
        let mut resolved = 0;
        while resolved < per_tick {
            match self.armies.peek() {
                Some(Reverse(army)) if army.due <= now => {}
                _ => break,
            }
            let Some(Reverse(army)) = self.armies.pop() else {
                break;
            };
            if army.raid {
                let loot = self.villages[army.to].stock / 10;
                self.villages[army.to].stock -= loot;
                self.villages[army.from].stock += loot + army.carried;
            } else {
                self.villages[army.to].stock += army.carried;
            }
            resolved += 1;
        }
        resolved
    }

    /// How long this tick "works". The model above costs microseconds; a
    /// real tick also runs pathfinding, combat and scripts, which this stands
    /// in for: a few hundred µs to a few ms, jittered, plus a little per
    /// battle so that working off a backlog shows in `tick.duration` too.
    fn busy_time(&mut self, battles: usize) -> Duration {
        let base = self.rng.random_range(300..2500);
        Duration::from_micros(base + 50 * battles as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(100);

    #[test]
    fn the_same_seed_replays_the_same_world() {
        let now = Instant::now();
        let (mut a, mut b) = (Sim::new(2000, 9), Sim::new(2000, 9));
        for i in 0..50 {
            let (x, y) = (
                a.tick(now + TICK * i, TICK, None),
                b.tick(now + TICK * i, TICK, None),
            );
            assert_eq!(x.activity, y.activity);
            assert_eq!((x.players_online, x.busy), (y.players_online, y.busy));
        }
    }

    #[test]
    fn ticks_stay_within_a_few_milliseconds_of_work() {
        let mut sim = Sim::new(2000, 1);
        let now = Instant::now();
        for i in 0..100 {
            let busy = sim.tick(now + TICK * i, TICK, None).busy;
            assert!(
                busy >= Duration::from_micros(300) && busy < Duration::from_millis(4),
                "{busy:?}"
            );
        }
    }

    #[test]
    fn armies_due_while_ticks_stopped_become_a_backlog_that_drains() {
        let mut sim = Sim::new(5000, 2);
        let start = Instant::now();
        for i in 0..100 {
            assert_eq!(sim.tick(start + TICK * i, TICK, None).backlog, 0);
        }
        // No tick for two minutes: every army sent so far is now overdue.
        let resumed = start + Duration::from_secs(120);
        let first = sim.tick(resumed, TICK, None).backlog;
        assert!(first > ARRIVALS_PER_TICK, "backlog {first}");
        let mut backlog = first;
        for i in 1..1000 {
            backlog = sim.tick(resumed + TICK * i, TICK, None).backlog;
            if backlog == 0 {
                break;
            }
        }
        assert_eq!(backlog, 0, "the backlog never drained");
    }

    #[test]
    fn a_world_without_players_still_ticks() {
        let out = Sim::new(0, 0).tick(Instant::now(), TICK, None);
        assert_eq!((out.backlog, out.players_online), (0, 0));
    }

    #[test]
    fn a_slow_combat_resolver_makes_the_backlog_grow_while_ticks_go_on() {
        let start = Instant::now();
        let mut sim = Sim::new(2000, 3);
        let mut seen = Vec::new();
        for i in 0..600 {
            let fault = (i >= 100).then_some(Fault::TickBacklog);
            seen.push(sim.tick(start + TICK * i, TICK, fault).backlog);
        }
        assert!(
            seen[..100].iter().all(|b| *b == 0),
            "healthy: {:?}",
            &seen[..100]
        );
        let (early, late) = (seen[250], seen[599]);
        assert!(late > early && early > 0, "grows: {early} then {late}");
    }
}
