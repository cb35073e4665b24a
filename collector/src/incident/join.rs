//! Incidents the collector opens and feeds itself: a page opening one (or
//! joining its team's open one), and signals landing on those they
//! concern. Pure, like the rest of the book.

use std::collections::BTreeSet;

use super::book::{Book, LIVEOPS, TEXT_MAX, TITLE_MAX, text};
use super::model::{Entry, Severity, State, What};

/// A page the pager opened, as the incident book hears of it.
#[derive(Clone, Debug, PartialEq)]
pub struct PageOpened {
    pub page: u64,
    pub team: String,
    pub world: String,
    pub summary: String,
    /// The incident its alert is about (an `IncidentSeverity` alert, which
    /// carries an `incident` label): it joins that one, whatever the window.
    pub incident: Option<u64>,
}

impl Book {
    /// Records a signal on the incidents it concerns: those `page` joined
    /// (unless final), else the active ones holding `world`, else (a
    /// fleet-wide signal: no page, no world) every active one. Returns
    /// their ids.
    pub fn signal(
        &mut self,
        page: Option<u64>,
        world: Option<&str>,
        source: &str,
        event: &str,
        text: &str,
        now: u64,
    ) -> Vec<u64> {
        let ids: Vec<u64> = self
            .incidents
            .values()
            .filter(|i| match (page, world) {
                (Some(p), _) => !i.state.is_final() && i.pages.contains(&p),
                (None, Some(w)) => i.state.is_active() && i.worlds.contains(w),
                (None, None) => i.state.is_active(),
            })
            .map(|i| i.id)
            .collect();
        for id in &ids {
            if let Some(inc) = self.incidents.get_mut(id) {
                let at = now.max(inc.last_ms());
                inc.timeline.push(Entry {
                    at_ms: at,
                    by: LIVEOPS.into(),
                    what: What::Signal {
                        source: source.into(),
                        event: event.into(),
                        world: world.map(str::to_owned),
                    },
                    text: text.chars().take(TEXT_MAX).collect(),
                });
                self.dirty.insert(*id);
            }
        }
        ids
    }

    /// Moves the resolved incidents page `page` joined back to
    /// investigating, saying why; returns their ids. Closed and cancelled
    /// ones stay as they are (a new page opens a new incident then).
    pub fn reopen_for_page(&mut self, page: u64, why: &str, now: u64) -> Vec<u64> {
        let ids: Vec<u64> = self
            .incidents
            .values()
            .filter(|i| i.state == State::Resolved && i.pages.contains(&page))
            .map(|i| i.id)
            .collect();
        let note = format!("reopened by liveops: {why}");
        ids.into_iter()
            .filter(|id| {
                self.status(*id, State::Investigating, &note, LIVEOPS, now)
                    .is_ok()
            })
            .collect()
    }

    /// A page joins the newest active incident of its team that a page
    /// joined within `window_ms`, so one fault paging several worlds is one
    /// incident; otherwise it opens one. Returns the incident and whether
    /// it was opened now.
    pub fn page(&mut self, p: &PageOpened, window_ms: u64, now: u64) -> (u64, bool) {
        let named = p
            .incident
            .filter(|id| self.incidents.get(id).is_some_and(|i| !i.state.is_final()));
        let joins = named.or_else(|| self.window_join(p, window_ms, now));
        let (id, opened) = match joins {
            Some(id) => (id, false),
            None => {
                let title = text(&p.summary, "a title", TITLE_MAX)
                    .unwrap_or_else(|_| format!("{} paged for {}", p.team, p.world));
                let inc = self.insert(
                    title,
                    BTreeSet::new(),
                    Some(p.team.clone()),
                    Severity::default(),
                    LIVEOPS,
                    now,
                );
                (inc.id, true)
            }
        };
        if let Some(inc) = self.incidents.get_mut(&id) {
            let at = now.max(inc.last_ms());
            if named.is_none() {
                inc.worlds.insert(p.world.clone());
            }
            inc.pages.insert(p.page);
            inc.timeline.push(Entry {
                at_ms: at,
                by: LIVEOPS.into(),
                what: What::Page {
                    page: p.page,
                    world: p.world.clone(),
                },
                text: p.summary.chars().take(TEXT_MAX).collect(),
            });
            self.dirty.insert(id);
        }
        (id, opened)
    }

    /// The newest active incident of the page's team that a page joined
    /// within `window_ms`.
    fn window_join(&self, p: &PageOpened, window_ms: u64, now: u64) -> Option<u64> {
        self.incidents
            .values()
            .rev()
            .filter(|i| i.state.is_active() && i.team.as_deref() == Some(p.team.as_str()))
            .find(|i| {
                let last_page = i
                    .timeline
                    .iter()
                    .rev()
                    .find(|e| matches!(e.what, What::Page { .. }))
                    .map_or(i.opened_ms, |e| e.at_ms);
                now.saturating_sub(last_page) <= window_ms
            })
            .map(|i| i.id)
    }
}
