//! The state's life on disk: journal entries written per report, the
//! checkpoint, and restoring both at start. See [`crate::store`] for the
//! sled side.

use std::collections::{BTreeMap, HashMap};

use liveops_protocol::Health;
use serde::{Deserialize, Serialize};

use super::{AgentSeen, HISTORY_MAX, Inner, Shared, WorldSeen};
use crate::alert::AlertBook;
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

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    journal_position: u64,
    engine: EngineState,
    agents: HashMap<String, AgentSeen>,
    worlds: BTreeMap<String, WorldSeen>,
}

impl Shared {
    /// Loads the checkpoint and replays the journal written after it.
    pub fn restore(&self) -> Result<(), CollectorError> {
        let mut inner = self.lock();
        let mut after = 0;
        if let Some(cp) = self.store.get::<Checkpoint>(CHECKPOINT)? {
            inner.engine.import(cp.engine);
            inner.agents = cp.agents;
            inner.worlds = cp.worlds;
            after = cp.journal_position;
        }
        let entries = self.store.journal_after::<JournalEntry>(after)?;
        let replayed = entries.len();
        for (_, e) in entries {
            apply(&mut inner, e);
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

    /// Writes a checkpoint and drops the journal it covers.
    ///
    /// Under the state lock only a snapshot is taken: the engine's series
    /// are shared, not copied (a world is copied by the first report that
    /// changes it while the checkpoint is written), and the worlds are
    /// copied without their gauge history, which is not persisted.
    /// Exporting and serialising every series under the lock held up every
    /// report for as long, once per checkpoint. The journal position is read
    /// under the same lock as the snapshot, and reports are journaled under
    /// it too, so the checkpoint holds exactly the entries up to that
    /// position and the replay after a restart exactly those after it.
    pub fn checkpoint(&self) -> Result<(), CollectorError> {
        let (journal_position, engine, agents, worlds) = {
            let mut inner = self.lock();
            // Before the snapshot: pruning touches every world, which is
            // cheap only while none is shared.
            inner.engine.prune(now_ms());
            let worlds: BTreeMap<String, WorldSeen> = inner
                .worlds
                .iter()
                .map(|(name, w)| (name.clone(), w.without_history()))
                .collect();
            (
                self.store.journal_position(),
                inner.engine.snapshot(),
                inner.agents.clone(),
                worlds,
            )
        };
        let cp = Checkpoint {
            journal_position,
            engine: engine.export(),
            agents,
            worlds,
        };
        drop(engine);
        self.store.put(CHECKPOINT, &cp)?;
        self.store.truncate_journal(cp.journal_position)?;
        self.store.flush()
    }
}

impl WorldSeen {
    /// A copy of what a checkpoint keeps.
    fn without_history(&self) -> WorldSeen {
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
    let agent = inner.agents.entry(e.agent.clone()).or_insert(AgentSeen {
        world: e.world.clone(),
        last_seq: 0,
    });
    agent.last_seq = agent.last_seq.max(e.seq);
    agent.world = e.world.clone();
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
        seen.gauges = e.gauges;
    } else if let Some(w) = inner.worlds.get_mut(&e.world) {
        // An old report still proves the agent is alive.
        w.last_report_ms = w.last_report_ms.max(e.received_ms);
    }
}
