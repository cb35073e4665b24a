//! The state's life on disk: journal entries written per report, the
//! checkpoint, and restoring both at start. See [`crate::store`] for the
//! sled side.

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

/// Worlds one hold of the lock cuts for a checkpoint.
const CUT_SLICE: usize = 250;

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    /// Where the first slice of worlds was cut: the journal is replayed,
    /// and kept, from here.
    journal_position: u64,
    /// Where each later slice was cut, by the last world of the slice
    /// before it, in name order: a world's series hold the journal up to
    /// the position of the last cut after a name before its own (the
    /// first slice's without one). Empty in checkpoints cut whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cuts: Vec<(String, u64)>,
    /// Every series, as checkpoints wrote them before the series had keys
    /// of their own ([`crate::slo::persist`]); read, no longer written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    engine: Option<EngineState>,
    agents: HashMap<String, AgentSeen>,
    worlds: BTreeMap<String, WorldSeen>,
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
        let mut replayed = 0;
        for (pos, e) in self.store.journal_after::<JournalEntry>(after)? {
            // Of a world cut later than the first slice, the entries up to
            // its cut are in its series already.
            if pos > cuts.position_of(&e.world) {
                apply(&mut inner, e);
                replayed += 1;
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

    /// Writes a checkpoint and drops the journal it covers.
    ///
    /// Under the state lock only what changed is copied: the series chunks
    /// changed since the last checkpoint ([`crate::slo::persist`]), and the
    /// worlds without their gauge history, which is not persisted. Writing
    /// every series each time cost seconds at ten thousand worlds. The
    /// journal position is read under the same lock, and reports are
    /// journaled under it too, so the checkpoint holds exactly the entries
    /// up to that position and the replay after a restart exactly those
    /// after it; chunks and the checkpoint record are written in one batch,
    /// so a crash leaves both or neither.
    pub fn checkpoint(&self) -> Result<(), CollectorError> {
        self.checkpoint_then(|| {})
    }

    /// [`Shared::checkpoint`] on a thread of its own, which lowers its
    /// priority once the cut under the lock is taken: writing a checkpoint
    /// of ten thousand worlds takes a while, and the reports arriving
    /// meanwhile come first. Blocking.
    pub fn checkpoint_in_background(&self) -> Result<(), CollectorError> {
        // Lowered only after the cut: at a low priority while holding the
        // lock, it would keep every report waiting for longer.
        self.checkpoint_then(|| crate::background::lower_priority(crate::background::HOLDS_NOTHING))
    }

    fn checkpoint_then(&self, after_cut: impl FnOnce()) -> Result<(), CollectorError> {
        let started = std::time::Instant::now();
        let written = self.write_checkpoint(CUT_SLICE, || {}, after_cut);
        self.metrics
            .checkpoint
            .record(started.elapsed().as_secs_f64());
        written
    }

    /// Cuts `slice` worlds per hold of the lock, each at the journal
    /// position of its own cut (reports are journaled under the lock, so a
    /// slice holds exactly the entries up to it), and runs `between`
    /// between two holds (where reports come in; a test's hook). Copying
    /// ten thousand worlds at once kept every report waiting for 40-90 ms:
    /// a slice ages, copies the chunks of and copies the worlds it cuts
    /// and nothing else, so the longest hold stays a few milliseconds.
    pub(super) fn write_checkpoint(
        &self,
        slice: usize,
        mut between: impl FnMut(),
        after_cut: impl FnOnce(),
    ) -> Result<(), CollectorError> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        // One vector a slice: appending them into one would copy the
        // chunks taken so far under the lock.
        let mut chunks = Vec::new();
        let mut cuts = Vec::new();
        let mut worlds = BTreeMap::new();
        let mut journal_position = None;
        let mut after: Option<String> = None;
        let (mut held, mut longest) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        let agents = loop {
            let mut inner = self.lock();
            let taken = std::time::Instant::now();
            let position = self.store.journal_position();
            match &after {
                None => journal_position = Some(position),
                Some(a) => cuts.push((a.clone(), position)),
            }
            let (ops, last) = inner
                .engine
                .checkpoint_slice(after.as_deref(), slice, now_ms());
            chunks.push(ops);
            // The worlds as of their slice's cut: the entries replayed
            // after it are the ones they do not reflect yet (see `apply`).
            let range = (
                after.as_deref().map_or(Unbounded, Excluded),
                last.as_deref().map_or(Unbounded, Included),
            );
            for (name, w) in inner.worlds.range::<str, _>(range) {
                worlds.insert(name.clone(), w.without_history());
            }
            if last.is_none() {
                // Agents as of the last cut: replaying an older entry
                // leaves an agent's newest sequence number as it is.
                let agents = inner.agents.clone();
                drop(inner);
                let hold = taken.elapsed();
                (held, longest) = (held + hold, longest.max(hold));
                break agents;
            }
            after = last;
            drop(inner);
            let hold = taken.elapsed();
            (held, longest) = (held + hold, longest.max(hold));
            super::let_reports_in(hold);
            between();
        };
        tracing::debug!(
            slices = cuts.len() + 1,
            held_ms = held.as_secs_f64() * 1e3,
            longest_ms = longest.as_secs_f64() * 1e3,
            "checkpoint cut"
        );
        let journal_position = journal_position.expect("the first cut sets it");
        after_cut();
        let chunks = chunks.into_iter().flatten();
        let cp = Checkpoint {
            journal_position,
            cuts,
            engine: None,
            agents,
            worlds,
        };
        // On disk before the journal it covers is deleted: a crash between
        // the two must find the checkpoint, not only a shorter journal.
        let started = std::time::Instant::now();
        let written = self
            .store
            .put_checkpoint(CHECKPOINT, &cp, chunks, cp.journal_position);
        let put = started.elapsed();
        let written = written.and_then(|()| self.store.flush());
        if let Err(e) = written {
            // What was taken is not on disk: the next checkpoint writes
            // every series again rather than only what changes until then.
            self.lock().engine.mark_all_changed();
            return Err(e);
        }
        let flushed = started.elapsed();
        self.store.truncate_journal(cp.journal_position)?;
        let done = self.store.flush();
        tracing::debug!(
            put_ms = put.as_secs_f64() * 1e3,
            flushed_ms = flushed.as_secs_f64() * 1e3,
            done_ms = started.elapsed().as_secs_f64() * 1e3,
            "checkpoint written"
        );
        done
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

#[cfg(test)]
#[path = "persist_tests.rs"]
mod tests;
