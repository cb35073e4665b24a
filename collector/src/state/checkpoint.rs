//! Checkpoints: the state's series, worlds and agents written to the store
//! a slice of worlds at a time, so that the journal they cover can go.
//!
//! Two threads share the work. The cutter takes the state lock once per
//! slice of [`CUT_SLICE`] worlds, copies what changed and lets it go; the
//! writer, at the lowest priority, writes each slice as a batch of its own
//! while the cutter waits before the next. A checkpoint of ten thousand
//! worlds is some 65 MB for the disk: written at once, it queued the
//! journal's `fdatasync`, which every report's answer waits for, behind it
//! (on tmpfs the same checkpoint slowed no report). Spread over
//! [`CUT_SPREAD`], the disk has room for both.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::persist::{Checkpoint, SEEN, Seen};
use super::{Shared, WorldSeen, let_reports_in};
use crate::slo::persist::StoreOp;
use crate::store::{CHECKPOINT, KeyValue};
use crate::{CollectorError, now_ms};

/// Worlds one hold of the lock cuts for a checkpoint.
const CUT_SLICE: usize = 250;
/// How long a checkpoint in the background takes to cut its slices, at
/// most: well inside the interval between two checkpoints.
const CUT_SPREAD: Duration = Duration::from_secs(10);

/// What the cutter hands the writer.
enum Batch {
    /// A slice's chunks, and its worlds as of its cut at a position.
    Slice(Vec<StoreOp>, Vec<(String, WorldSeen)>, u64),
    /// The agents, and where the journal may be cut: the last batch.
    Last(Checkpoint),
}

impl Shared {
    /// Writes a checkpoint and drops the journal it covers, at once (on
    /// the way out).
    ///
    /// Under the state lock only what changed is copied: the series chunks
    /// changed since the last checkpoint ([`crate::slo::persist`]), and the
    /// worlds without their gauge history, which is not persisted. Reports
    /// are journaled under the same lock, so each slice holds exactly the
    /// entries up to the journal position of its cut; each slice's chunks
    /// and its worlds' positions are written in one batch, so that after a
    /// crash a world's series and its position are both of one slice.
    pub fn checkpoint(&self) -> Result<(), CollectorError> {
        self.timed(|| self.write_checkpoint(CUT_SLICE, Duration::ZERO, |_| true, false))
    }

    /// [`Shared::checkpoint`] spread over [`CUT_SPREAD`], written by a
    /// thread at the lowest priority, beside the reports. Blocking.
    pub fn checkpoint_in_background(&self) -> Result<(), CollectorError> {
        self.timed(|| self.write_checkpoint(CUT_SLICE, CUT_SPREAD, |_| true, true))
    }

    fn timed(&self, f: impl FnOnce() -> Result<(), CollectorError>) -> Result<(), CollectorError> {
        let started = Instant::now();
        let written = f();
        self.metrics
            .checkpoint
            .record(started.elapsed().as_secs_f64());
        written
    }

    /// Cuts `slice` worlds per hold of the lock, each slice at the journal
    /// position of its own cut, spread over `spread`, and hands each to a
    /// writer thread (at the lowest priority if `lowered`). `between` runs
    /// between two cuts with how long the last one held the lock (where
    /// reports come in; a test's hook); `false` stops the checkpoint there,
    /// as a crash would, without its last batch.
    pub(super) fn write_checkpoint(
        &self,
        slice: usize,
        spread: Duration,
        between: impl FnMut(Duration) -> bool,
        lowered: bool,
    ) -> Result<(), CollectorError> {
        let (tx, rx) = mpsc::sync_channel::<Batch>(4);
        let (cut, written) = std::thread::scope(|scope| {
            let writer = std::thread::Builder::new()
                .name("checkpoint-write".into())
                .spawn_scoped(scope, move || {
                    if lowered {
                        crate::background::lower_priority(crate::background::HOLDS_NOTHING);
                    }
                    self.write_batches(rx)
                });
            let writer = match writer {
                Ok(w) => w,
                Err(e) => {
                    return (
                        Err(CollectorError::Task("checkpoint", e.to_string())),
                        Ok(()),
                    );
                }
            };
            let cut = self.cut_slices(slice, spread, between, &tx);
            drop(tx);
            let written = writer.join().unwrap_or_else(|_| {
                Err(CollectorError::Task("checkpoint", "writer panicked".into()))
            });
            (cut, written)
        });
        if let Err(e) = written {
            // What was taken is not all on disk: the next checkpoint writes
            // every series again rather than only what changes until then.
            self.lock().engine.mark_all_changed();
            return Err(e);
        }
        cut
    }

    fn cut_slices(
        &self,
        slice: usize,
        spread: Duration,
        mut between: impl FnMut(Duration) -> bool,
        tx: &mpsc::SyncSender<Batch>,
    ) -> Result<(), CollectorError> {
        // A closed channel: the writer failed and says why.
        let send = |b| {
            tx.send(b)
                .map_err(|_| CollectorError::Task("checkpoint", "writer stopped".into()))
        };
        let mut first = None;
        let mut after: Option<String> = None;
        let (mut held, mut longest, mut slices) = (Duration::ZERO, Duration::ZERO, 0u32);
        let mut apart = Duration::ZERO;
        let started = Instant::now();
        loop {
            let mut inner = self.lock();
            let taken = Instant::now();
            let position = self.store.journal_position();
            if first.is_none() {
                first = Some(position);
                let slices = inner.worlds.len().div_ceil(slice.max(1)).max(1);
                apart = spread / u32::try_from(slices).unwrap_or(u32::MAX);
            }
            let (ops, last) = inner
                .engine
                .checkpoint_slice(after.as_deref(), slice, now_ms());
            let range = (
                after.as_deref().map_or(Unbounded, Excluded),
                last.as_deref().map_or(Unbounded, Included),
            );
            let worlds: Vec<(String, WorldSeen)> = inner
                .worlds
                .range::<str, _>(range)
                .map(|(name, w)| (name.clone(), w.without_history()))
                .collect();
            // Agents as of the last cut: a replay moves an agent's sequence
            // number on from here, never back.
            let agents = last.is_none().then(|| inner.agents.clone());
            drop(inner);
            let hold = taken.elapsed();
            (held, longest, slices) = (held + hold, longest.max(hold), slices + 1);
            send(Batch::Slice(ops, worlds, position))?;
            if let Some(agents) = agents {
                let journal_position = first.expect("set by the first cut");
                tracing::debug!(
                    slices,
                    held_ms = held.as_secs_f64() * 1e3,
                    longest_ms = longest.as_secs_f64() * 1e3,
                    cut_ms = started.elapsed().as_secs_f64() * 1e3,
                    "checkpoint cut"
                );
                return send(Batch::Last(Checkpoint {
                    journal_position,
                    cuts: Vec::new(),
                    engine: None,
                    agents,
                    worlds: BTreeMap::new(),
                }));
            }
            after = last;
            let_reports_in(hold);
            std::thread::sleep(apart.saturating_sub(taken.elapsed()));
            if !between(hold) {
                return Ok(());
            }
        }
    }

    /// The writer's side: each slice in a batch of its own; after the last,
    /// the checkpoint record, then the journal it covers deleted.
    fn write_batches(&self, rx: mpsc::Receiver<Batch>) -> Result<(), CollectorError> {
        let started = Instant::now();
        for batch in rx {
            match batch {
                Batch::Slice(ops, worlds, position) => self
                    .store
                    .put_series(ops, seen_records(worlds, position)?)?,
                Batch::Last(cp) => {
                    // On disk (the slices before it with it: sled's log is
                    // in order) before the journal it covers is deleted: a
                    // crash between the two must find every slice and the
                    // checkpoint, not only a shorter journal.
                    self.store
                        .put_checkpoint(CHECKPOINT, &cp, cp.journal_position)?;
                    self.store.flush()?;
                    self.store.truncate_journal(cp.journal_position)?;
                    self.store.flush()?;
                    tracing::debug!(
                        written_ms = started.elapsed().as_secs_f64() * 1e3,
                        "checkpoint written"
                    );
                }
            }
        }
        Ok(())
    }
}

/// The records of `worlds` cut at `position`, as the store keeps them.
fn seen_records(
    worlds: Vec<(String, WorldSeen)>,
    position: u64,
) -> Result<Vec<KeyValue>, CollectorError> {
    worlds
        .into_iter()
        .map(|(name, world)| {
            let key = [SEEN, name.as_bytes()].concat();
            Ok((key, serde_json::to_vec(&Seen { position, world })?))
        })
        .collect()
}
