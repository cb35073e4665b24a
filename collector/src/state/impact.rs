//! The figures an incident's player impact is measured from, read from the
//! live state: each of its worlds (players online, down, SLOs outside
//! objective, since when) and the fleet's totals, over the impact window.

use std::time::Duration;

use liveops_protocol::Notification;

use super::{Inner, Shared};
use crate::incident::assess::Rating;
use crate::incident::impact::{FleetFigures, WorldFigures, measure};
use crate::incident::notify;
use crate::now_ms;
use crate::slo::{Counts, Scope, burn};

/// How far back the per-second buckets are walked for the first bad
/// second, and how many empty seconds end the walk.
const WALK_BACK_S: u64 = 120;
const EMPTY_ENDS_WALK: u32 = 10;

impl Shared {
    /// Measures every active incident with worlds, re-rates it, finds the
    /// action items fallen overdue, and returns what the paging policy must
    /// hear of both (`incident::notify`).
    pub fn assess_incidents(&self) -> Vec<Notification> {
        let cfg = &self.cfg.incidents;
        let measured = self.incidents.read(|b| b.measured());
        let now = now_ms();
        let window_ms = u64::try_from(cfg.impact_window.as_millis()).unwrap_or(u64::MAX);
        let rows = if measured.is_empty() {
            Vec::new()
        } else {
            let inner = self.lock();
            let fleet = self.fleet_figures(&inner, now);
            measured
                .into_iter()
                .map(|(id, worlds)| {
                    let figures: Vec<WorldFigures> = worlds
                        .iter()
                        .map(|w| self.world_figures(&inner, w, now))
                        .collect();
                    let first_bad = figures.iter().filter_map(|f| f.first_bad_ms).min();
                    (id, measure(&figures, fleet, window_ms, now), first_bad)
                })
                .collect()
        };
        let rating = Rating {
            rules: &cfg.rules,
            settle_ms: u64::try_from(cfg.settle.as_millis()).unwrap_or(u64::MAX),
            window_ms,
        };
        let public_url = self.cfg.public_url.as_deref().unwrap_or_default();
        let severities = self.incidents.assess(rows, rating);
        let overdue = self.incidents.overdue(now);
        severities
            .iter()
            .map(|n| notify::alert(n, public_url, now))
            .chain(
                overdue
                    .iter()
                    .map(|n| notify::overdue_alert(n, public_url, now)),
            )
            .collect()
    }

    fn slo_index(&self, name: Option<&str>) -> Option<usize> {
        let name = name?;
        self.cfg.slos.iter().position(|s| s.name == name)
    }

    fn fleet_figures(&self, inner: &Inner, now: u64) -> FleetFigures {
        let players = inner
            .worlds
            .values()
            .filter_map(|w| w.gauges.get(liveops_protocol::signal::PLAYERS_ONLINE))
            .filter(|v| v.is_finite() && **v > 0.0)
            .sum();
        let payments = self
            .slo_index(self.cfg.incidents.payments_slo.as_deref())
            .map_or(0.0, |i| {
                inner
                    .engine
                    .window(Scope::Fleet, i, now, self.cfg.incidents.impact_window)
                    .total
            });
        FleetFigures { players, payments }
    }

    fn world_figures(&self, inner: &Inner, world: &str, now: u64) -> WorldFigures {
        let cfg = &self.cfg.incidents;
        let mut f = WorldFigures {
            world: world.to_owned(),
            ..WorldFigures::default()
        };
        let window = cfg.impact_window;
        let counts = |i: Option<usize>| {
            i.map_or(Counts::default(), |i| {
                inner.engine.window(Scope::World(world), i, now, window)
            })
        };
        f.payments = counts(self.slo_index(cfg.payments_slo.as_deref()));
        f.logins = counts(self.slo_index(cfg.logins_slo.as_deref()));
        if let Some(seen) = inner.worlds.get(world) {
            f.players = seen
                .gauges
                .get(liveops_protocol::signal::PLAYERS_ONLINE)
                .copied()
                .unwrap_or(0.0);
            let silent = u128::from(now.saturating_sub(seen.last_report_ms))
                > self.cfg.no_data_after.as_millis();
            let h = &seen.health;
            f.down = silent || !h.up || !h.probe_ok || h.stalled;
            if silent {
                f.first_bad_ms = Some(seen.last_report_ms);
            }
        }
        for (i, slo) in self.cfg.slos.iter().enumerate() {
            let c = inner.engine.window(Scope::World(world), i, now, window);
            if c.total < cfg.min_events.max(f64::MIN_POSITIVE) || !outside(c, slo.objective) {
                continue;
            }
            f.outside.push(slo.name.clone());
            if let Some(at) = first_bad_second(inner, world, i, slo.objective, now) {
                f.first_bad_ms = Some(f.first_bad_ms.map_or(at, |m| m.min(at)));
            }
        }
        f
    }
}

fn outside(c: Counts, objective: f64) -> bool {
    burn::error_ratio(c).is_some_and(|e| e > 1.0 - objective)
}

/// The start of the run of seconds, ending now, in which SLO `i` of `world`
/// was outside its objective (seconds without events neither end nor
/// extend it, up to a few).
fn first_bad_second(inner: &Inner, world: &str, i: usize, objective: f64, now: u64) -> Option<u64> {
    let mut first = None;
    let mut empty = 0;
    for k in 0..WALK_BACK_S {
        let end = now.saturating_sub(k * 1000);
        let c = inner
            .engine
            .window(Scope::World(world), i, end, Duration::from_secs(1));
        if c.total <= 0.0 {
            empty += 1;
            if empty > EMPTY_ENDS_WALK {
                break;
            }
            continue;
        }
        empty = 0;
        if !outside(c, objective) {
            break;
        }
        first = Some(end.saturating_sub(1000));
    }
    first
}
