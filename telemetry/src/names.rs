//! Every metric liveops exports. Dashboards and alert rules use these names;
//! renaming one is a breaking change for users' Grafana.

// ---- agent (label: world)
pub const AGENT_STATSD_DATAGRAMS: &str = "liveops_agent_statsd_datagrams_total";
pub const AGENT_STATSD_BYTES: &str = "liveops_agent_statsd_bytes_total";
pub const AGENT_STATSD_LINES: &str = "liveops_agent_statsd_lines_total";
pub const AGENT_STATSD_MALFORMED: &str = "liveops_agent_statsd_malformed_lines_total";
pub const AGENT_STATSD_UNSUPPORTED: &str = "liveops_agent_statsd_unsupported_lines_total";
pub const AGENT_STATSD_OVERFLOW: &str = "liveops_agent_statsd_series_overflow_lines_total";
pub const AGENT_STATSD_RECV_ERRORS: &str = "liveops_agent_statsd_receive_errors_total";
/// Values dropped because they would have made a series NaN or infinite
/// (`request:1e308|c` twice), and non-finite numbers scrubbed from a report.
pub const AGENT_STATSD_NONFINITE: &str = "liveops_agent_statsd_nonfinite_values_total";
pub const AGENT_STATSD_RECV_BUFFER: &str = "liveops_agent_statsd_receive_buffer_bytes";
pub const AGENT_STATSD_KERNEL_DROPS: &str = "liveops_agent_statsd_kernel_drops_total";
pub const AGENT_TICK_DURATION: &str = "liveops_agent_tick_duration_seconds";
pub const AGENT_LAST_TICK_AGE: &str = "liveops_agent_last_tick_age_seconds";
pub const AGENT_WORLD_UP: &str = "liveops_agent_world_up";
pub const AGENT_TICK_STALLED: &str = "liveops_agent_tick_stalled";
pub const AGENT_PROBE_OK: &str = "liveops_agent_health_probe_ok";
pub const AGENT_PLAYERS_ONLINE: &str = "liveops_agent_players_online";
/// The world's `tick.backlog` gauge: scheduled events overdue.
pub const AGENT_TICK_BACKLOG: &str = "liveops_agent_tick_backlog";
pub const AGENT_REPORTS_SENT: &str = "liveops_agent_reports_sent_total";
pub const AGENT_REPORT_FAILURES: &str = "liveops_agent_report_failures_total";
pub const AGENT_REPORT_LATENCY: &str = "liveops_agent_report_latency_seconds";
/// Connections to the agent's HTTP port (OFREP, `/metrics`) open now,
/// accepted since start, and closed while idle to make room.
pub const AGENT_HTTP_CONNECTIONS: &str = "liveops_agent_http_connections";
pub const AGENT_HTTP_ACCEPTED: &str = "liveops_agent_http_connections_accepted_total";
pub const AGENT_HTTP_EVICTED: &str = "liveops_agent_http_connections_evicted_total";
pub const AGENT_SPOOL_REPORTS: &str = "liveops_agent_spool_reports";
pub const AGENT_SPOOL_DROPPED: &str = "liveops_agent_spool_dropped_reports_total";
/// Reports in the dead-letter tree now: ones the collector would not take
/// (a 4xx for the report itself, or `max_attempts` 5xx answers).
pub const AGENT_DEAD_LETTERS: &str = "liveops_agent_dead_letters";
/// Reports moved to the dead-letter tree since start.
pub const AGENT_DEAD_LETTERED: &str = "liveops_agent_dead_lettered_reports_total";
/// Dead letters dropped from a full tree (`max_dead_letters`), oldest first.
pub const AGENT_DEAD_LETTERS_DROPPED: &str = "liveops_agent_dead_letters_dropped_total";
/// Parts of delivered reports the collector refused (its acknowledgement's
/// `refused` list); the rest of each report was taken.
pub const AGENT_REPORT_REFUSED_PARTS: &str = "liveops_agent_report_refused_parts_total";
/// 1 while the flag file on disk is valid and served, 0 while it is broken,
/// missing or was never valid (the last good flags or fail-safe values are
/// served meanwhile).
pub const AGENT_FLAGS_FILE_VALID: &str = "liveops_agent_flags_file_valid";
/// Flag-file reloads by `outcome`: `applied` or `rejected`.
pub const AGENT_FLAGS_RELOADS: &str = "liveops_agent_flags_reloads_total";
/// When a flag file was last applied, Unix seconds.
pub const AGENT_FLAGS_LAST_RELOAD: &str = "liveops_agent_flags_last_reload_timestamp_seconds";
/// Operator overrides in force (pushed by the collector, not expired).
pub const AGENT_FLAGS_OVERRIDES: &str = "liveops_agent_flags_overrides";
/// 1 while the collector's override stream is connected.
pub const AGENT_FLAGS_OVERRIDE_STREAM: &str = "liveops_agent_flags_override_stream_connected";

// ---- collector (labels: world — a world name or "fleet" —, slo, window,
// alertname, severity, and for overrides and the audit log scope, mitigation,
// action: each bounded by code or configuration)
pub const COLLECTOR_REPORTS: &str = "liveops_collector_reports_total";
pub const COLLECTOR_REPORTS_DUPLICATE: &str = "liveops_collector_duplicate_reports_total";
pub const COLLECTOR_REPORTS_REJECTED: &str = "liveops_collector_rejected_reports_total";
/// Parts of accepted reports that were refused, by `part`: `counters`,
/// `gauges`, `histograms`, `health`, `losses` or `flag_reloads`.
pub const COLLECTOR_REPORT_PARTS_REFUSED: &str = "liveops_collector_report_parts_refused_total";
/// Domain events published, by `kind`: `action`, `flag-reloads`, `alert`.
pub const COLLECTOR_EVENTS: &str = "liveops_collector_events_total";
/// Requests whose handler panicked (each answered 500).
pub const COLLECTOR_HTTP_PANICS: &str = "liveops_collector_http_panics_total";
pub const COLLECTOR_REPORT_LATENCY: &str = "liveops_collector_report_latency_seconds";
/// Connections to the collector's API open now, accepted since start, and
/// closed while idle to make room (`[http] max_connections`).
pub const COLLECTOR_HTTP_CONNECTIONS: &str = "liveops_collector_http_connections";
pub const COLLECTOR_HTTP_ACCEPTED: &str = "liveops_collector_http_connections_accepted_total";
pub const COLLECTOR_HTTP_EVICTED: &str = "liveops_collector_http_connections_evicted_total";
/// How long one alert evaluation held the collector's state: reports wait
/// for it, so near the evaluation interval the collector is falling behind.
pub const COLLECTOR_EVALUATION: &str = "liveops_collector_evaluation_duration_seconds";
/// How long a report waited for its journal entry to reach the disk: the
/// disk's share of the report latency.
pub const COLLECTOR_JOURNAL_WAIT: &str = "liveops_collector_report_durable_latency_seconds";
/// How long one checkpoint took, lock, copy and write.
pub const COLLECTOR_CHECKPOINT: &str = "liveops_collector_checkpoint_duration_seconds";
pub const COLLECTOR_AGENTS: &str = "liveops_collector_agents";
pub const COLLECTOR_WORLD_UP: &str = "liveops_collector_world_up";
pub const COLLECTOR_AGENT_SILENT: &str = "liveops_collector_agent_silent";
/// Each world's overdue scheduled events (`tick.backlog`, tag sets summed)
/// as its latest report had them.
pub const COLLECTOR_WORLD_TICK_BACKLOG: &str = "liveops_collector_world_tick_backlog";
/// Operator overrides in force, by `scope` kind: `fleet`, `world`,
/// `village`, `account` or `player` (never the scope's id).
pub const COLLECTOR_OVERRIDES: &str = "liveops_collector_overrides";
/// Mitigations in force, by `mitigation`: a bundle name from the
/// mitigations file.
pub const COLLECTOR_MITIGATIONS: &str = "liveops_collector_mitigations";
/// Override streams open: one per agent with a flag file, plus anyone
/// watching one.
pub const COLLECTOR_OVERRIDE_STREAMS: &str = "liveops_collector_override_streams";
/// Audit entries appended, by `action`: `mitigate`, `override`, `revert`,
/// `expire`, `flag-reload` or `flag-reload-rejected`.
pub const COLLECTOR_AUDIT_ENTRIES: &str = "liveops_collector_audit_entries_total";
/// Audit appends that failed: the operator change was refused, or the
/// agent's report answered 500 (and retried).
pub const COLLECTOR_AUDIT_FAILURES: &str = "liveops_collector_audit_append_failures_total";
/// 1 while the audit log is the file the collector writes and verifies;
/// 0 once it was replaced, edited or fails verification (changes are then
/// refused and `AuditChainBroken` pages).
pub const COLLECTOR_AUDIT_CHAIN_OK: &str = "liveops_collector_audit_chain_ok";
/// Paging decisions by `severity` (SEV1…SEV4, or `none` for a silence)
/// and `event` (routed, paged, escalated, acked, delivery-failed, …).
pub const COLLECTOR_PAGES: &str = "liveops_collector_pages_total";
/// Pages not yet resolved (held, open or acknowledged).
pub const COLLECTOR_PAGES_OPEN: &str = "liveops_collector_pages_open";
/// Incidents not closed or cancelled, by `state` (triage, investigating,
/// identified, mitigated, resolved) and `severity` (SEV1…SEV4), every
/// pair exported, zero included.
pub const COLLECTOR_INCIDENTS: &str = "liveops_collector_incidents";
/// Action items not done, by `state`: `open` (all of them) and `overdue`
/// (past their due date).
pub const COLLECTOR_ACTION_ITEMS: &str = "liveops_collector_action_items";
/// Histogram of incidents' response times by `phase`: `detect` (first bad
/// signal → alert), `acknowledge` (alert → someone on it), `mitigate`
/// (first bad signal → every SLO back within objective), `resolve` (first
/// bad signal → resolved). One sample per incident and phase.
pub const COLLECTOR_INCIDENT_RESPONSE: &str = "liveops_collector_incident_response_seconds";
/// Reloads of a hot-reloaded config file by `file` (`oncall`, `paging`)
/// and `outcome` (`applied` or `rejected`).
pub const COLLECTOR_CONFIG_RELOADS: &str = "liveops_collector_config_reloads_total";
/// 1 while the file on disk is the one in force, 0 while it is refused
/// (the last good one is), by `file`.
pub const COLLECTOR_CONFIG_FILE_VALID: &str = "liveops_collector_config_file_valid";
pub const SLO_OBJECTIVE: &str = "liveops_slo_objective_ratio";
pub const SLO_SLI: &str = "liveops_slo_sli_ratio";
pub const SLO_EVENTS: &str = "liveops_slo_events";
pub const SLO_BUDGET_REMAINING: &str = "liveops_slo_error_budget_remaining_ratio";
pub const SLO_BURN_RATE: &str = "liveops_slo_burn_rate";
pub const ALERTS_FIRING: &str = "liveops_alerts_firing";
/// Deliveries a channel carried, by `notifier` (the channel's name).
pub const NOTIFICATIONS_SENT: &str = "liveops_notifications_sent_total";
/// Deliveries a channel gave up on after its retries (and resends of the
/// firing set an Alertmanager did not take), by `notifier`.
pub const NOTIFICATIONS_FAILED: &str = "liveops_notifications_failed_total";
/// Attempts a channel made again (network error, 5xx, 429), by `notifier`.
pub const NOTIFICATIONS_RETRIED: &str = "liveops_notifications_retried_total";

/// Every name above, for the dashboard check.
pub const ALL: &[&str] = &[
    AGENT_STATSD_DATAGRAMS,
    AGENT_STATSD_BYTES,
    AGENT_STATSD_LINES,
    AGENT_STATSD_MALFORMED,
    AGENT_STATSD_UNSUPPORTED,
    AGENT_STATSD_OVERFLOW,
    AGENT_STATSD_RECV_ERRORS,
    AGENT_STATSD_NONFINITE,
    AGENT_STATSD_RECV_BUFFER,
    AGENT_STATSD_KERNEL_DROPS,
    AGENT_TICK_DURATION,
    AGENT_LAST_TICK_AGE,
    AGENT_WORLD_UP,
    AGENT_TICK_STALLED,
    AGENT_PROBE_OK,
    AGENT_PLAYERS_ONLINE,
    AGENT_TICK_BACKLOG,
    AGENT_REPORTS_SENT,
    AGENT_REPORT_FAILURES,
    AGENT_REPORT_LATENCY,
    AGENT_HTTP_CONNECTIONS,
    AGENT_HTTP_ACCEPTED,
    AGENT_HTTP_EVICTED,
    AGENT_SPOOL_REPORTS,
    AGENT_SPOOL_DROPPED,
    AGENT_DEAD_LETTERS,
    AGENT_DEAD_LETTERED,
    AGENT_DEAD_LETTERS_DROPPED,
    AGENT_REPORT_REFUSED_PARTS,
    AGENT_FLAGS_FILE_VALID,
    AGENT_FLAGS_RELOADS,
    AGENT_FLAGS_LAST_RELOAD,
    AGENT_FLAGS_OVERRIDES,
    AGENT_FLAGS_OVERRIDE_STREAM,
    COLLECTOR_REPORTS,
    COLLECTOR_REPORTS_DUPLICATE,
    COLLECTOR_REPORTS_REJECTED,
    COLLECTOR_REPORT_PARTS_REFUSED,
    COLLECTOR_HTTP_PANICS,
    COLLECTOR_EVENTS,
    COLLECTOR_REPORT_LATENCY,
    COLLECTOR_EVALUATION,
    COLLECTOR_JOURNAL_WAIT,
    COLLECTOR_CHECKPOINT,
    COLLECTOR_HTTP_CONNECTIONS,
    COLLECTOR_HTTP_ACCEPTED,
    COLLECTOR_HTTP_EVICTED,
    COLLECTOR_AGENTS,
    COLLECTOR_WORLD_UP,
    COLLECTOR_AGENT_SILENT,
    COLLECTOR_WORLD_TICK_BACKLOG,
    COLLECTOR_OVERRIDES,
    COLLECTOR_MITIGATIONS,
    COLLECTOR_OVERRIDE_STREAMS,
    COLLECTOR_AUDIT_ENTRIES,
    COLLECTOR_AUDIT_FAILURES,
    COLLECTOR_AUDIT_CHAIN_OK,
    COLLECTOR_PAGES,
    COLLECTOR_PAGES_OPEN,
    COLLECTOR_INCIDENTS,
    COLLECTOR_INCIDENT_RESPONSE,
    COLLECTOR_ACTION_ITEMS,
    COLLECTOR_CONFIG_RELOADS,
    COLLECTOR_CONFIG_FILE_VALID,
    SLO_OBJECTIVE,
    SLO_SLI,
    SLO_EVENTS,
    SLO_BUDGET_REMAINING,
    SLO_BURN_RATE,
    ALERTS_FIRING,
    NOTIFICATIONS_SENT,
    NOTIFICATIONS_FAILED,
    NOTIFICATIONS_RETRIED,
];
