//! The collector's own `/metrics`: report intake, SLO status as gauges for
//! Grafana, firing alerts, notification delivery, paging, operator
//! overrides and the audit log.

use liveops_telemetry::names::*;
use liveops_telemetry::{Counter, Gauge, Histogram, Registry};

use crate::audit;

pub struct CollectorMetrics {
    registry: Registry,
    pub reports: Counter,
    pub duplicates: Counter,
    pub report_latency: Histogram,
    pub evaluation: Histogram,
    pub journal_wait: Histogram,
    pub checkpoint: Histogram,
    /// Override streams open; see [`crate::overrides::push`].
    pub override_streams: Gauge,
    audit_failures: Counter,
    /// The API server's connections, once it is bound.
    http: std::sync::OnceLock<liveops_http::ConnStats>,
}

impl Default for CollectorMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl CollectorMetrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        // Registered up front so dashboards see zeros, not missing series.
        for reason in ["unauthenticated", "forbidden", "malformed", "invalid"] {
            registry
                .counter(COLLECTOR_REPORTS_REJECTED, &[("reason", reason.to_owned())])
                .absolute(0);
        }
        for part in liveops_protocol::decode::PART_KINDS {
            registry
                .counter(
                    COLLECTOR_REPORT_PARTS_REFUSED,
                    &[("part", (*part).to_owned())],
                )
                .absolute(0);
        }
        for action in audit::ACTIONS {
            registry
                .counter(COLLECTOR_AUDIT_ENTRIES, &[("action", action.to_owned())])
                .absolute(0);
        }
        let override_streams = registry.gauge(COLLECTOR_OVERRIDE_STREAMS, &[]);
        override_streams.set(0.0);
        let audit_failures = registry.counter(COLLECTOR_AUDIT_FAILURES, &[]);
        audit_failures.absolute(0);
        Self {
            reports: registry.counter(COLLECTOR_REPORTS, &[]),
            duplicates: registry.counter(COLLECTOR_REPORTS_DUPLICATE, &[]),
            report_latency: registry.histogram(COLLECTOR_REPORT_LATENCY, &[]),
            evaluation: registry.histogram(COLLECTOR_EVALUATION, &[]),
            journal_wait: registry.histogram(COLLECTOR_JOURNAL_WAIT, &[]),
            checkpoint: registry.histogram(COLLECTOR_CHECKPOINT, &[]),
            override_streams,
            audit_failures,
            http: std::sync::OnceLock::new(),
            registry,
        }
    }

    /// An entry appended to the audit log; `action` is one of
    /// [`audit::ACTIONS`].
    pub fn audit_appended(&self, action: &str) {
        self.registry
            .counter(COLLECTOR_AUDIT_ENTRIES, &[("action", action.to_owned())])
            .increment(1);
    }

    /// 1 while the audit log is intact, 0 once it was replaced or edited.
    pub fn audit_chain_ok(&self, ok: bool) {
        self.registry
            .gauge(COLLECTOR_AUDIT_CHAIN_OK, &[])
            .set(if ok { 1.0 } else { 0.0 });
    }

    /// An append to the audit log that failed.
    pub fn audit_failed(&self) {
        self.audit_failures.increment(1);
    }

    /// A report turned away, by why: `unauthenticated`, `forbidden`,
    /// `malformed` (not JSON of a report) or `invalid` (a report that breaks
    /// a rule, such as a future timestamp).
    pub fn rejected(&self, reason: &'static str) {
        self.registry
            .counter(COLLECTOR_REPORTS_REJECTED, &[("reason", reason.to_owned())])
            .increment(1);
    }

    /// A part of an accepted report refused, by kind of part
    /// (`counters`, `health`, `flag_reloads`, …: bounded by the protocol).
    pub fn part_refused(&self, kind: &str) {
        self.registry
            .counter(COLLECTOR_REPORT_PARTS_REFUSED, &[("part", kind.to_owned())])
            .increment(1);
    }

    /// An event published on the collector's stream, by kind.
    pub fn event(&self, kind: &'static str) {
        self.registry
            .counter(COLLECTOR_EVENTS, &[("kind", kind.to_owned())])
            .increment(1);
    }

    /// A paging decision; `severity` and `event` are bounded by code.
    pub fn page_event(&self, severity: &str, event: &str) {
        self.registry
            .counter(
                COLLECTOR_PAGES,
                &[
                    ("severity", severity.to_owned()),
                    ("event", event.to_owned()),
                ],
            )
            .increment(1);
    }

    /// A reload of a config file: `file` and `outcome` bounded by code.
    pub fn config_reload(&self, file: &'static str, applied: bool) {
        let outcome = if applied { "applied" } else { "rejected" };
        self.registry
            .counter(
                COLLECTOR_CONFIG_RELOADS,
                &[("file", file.to_owned()), ("outcome", outcome.to_owned())],
            )
            .increment(1);
        self.registry
            .gauge(COLLECTOR_CONFIG_FILE_VALID, &[("file", file.to_owned())])
            .set(if applied { 1.0 } else { 0.0 });
    }

    /// A hot-reloaded file watched from start: its series at zero, valid.
    pub fn config_watched(&self, file: &'static str) {
        for outcome in ["applied", "rejected"] {
            self.registry
                .counter(
                    COLLECTOR_CONFIG_RELOADS,
                    &[("file", file.to_owned()), ("outcome", outcome.to_owned())],
                )
                .increment(0);
        }
        self.registry
            .gauge(COLLECTOR_CONFIG_FILE_VALID, &[("file", file.to_owned())])
            .set(1.0);
    }

    /// `(state, severity, count)` for every pair.
    pub fn incidents(&self, counts: &[(&'static str, &'static str, usize)]) {
        for (state, sev, n) in counts {
            self.registry
                .gauge(
                    COLLECTOR_INCIDENTS,
                    &[
                        ("state", (*state).to_owned()),
                        ("severity", (*sev).to_owned()),
                    ],
                )
                .set(*n as f64);
        }
    }

    /// Action items not done, and of those overdue.
    pub fn action_items(&self, open: usize, overdue: usize) {
        for (state, n) in [("open", open), ("overdue", overdue)] {
            self.registry
                .gauge(COLLECTOR_ACTION_ITEMS, &[("state", state.to_owned())])
                .set(n as f64);
        }
    }

    /// One incident's response time in `phase` (see the metric's doc).
    pub fn incident_response(&self, phase: &'static str, seconds: f64) {
        self.registry
            .histogram(COLLECTOR_INCIDENT_RESPONSE, &[("phase", phase.to_owned())])
            .record(seconds);
    }

    pub fn pages_open(&self, n: usize) {
        self.registry.gauge(COLLECTOR_PAGES_OPEN, &[]).set(n as f64);
    }

    /// A handler that panicked (and answered 500).
    pub fn handler_panicked(&self) {
        self.registry
            .counter(COLLECTOR_HTTP_PANICS, &[])
            .increment(1);
    }

    /// Registers a channel's counters at zero, so a dashboard sees a
    /// channel before its first page.
    pub fn notifier_registered(&self, notifier: &str) {
        for name in [
            NOTIFICATIONS_SENT,
            NOTIFICATIONS_FAILED,
            NOTIFICATIONS_RETRIED,
        ] {
            self.registry
                .counter(name, &[("notifier", notifier.to_owned())])
                .increment(0);
        }
    }

    pub fn notification_sent(&self, notifier: &str) {
        self.registry
            .counter(NOTIFICATIONS_SENT, &[("notifier", notifier.to_owned())])
            .increment(1);
    }

    pub fn notification_failed(&self, notifier: &str) {
        self.registry
            .counter(NOTIFICATIONS_FAILED, &[("notifier", notifier.to_owned())])
            .increment(1);
    }

    pub fn notification_retried(&self, notifier: &str) {
        self.registry
            .counter(NOTIFICATIONS_RETRIED, &[("notifier", notifier.to_owned())])
            .increment(1);
    }

    /// Sets a gauge whose labels are bounded by configuration (worlds, SLOs,
    /// windows, alert names, mitigation bundles) or by code (scope kinds),
    /// never by player data.
    pub fn set(&self, name: &'static str, labels: &[(&'static str, String)], value: f64) {
        self.registry.gauge(name, labels).set(value);
    }

    /// Exports the server's connection figures from now on.
    pub fn watch_http(&self, stats: liveops_http::ConnStats) {
        let _ = self.http.set(stats);
    }

    /// Histogram samples into their buckets (see [`Registry::upkeep`]):
    /// called after each evaluation, so memory stays flat unscraped.
    pub fn upkeep(&self) {
        self.registry.upkeep();
    }

    pub fn render(&self) -> String {
        if let Some(h) = self.http.get() {
            let r = &self.registry;
            r.gauge(COLLECTOR_HTTP_CONNECTIONS, &[])
                .set(h.open() as f64);
            r.counter(COLLECTOR_HTTP_ACCEPTED, &[])
                .absolute(h.accepted());
            r.counter(COLLECTOR_HTTP_EVICTED, &[]).absolute(h.evicted());
        }
        self.registry.render()
    }
}
