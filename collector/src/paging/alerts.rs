//! An alert fires or resolves: it is routed to a team and a severity,
//! checked against silences, maintenance and inhibition, then grouped into
//! the open page of its team and world (raising its severity when the
//! newcomer is more urgent), or reopens one resolved within the flap
//! window, or opens a new page. Silences live here too: adding or
//! ending one changes which alerts may page.

use liveops_protocol::{AlertStatus, Notification};

use super::book::{Actor, Book, Ctx, Effects, Page, PageAlert, PageError, PageState, Tracked};
use super::escalate;
use super::event::{PageEvent, PageEventKind as K};
use super::raise::raise;
use super::route::{Suppressed, fingerprint, route, suppressed, world};
use super::silence::{Silence, SilenceDraft};

impl Book {
    pub(super) fn alert(&mut self, cx: &Ctx<'_>, n: Notification, now: u64, fx: &mut Effects) {
        let fp = fingerprint(&n.labels);
        match n.status {
            AlertStatus::Firing => {
                if let Some(t) = self.alert_mut(&fp) {
                    // Already known (an Alertmanager re-sends while firing):
                    // only the text may have changed.
                    t.notification = n.clone();
                    let num = t.page;
                    let num = num.filter(|num| self.pages.contains_key(num));
                    if let Some(a) = num.and_then(|num| self.page_mut(num).alerts.get_mut(&fp)) {
                        a.notification = n;
                    }
                    return;
                }
                let (team, severity) = route(cx.policy, &n);
                fx.events.push(
                    PageEvent::new(K::Routed, now)
                        .alert(&n)
                        .team_severity(&team, severity),
                );
                self.track(
                    fp.clone(),
                    Tracked {
                        notification: n,
                        team,
                        severity,
                        page: None,
                        suppressed: None,
                    },
                );
                self.place(cx, &fp, now, fx);
            }
            AlertStatus::Resolved => {
                let Some(t) = self.untrack(&fp) else {
                    return;
                };
                if let Some(num) = t.page.filter(|n| self.pages.contains_key(n)) {
                    let page = self.page_mut(num);
                    if let Some(a) = page.alerts.get_mut(&fp) {
                        a.notification = n;
                        a.firing = false;
                    }
                    if page.is_open() && page.alerts.values().all(|a| !a.firing) {
                        let _ = escalate::resolve(
                            cx,
                            page,
                            escalate::by_pager("every alert resolved", now),
                            now,
                            fx,
                        );
                    }
                }
                // It may have been what inhibited others.
                self.reconsider(cx, now, fx);
            }
        }
    }

    /// Pages a tracked alert, unless something holds it back.
    fn place(&mut self, cx: &Ctx<'_>, fp: &str, now: u64, fx: &mut Effects) {
        let Some(t) = self.alerts.get(fp) else { return };
        let why = suppressed(
            cx.policy,
            &t.notification,
            self.silences.values(),
            self.alerts.values().map(|a| &a.notification),
            now,
        );
        if let Some(why) = why {
            let kind = match why {
                Suppressed::Inhibited { .. } => K::Inhibited,
                _ => K::Silenced,
            };
            let e = PageEvent::new(kind, now)
                .alert(&t.notification)
                .team_severity(&t.team, t.severity)
                .why(why.describe());
            fx.events.push(e);
            if let Some(t) = self.alert_mut(fp) {
                t.suppressed = Some(why);
            }
            return;
        }
        let t = t.clone();
        let w = world(&t.notification);
        let entry = PageAlert {
            notification: t.notification.clone(),
            firing: true,
            joined_ms: now,
        };
        let same = |p: &Page| p.team == t.team && p.world == w;
        let open = self.pages.iter().find(|(_, p)| p.is_open() && same(p));
        let open = open.map(|(n, _)| *n);
        let flap = u64::try_from(cx.policy.flap_window.as_millis()).unwrap_or(u64::MAX);
        let recent =
            self.pages.iter().rev().find(|(_, p)| {
                same(p) && p.resolved_ms.is_some_and(|r| now.saturating_sub(r) <= flap)
            });
        let recent = recent.map(|(n, _)| *n);
        let num = match (open, recent) {
            (Some(num), _) => {
                let page = self.page_mut(num);
                page.alerts.insert(fp.to_owned(), entry);
                let e = PageEvent::new(K::Grouped, now)
                    .page(page)
                    .alert(&t.notification);
                fx.events.push(e);
                raise(cx, page, t.severity, (fp, &t.notification), now, fx);
                num
            }
            (None, Some(num)) => {
                let page = self.page_mut(num);
                page.alerts.insert(fp.to_owned(), entry);
                page.lead = fp.to_owned();
                page.severity = t.severity;
                page.state = PageState::Open;
                page.resolved_ms = None;
                page.resolved_by = None;
                page.acked = None;
                page.reopened += 1;
                let e = PageEvent::new(K::Reopened, now)
                    .page(page)
                    .alert(&t.notification);
                fx.events.push(e);
                escalate::start(cx, page, now, fx);
                num
            }
            (None, None) => {
                self.next_page += 1;
                let num = self.next_page;
                let mut page = Page {
                    id: format!("p-{num}"),
                    team: t.team.clone(),
                    world: w,
                    severity: t.severity,
                    state: PageState::Open,
                    opened_ms: now,
                    resolved_ms: None,
                    acked: None,
                    resolved_by: None,
                    alerts: [(fp.to_owned(), entry)].into(),
                    lead: fp.to_owned(),
                    step: 0,
                    cycle: 0,
                    due_ms: None,
                    attempts: 0,
                    sent: Vec::new(),
                    reopened: 0,
                };
                fx.events.push(
                    PageEvent::new(K::Opened, now)
                        .page(&page)
                        .alert(&t.notification),
                );
                escalate::start(cx, &mut page, now, fx);
                self.pages.insert(num, page);
                self.dirty.pages.insert(num);
                num
            }
        };
        if let Some(t) = self.alert_mut(fp) {
            t.page = Some(num);
            t.suppressed = None;
        }
    }

    /// Alerts held back may page once what held them is gone (a silence
    /// expired, a maintenance window ended, the inhibiting alert resolved).
    pub(super) fn reconsider(&mut self, cx: &Ctx<'_>, now: u64, fx: &mut Effects) {
        let waiting: Vec<String> = self
            .alerts
            .iter()
            .filter(|(_, t)| t.page.is_none())
            .map(|(fp, _)| fp.clone())
            .collect();
        for fp in waiting {
            let Some(t) = self.alerts.get(&fp) else {
                continue;
            };
            let why = suppressed(
                cx.policy,
                &t.notification,
                self.silences.values(),
                self.alerts.values().map(|a| &a.notification),
                now,
            );
            if why.is_none() || why != t.suppressed {
                self.place(cx, &fp, now, fx);
            }
        }
    }

    pub(super) fn silence(
        &mut self,
        cx: &Ctx<'_>,
        draft: SilenceDraft,
        actor: &Actor,
        now: u64,
        fx: &mut Effects,
    ) {
        self.next_silence += 1;
        let num = self.next_silence;
        let s = Silence {
            id: format!("s-{num}"),
            matchers: draft.matchers,
            from_ms: now,
            until_ms: now.saturating_add(draft.duration_ms),
            reason: draft.reason,
            author: actor.name.clone(),
            expired_by: None,
        };
        fx.events
            .push(silence_event(K::SilenceAdded, &s, actor, &s.reason, now));
        fx.silence = Some(s.clone());
        self.silences.insert(num, s);
        self.dirty.silences.insert(num);
        // Only alerts not yet paged: a silence does not take back a page.
        self.reconsider(cx, now, fx);
    }

    pub(super) fn expire(
        &mut self,
        cx: &Ctx<'_>,
        id: &str,
        actor: &Actor,
        reason: &str,
        now: u64,
        fx: &mut Effects,
    ) -> Result<(), PageError> {
        let num = id
            .strip_prefix("s-")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| self.silences.contains_key(n))
            .ok_or_else(|| PageError::NotFound(format!("no silence `{id}`")))?;
        let s = self.silences.get_mut(&num).expect("checked above");
        if s.until_ms <= now {
            return Err(PageError::Conflict(format!(
                "silence {id} has already ended"
            )));
        }
        s.until_ms = now;
        s.expired_by = Some(actor.name.clone());
        fx.events
            .push(silence_event(K::SilenceExpired, s, actor, reason, now));
        fx.silence = Some(s.clone());
        self.dirty.silences.insert(num);
        self.reconsider(cx, now, fx);
        Ok(())
    }
}

fn silence_event(kind: K, s: &Silence, actor: &Actor, reason: &str, now: u64) -> PageEvent {
    let mut e = PageEvent::new(kind, now)
        .by(&actor.name, &actor.role)
        .why(reason);
    e.id = Some(s.id.clone());
    e.labels = s.matchers.clone();
    e.world = s.matchers.get("world").cloned();
    e.alertname = s.matchers.get("alertname").cloned();
    e
}
