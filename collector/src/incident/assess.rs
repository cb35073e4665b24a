//! Re-rating incidents as they run: each measurement of player impact is
//! recorded (with its peaks and the payments lost), may mark the moment
//! every SLO was back within objective, and sets the computed severity:
//! at once when it rises, after `settle` when it falls.

use liveops_config::SeverityRule;

use super::book::{Book, LIVEOPS};
use super::impact::{Impact, rate};
use super::model::{Entry, Sev, What};

/// How measurements are rated.
#[derive(Clone, Copy, Debug)]
pub struct Rating<'a> {
    pub rules: &'a [SeverityRule],
    pub settle_ms: u64,
    /// The impact window: no measurement stands for longer than it.
    pub window_ms: u64,
}

/// A change of the severity in force: from, to, why.
pub type SevChange = (Sev, Sev, String);

impl Book {
    /// The incidents still being worked on that name worlds: what the
    /// collector measures.
    pub fn measured(&self) -> Vec<(u64, Vec<String>)> {
        self.incidents
            .values()
            .filter(|i| i.state.is_active() && !i.worlds.is_empty())
            .map(|i| (i.id, i.worlds.iter().cloned().collect()))
            .collect()
    }

    /// Records `impact` on `id`; returns the severity change it caused.
    pub fn assess(
        &mut self,
        id: u64,
        impact: Impact,
        first_bad_ms: Option<u64>,
        r: Rating<'_>,
    ) -> Option<SevChange> {
        let inc = self
            .incidents
            .get_mut(&id)
            .filter(|i| i.state.is_active())?;
        self.dirty.insert(id);
        let at = impact.at_ms.max(inc.last_ms());
        if let Some(fb) = first_bad_ms {
            let m = inc.marks.first_bad_ms.map_or(fb, |m| m.min(fb));
            inc.marks.first_bad_ms = Some(m.min(at));
        }
        let rec = inc.impact.get_or_insert_default();
        if rec.now.at_ms > 0 {
            let elapsed = at.saturating_sub(rec.now.at_ms).min(r.window_ms);
            rec.payments_failed += impact.payments_failing_per_min * elapsed as f64 / 60_000.0;
        }
        let was_affected = rec.peak_worlds > 0;
        rec.peak_players = rec.peak_players.max(impact.players);
        rec.peak_players_share = rec.peak_players_share.max(impact.players_share);
        rec.peak_worlds = rec.peak_worlds.max(impact.affected.len());
        let recovered = was_affected && impact.affected.is_empty();
        if recovered && inc.marks.mitigated_ms.is_none() {
            inc.marks.mitigated_ms = Some(at);
            inc.timeline.push(Entry {
                at_ms: at,
                by: LIVEOPS.into(),
                what: What::Signal {
                    source: "impact".into(),
                    event: "mitigated".into(),
                    world: None,
                },
                text: format!(
                    "every SLO back within objective in {}",
                    impact.mitigated.join(", ")
                ),
            });
        }
        let (target, why) = rate(&impact, r.rules);
        rec.now = impact;
        let apply = match inc.severity.computed {
            None => true,
            Some(c) if target < c => true,
            Some(c) if target == c => {
                rec.lower_since_ms = None;
                false
            }
            Some(_) => {
                let since = *rec.lower_since_ms.get_or_insert(at);
                at.saturating_sub(since) >= r.settle_ms
            }
        };
        if !apply {
            return None;
        }
        rec.lower_since_ms = None;
        let from = inc.severity.current();
        inc.severity.computed = Some(target);
        let to = inc.severity.current();
        if from == to {
            return None;
        }
        inc.timeline.push(Entry {
            at_ms: at,
            by: LIVEOPS.into(),
            what: What::Severity { from, to },
            text: why.clone(),
        });
        Some((from, to, why))
    }
}

#[cfg(test)]
#[path = "assess_tests.rs"]
mod tests;
