//! SLO math: what each report means for each SLO, kept over time, per world.
//!
//! Pure: no I/O, no clock. The caller passes `now_ms` (Unix milliseconds) to
//! everything that looks at time, so tests can replay days in microseconds.
//!
//! # Layout
//!
//! - [`sample`]: one report → good/total [`Counts`] for one SLO.
//! - [`series`]: those counts over time at seconds, minutes and hours.
//! - [`burn`]: SLI, error ratio, burn rate and remaining budget of a window.
//! - [`fleet`]: every world's series of an SLO added up as samples arrive.
//! - [`Engine`] (here): one series per (world, SLO), the fleet's, and the
//!   status the API shows; [`persist`]: its series in the store.

pub mod burn;
pub mod fleet;
pub mod persist;
pub mod sample;
pub mod series;
mod status;
#[cfg(test)]
pub(crate) mod test_support;
mod view;

use std::collections::BTreeMap;
use std::time::Duration;

use liveops_config::Slo;
use liveops_protocol::Report;
use serde::{Deserialize, Serialize};

use fleet::FleetSeries;
pub use sample::{Counts, sample};
pub use series::{Series, SeriesState};
pub use status::{SloStatus, WindowBurn};
pub use view::View;

/// Whose events a question is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    World(&'a str),
    /// Every world's events added up.
    Fleet,
}

impl Scope<'_> {
    /// The `world` label of alerts and status rows: the world, or `fleet`.
    pub fn label(&self) -> &str {
        match self {
            Scope::World(w) => w,
            Scope::Fleet => "fleet",
        }
    }
}

/// The SLO series of every world that has reported.
#[derive(Debug)]
pub struct Engine {
    slos: Vec<Slo>,
    worlds: BTreeMap<String, World>,
    /// One per SLO: the sum of every world's series.
    fleet: Vec<FleetSeries>,
    /// Every world's `first_ms`, counted: the fleet's history without
    /// looking at each world.
    firsts: BTreeMap<u64, usize>,
    /// Worlds pruned since the last checkpoint, whose stored series it
    /// deletes.
    forgotten: Vec<String>,
}

#[derive(Clone, Debug)]
struct World {
    /// Latest sample time, to forget worlds gone for longer than any SLO
    /// period.
    last_ms: u64,
    /// Earliest sample time: how much history the world's windows hold.
    first_ms: u64,
    /// One per SLO, in the order of [`Engine::slos`].
    series: Vec<Series>,
}

/// Minute and hour buckets of each (world, SLO) as one document: how
/// checkpoints stored the series before [`persist`]'s chunks, still read by
/// [`Engine::import`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    pub series: Vec<SeriesEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesEntry {
    pub world: String,
    /// SLOs are matched by name on import.
    pub slo: String,
    pub state: SeriesState,
}

impl Engine {
    pub fn new(slos: Vec<Slo>) -> Engine {
        let fleet = slos
            .iter()
            .map(|s| FleetSeries::like(&Series::new(s.period)))
            .collect();
        Engine {
            slos,
            worlds: BTreeMap::new(),
            fleet,
            firsts: BTreeMap::new(),
            forgotten: Vec::new(),
        }
    }

    pub fn slos(&self) -> &[Slo] {
        &self.slos
    }

    /// Samples every SLO from `report` into its world's series. Duplicate
    /// reports must be dropped before (by sequence number): this adds. So
    /// must reports from the future (an agent clock far ahead): a sample
    /// past a ring's newest bucket moves the ring forward, emptying it.
    pub fn ingest(&mut self, report: &Report) {
        let counts: Vec<Counts> = self.slos.iter().map(|slo| sample(slo, report)).collect();
        // A report covers [start, end): its events belong before `end`.
        self.add_samples(&report.world, report.end_ms.saturating_sub(1), &counts);
    }

    /// Adds already sampled counts (`counts[i]` for SLO `i`, as [`sample`]
    /// made them) at `at_ms`: for replaying a journal without the reports.
    /// Counts beyond the configured SLOs are ignored; missing ones add
    /// nothing.
    pub fn add_samples(&mut self, world: &str, at_ms: u64, counts: &[Counts]) {
        let world = world_mut(&mut self.worlds, &self.slos, world);
        world.last_ms = world.last_ms.max(at_ms);
        move_first(&mut self.firsts, world, at_ms);
        for ((series, fleet), c) in world.series.iter_mut().zip(&mut self.fleet).zip(counts) {
            series.add_telling(at_ms, *c, &mut |change| fleet.apply(change));
        }
    }

    /// Worlds that have reported within the longest SLO period, by name.
    pub fn worlds(&self) -> impl Iterator<Item = &str> {
        self.worlds.keys().map(String::as_str)
    }

    /// Fleet first, then every world by name.
    pub fn scopes(&self) -> impl Iterator<Item = Scope<'_>> {
        std::iter::once(Scope::Fleet).chain(self.worlds().map(Scope::World))
    }

    /// How far back the scope's data reaches (zero before any sample); the
    /// fleet's is that of its oldest world.
    pub fn history(&self, scope: Scope<'_>, now_ms: u64) -> Duration {
        let first = match scope {
            Scope::World(w) => self.worlds.get(w).map_or(u64::MAX, |w| w.first_ms),
            Scope::Fleet => self.firsts.keys().next().copied().unwrap_or(u64::MAX),
        };
        Duration::from_millis(now_ms.saturating_sub(first.min(now_ms)))
    }

    /// Counts of SLO number `slo` over `[now - window, now)`. Zero for an
    /// unknown world or SLO.
    pub fn window(&self, scope: Scope<'_>, slo: usize, now_ms: u64, window: Duration) -> Counts {
        let series = match scope {
            Scope::World(name) => self.worlds.get(name).and_then(|w| w.series.get(slo)),
            Scope::Fleet => {
                return self
                    .fleet
                    .get(slo)
                    .map(|f| f.sum(now_ms, window))
                    .unwrap_or_default();
            }
        };
        series.map(|s| s.sum(now_ms, window)).unwrap_or_default()
    }

    /// Ages every series to `now_ms` and forgets worlds with no report
    /// within their longest SLO period (decommissioned worlds).
    pub fn prune(&mut self, now_ms: u64) {
        self.prune_slice(None, usize::MAX, now_ms);
    }

    /// [`Engine::prune`] of at most `limit` worlds after `after` in name
    /// order, and the last of them (`None`: none left after `after`). A
    /// checkpoint prunes a slice at a time: ageing ten thousand worlds'
    /// series at once held every report up.
    fn prune_slice(&mut self, after: Option<&str>, limit: usize, now_ms: u64) -> Option<String> {
        use std::ops::Bound::{Excluded, Unbounded};
        let longest = self.slos.iter().map(|s| s.period).max().unwrap_or_default();
        let keep_ms = u64::try_from(longest.as_millis()).unwrap_or(u64::MAX);
        let (worlds, fleet) = (&mut self.worlds, &mut self.fleet);
        let mut stale = Vec::new();
        let mut last = None;
        let from = after.map_or(Unbounded, Excluded);
        for (name, w) in worlds.range_mut::<str, _>((from, Unbounded)).take(limit) {
            if now_ms.saturating_sub(w.last_ms) > keep_ms {
                stale.push(name.clone());
            } else {
                for (series, fleet) in w.series.iter_mut().zip(fleet.iter_mut()) {
                    series.prune_telling(now_ms, &mut |change| fleet.apply(change));
                }
            }
            last = Some(name);
        }
        let last = last.cloned();
        for name in stale {
            if let Some(w) = self.worlds.remove(&name) {
                forget(&mut self.fleet, &mut self.firsts, &w);
                self.forgotten.push(name);
            }
        }
        last
    }

    /// Replaces the series named in `state` (a checkpoint of an earlier
    /// version); entries of SLOs no longer configured are ignored. Every
    /// series it fills counts as changed, so the next checkpoint writes it
    /// as chunks. Meant for start-up, before any report: an
    /// SLO renamed in config starts afresh, one redefined under the same
    /// name keeps its history.
    pub fn import(&mut self, state: EngineState) {
        for entry in state.series {
            let Some(i) = self.slos.iter().position(|s| s.name == entry.slo) else {
                continue;
            };
            let period = self.slos[i].period;
            let world = world_mut(&mut self.worlds, &self.slos, &entry.world);
            world.last_ms = world.last_ms.max(entry.state.newest_ms().unwrap_or(0));
            move_first(
                &mut self.firsts,
                world,
                entry.state.oldest_ms().unwrap_or(u64::MAX),
            );
            let fleet = &mut self.fleet[i];
            world.series[i].drain(&mut |change| fleet.apply(change));
            world.series[i] =
                Series::import_telling(period, &entry.state, &mut |change| fleet.apply(change));
        }
    }
}

/// Lowers `world.first_ms` to `at_ms` if earlier, keeping `firsts` in step.
fn move_first(firsts: &mut BTreeMap<u64, usize>, world: &mut World, at_ms: u64) {
    if at_ms >= world.first_ms {
        return;
    }
    uncount(firsts, world.first_ms);
    world.first_ms = at_ms;
    *firsts.entry(at_ms).or_default() += 1;
}

fn uncount(firsts: &mut BTreeMap<u64, usize>, first_ms: u64) {
    if let Some(n) = firsts.get_mut(&first_ms) {
        *n -= 1;
        if *n == 0 {
            firsts.remove(&first_ms);
        }
    }
}

/// Takes a world that is being forgotten out of the fleet.
fn forget(fleet: &mut [FleetSeries], firsts: &mut BTreeMap<u64, usize>, world: &World) {
    uncount(firsts, world.first_ms);
    for (series, fleet) in world.series.iter().zip(fleet) {
        series.drain(&mut |change| fleet.apply(change));
    }
}

/// The world named `name`, created with empty series on first sight.
fn world_mut<'a>(
    worlds: &'a mut BTreeMap<String, World>,
    slos: &[Slo],
    name: &str,
) -> &'a mut World {
    // Not `entry(name.to_string())`: that would allocate on every report.
    if !worlds.contains_key(name) {
        let series = slos.iter().map(|s| Series::new(s.period)).collect();
        worlds.insert(
            name.to_string(),
            World {
                last_ms: 0,
                first_ms: u64::MAX,
                series,
            },
        );
    }
    worlds.get_mut(name).expect("inserted above")
}

/// `300 s` → `5m`, `90 s` → `1m30s`, `3 days` → `3d`: the form the config
/// and the dashboards use, without humantime's spaces and `days`.
pub fn window_name(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut rest = secs;
    let mut out = String::new();
    for (size, unit) in units {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod fleet_tests;
