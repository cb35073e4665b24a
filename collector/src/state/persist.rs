//! The state's life on disk: journal entries written per report, the
//! records a checkpoint writes ([`super::checkpoint`] writes them), and
//! restoring both at start. See [`crate::store`] for the sled side.

use std::collections::{BTreeMap, HashMap};

use liveops_protocol::Health;
use serde::{Deserialize, Serialize};

use super::{AgentSeen, HISTORY_MAX, Inner, Shared, WorldSeen};
use crate::alert::AlertBook;
use crate::slo::persist::{Loaded, PREFIX};
use crate::slo::{Counts, EngineState};
use crate::store::{ALERTS, CHECKPOINT};
use crate::{CollectorError, now_ms};

#[derive(Serialize, Deserialize)]
pub(super) struct JournalEntry {
    pub(super) agent: String,
    pub(super) seq: u64,
    pub(super) world: String,
    pub(super) at_ms: u64,
    pub(super) received_ms: u64,
    pub(super) samples: Vec<(String, Counts)>,
    pub(super) health: Health,
    /// The gauges the collector watches (a backlog metric, players
    /// online), each summed over its tag sets.
    #[serde(default)]
    pub(super) gauges: BTreeMap<String, f64>,
}

/// Where each world's own record is kept: [`SEEN`] + world name, a
/// [`Seen`], written with the world's series chunks in one batch.
pub(super) const SEEN: &[u8] = b"seen/";

/// A world as of its slice's cut, and the journal position of that cut:
/// its series hold the entries up to it, and a restore replays the rest.
/// Each slice of a checkpoint is a batch of its own, so a world's position
/// travels with its chunks, whatever became of the other slices.
#[derive(Serialize, Deserialize)]
pub(super) struct Seen {
    pub(super) position: u64,
    pub(super) world: WorldSeen,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Checkpoint {
    /// Where the first slice of worlds was cut: the journal is replayed,
    /// and kept, from here.
    pub(super) journal_position: u64,
    /// Where each later slice was cut, by the last world of the slice
    /// before it, in name order: a world's series hold the journal up to
    /// the position of the last cut after a name before its own (the
    /// first slice's without one). Empty in checkpoints cut whole.
    /// Written empty now that each world has its [`Seen`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) cuts: Vec<(String, u64)>,
    /// Every series, as checkpoints wrote them before the series had keys
    /// of their own ([`crate::slo::persist`]); read, no longer written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) engine: Option<EngineState>,
    /// Every agent as of the last cut.
    pub(super) agents: HashMap<String, AgentSeen>,
    /// Every world, in checkpoints written before [`Seen`]; written empty.
    #[serde(default)]
    pub(super) worlds: BTreeMap<String, WorldSeen>,
}

impl Checkpoint {
    /// The journal position up to which `world`'s series are in this
    /// checkpoint: its entries after it are replayed, those before not.
    fn position_of(&self, world: &str) -> u64 {
        let i = self
            .cuts
            .partition_point(|(after, _)| after.as_str() < world);
        i.checked_sub(1)
            .map_or(self.journal_position, |i| self.cuts[i].1)
    }
}

impl Shared {
    /// Loads the checkpoint and replays the journal written after it.
    pub fn restore(&self) -> Result<(), CollectorError> {
        let mut inner = self.lock();
        let mut after = 0;
        let mut unconfigured = Vec::new();
        for item in self.store.scan(PREFIX) {
            let (k, v) = item?;
            match inner.engine.load_chunk(&k, &v) {
                Ok(Loaded::Added) => {}
                Ok(Loaded::Unconfigured) => unconfigured.push(k),
                Err(e) => {
                    tracing::warn!(error = %e, key = %String::from_utf8_lossy(&k), "skipping an unreadable series chunk")
                }
            }
        }
        inner.engine.finish_load();
        // Series of SLOs no longer in the config: nothing reads them again.
        self.store.remove(unconfigured)?;
        let mut cuts = Checkpoint {
            journal_position: 0,
            cuts: Vec::new(),
            engine: None,
            agents: HashMap::new(),
            worlds: BTreeMap::new(),
        };
        if let Some(mut cp) = self.store.get::<Checkpoint>(CHECKPOINT)? {
            if let Some(engine) = cp.engine.take() {
                inner.engine.import(engine);
            }
            inner.agents = std::mem::take(&mut cp.agents);
            inner.worlds = std::mem::take(&mut cp.worlds);
            after = cp.journal_position;
            cuts = cp;
        }
        let mut positions = HashMap::new();
        for item in self.store.scan(SEEN) {
            let (k, v) = item?;
            let name = String::from_utf8_lossy(&k[SEEN.len()..]).into_owned();
            match serde_json::from_slice::<Seen>(&v) {
                Ok(seen) => {
                    positions.insert(name.clone(), seen.position);
                    inner.worlds.insert(name, seen.world);
                }
                // Its entries are replayed from the checkpoint's position,
                // as for a world never cut.
                Err(e) => {
                    tracing::warn!(error = %e, world = %name, "skipping an unreadable world record")
                }
            }
        }
        let mut replayed = 0;
        for (pos, e) in self.store.journal_after::<JournalEntry>(after)? {
            // Of a world cut later than the first slice, the entries up to
            // its cut are in its series already; its agent's sequence
            // number still moves on, in case the agents' record is older.
            let cut = positions
                .get(&e.world)
                .copied()
                .unwrap_or_else(|| cuts.position_of(&e.world));
            if pos > cut {
                apply(&mut inner, e);
                replayed += 1;
            } else {
                saw_agent(&mut inner, &e);
            }
        }
        if let Some(book) = self.store.get::<AlertBook>(ALERTS)? {
            inner.book = book;
        }
        // The collector was away, not necessarily the agents: give every
        // world a fresh no-data grace period instead of paging AgentSilent
        // for all of them the moment the collector is back. A world whose
        // agent was already silent stays silent: its alert must not resolve
        // and page again.
        let silent: Vec<String> = inner
            .book
            .active()
            .into_iter()
            .filter(|a| a.labels.get("alertname").map(String::as_str) == Some("AgentSilent"))
            .filter_map(|a| a.labels.get("world").cloned())
            .collect();
        let now = now_ms();
        for (world, w) in inner.worlds.iter_mut() {
            if !silent.contains(world) {
                w.last_report_ms = w.last_report_ms.max(now);
            }
        }
        tracing::info!(
            worlds = inner.worlds.len(),
            replayed,
            alerts = inner.book.len(),
            "collector state restored"
        );
        Ok(())
    }
}

impl WorldSeen {
    /// A copy of what a checkpoint keeps.
    pub(super) fn without_history(&self) -> WorldSeen {
        WorldSeen {
            last_report_ms: self.last_report_ms,
            report_end_ms: self.report_end_ms,
            agent: self.agent.clone(),
            health: self.health.clone(),
            gauges: self.gauges.clone(),
            history: BTreeMap::new(),
        }
    }
}

/// The agent of `e` has sent up to `e.seq` at least.
fn saw_agent(inner: &mut Inner, e: &JournalEntry) {
    let agent = inner.agents.entry(e.agent.clone()).or_insert(AgentSeen {
        world: e.world.clone(),
        last_seq: 0,
    });
    agent.last_seq = agent.last_seq.max(e.seq);
    agent.world = e.world.clone();
}

pub(super) fn apply(inner: &mut Inner, e: JournalEntry) {
    let counts: Vec<Counts> = inner
        .engine
        .slos()
        .iter()
        .map(|slo| {
            e.samples
                .iter()
                .find(|(n, _)| *n == slo.name)
                .map(|(_, c)| *c)
                .unwrap_or_default()
        })
        .collect();
    inner.engine.add_samples(&e.world, e.at_ms, &counts);
    saw_agent(inner, &e);
    // Replayed spool backlogs arrive oldest first; only a newer interval
    // may replace what is known of the world now.
    let newer = inner
        .worlds
        .get(&e.world)
        .is_none_or(|w| e.at_ms >= w.report_end_ms);
    let keep_ms = inner.history_ms;
    if newer {
        let seen = inner.worlds.entry(e.world).or_insert_with(|| WorldSeen {
            last_report_ms: 0,
            report_end_ms: 0,
            agent: String::new(),
            health: Health::default(),
            gauges: BTreeMap::new(),
            history: BTreeMap::new(),
        });
        seen.last_report_ms = e.received_ms;
        seen.report_end_ms = e.at_ms;
        seen.agent = e.agent;
        seen.health = e.health;
        for (name, value) in &e.gauges {
            let h = seen.history.entry(name.clone()).or_default();
            h.push_back((e.received_ms, *value));
            // Enough for the longest window a rule looks at, no more.
            while h.len() > HISTORY_MAX
                || h.front()
                    .is_some_and(|(t, _)| e.received_ms.saturating_sub(*t) > keep_ms)
            {
                h.pop_front();
            }
        }
        // A gauge keeps its last value while reports lack it: a world gone
        // down stops sending `players.online`, and its last count is the
        // players locked out.
        seen.gauges.extend(e.gauges);
    } else if let Some(w) = inner.worlds.get_mut(&e.world) {
        // An old report still proves the agent is alive.
        w.last_report_ms = w.last_report_ms.max(e.received_ms);
    }
}

#[cfg(test)]
#[path = "persist_tests.rs"]
mod tests;
