//! liveops' own telemetry, as a contract.
//!
//! Every metric name the agent and collector export is a constant in
//! [`names`], following `liveops_<subsystem>_<name>_<unit>[_total]`, with
//! bounded labels only (`world`, `slo`, `window`, `alertname`, `outcome`,
//! a scope's kind, an audit `action` and the like; never a player, a flag
//! value, an operator's reason or a tag value from the game). Dashboards and
//! their test read the same list.
//!
//! Each agent or collector owns a [`Registry`] instead of installing the
//! process-global `metrics` recorder: `liveops demo` and the integration
//! tests run several agents in one process, and each must expose only its
//! own numbers on its own `/metrics`.

pub mod names;
pub mod text;

pub use metrics::{Counter, Gauge, Histogram};
use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Histogram buckets in seconds: the same bounds as the report histograms
/// (`liveops_protocol::histogram`), so Prometheus and the collector agree.
pub fn latency_buckets_seconds() -> Vec<f64> {
    liveops_protocol::histogram::BUCKET_BOUNDS_MS
        .iter()
        .map(|ms| ms / 1000.0)
        .collect()
}

/// Request latency buckets for liveops' own HTTP APIs (fast, loopback).
const API_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Incident response times: from seconds (an acute page) to a day.
const RESPONSE_BUCKETS: &[f64] = &[
    5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0,
];

/// One instance's metrics and their Prometheus rendering.
pub struct Registry {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

static METADATA: Metadata<'static> = Metadata::new("liveops", Level::INFO, None);

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_duration_seconds".into()),
                &latency_buckets_seconds(),
            )
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Suffix("_latency_seconds".into()), API_BUCKETS)
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Suffix("_response_seconds".into()),
                    RESPONSE_BUCKETS,
                )
            })
            .expect("bucket lists are non-empty")
            .build_recorder();
        let handle = recorder.handle();
        Self { recorder, handle }
    }

    pub fn counter(&self, name: &'static str, labels: &[(&'static str, String)]) -> Counter {
        self.recorder
            .register_counter(&key(name, labels), &METADATA)
    }

    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, String)]) -> Gauge {
        self.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    pub fn histogram(&self, name: &'static str, labels: &[(&'static str, String)]) -> Histogram {
        self.recorder
            .register_histogram(&key(name, labels), &METADATA)
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds the histogram samples recorded since the last render into
    /// their buckets. The recorder keeps every sample until then, so a
    /// process that nobody scrapes grows by 8 bytes a sample (about
    /// 1.8 MiB a minute for a collector taking 1,000 reports a second):
    /// its owner calls this every few seconds.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

fn key(name: &'static str, labels: &[(&'static str, String)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(k, v)| Label::new(*k, v.clone()))
        .collect();
    Key::from_parts(name, labels)
}

/// Logs to stderr; `RUST_LOG` filters (default `info`). For binaries only.
pub fn init_logging() {
    init_logging_with_default("info");
}

/// Logs to stderr at `default` unless `RUST_LOG` says otherwise.
pub fn init_logging_with_default(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on SIGINT or SIGTERM: what every liveops binary stops on.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_independent_and_histograms_have_buckets() {
        let a = Registry::new();
        let b = Registry::new();
        a.counter(names::AGENT_REPORTS_SENT, &[("world", "w1".into())])
            .increment(3);
        a.histogram(names::AGENT_TICK_DURATION, &[("world", "w1".into())])
            .record(0.048);
        let text = a.render();
        assert!(
            text.contains("liveops_agent_reports_sent_total{world=\"w1\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("liveops_agent_tick_duration_seconds_bucket{world=\"w1\",le=\"0.05\"} 1"),
            "{text}"
        );
        assert!(!b.render().contains("liveops_agent_reports_sent_total"));
    }

    #[test]
    fn upkeep_folds_samples_in_without_losing_any() {
        let r = Registry::new();
        let h = r.histogram(names::AGENT_TICK_DURATION, &[]);
        for _ in 0..1000 {
            h.record(0.01);
        }
        r.upkeep();
        r.upkeep();
        h.record(0.01);
        let text = r.render();
        assert!(
            text.contains("liveops_agent_tick_duration_seconds_count 1001"),
            "{text}"
        );
    }
}
