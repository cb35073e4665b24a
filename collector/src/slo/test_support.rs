//! Hand-made SLOs and reports shared by the tests of `slo` and `alert`.

use std::time::Duration;

use liveops_config::{
    AcuteConfig, AlertingConfig, BurnRateRule, GoodEvents, Selector, Severity, Slo, SloKind,
};
use liveops_protocol::{CounterSeries, Health, Report, Tags};

pub const DAY: Duration = Duration::from_secs(86_400);
pub const HOUR: Duration = Duration::from_secs(3600);
pub const MIN: Duration = Duration::from_secs(60);

pub fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn slo(name: &str, kind: SloKind) -> Slo {
    Slo {
        name: name.into(),
        description: format!("{name} description"),
        objective: 0.999,
        period: 30 * DAY,
        owner: "team-game".into(),
        runbook: format!("https://runbooks/{name}"),
        kind,
        acute: None,
        backlog: None,
    }
}

pub fn uptime_slo() -> Slo {
    slo("uptime", SloKind::Uptime)
}

fn request(filter: &[(&str, &str)], extra: Option<(&str, &str)>) -> Selector {
    let mut tags = tags(filter);
    if let Some((k, v)) = extra {
        tags.insert(k.into(), v.into());
    }
    Selector {
        metric: "request".into(),
        tags,
    }
}

/// `request{filter}` with good = `status:ok`.
pub fn ratio_good_slo(filter: &[(&str, &str)]) -> Slo {
    let good = GoodEvents::Good(request(filter, Some(("status", "ok"))));
    slo(
        "requests",
        SloKind::Ratio {
            total: request(filter, None),
            good,
        },
    )
}

/// `request{filter}` with bad = `status:error`, acute alerts on.
pub fn ratio_bad_slo(filter: &[(&str, &str)]) -> Slo {
    let good = GoodEvents::Bad(request(filter, Some(("status", "error"))));
    let mut slo = slo(
        "error_rate",
        SloKind::Ratio {
            total: request(filter, None),
            good,
        },
    );
    slo.acute = Some(workbook_alerting().acute);
    slo
}

pub fn latency_slo(threshold_ms: f64, filter: &[(&str, &str)]) -> Slo {
    let metric = Selector {
        metric: "auth.latency".into(),
        tags: tags(filter),
    };
    slo(
        "login_latency",
        SloKind::Latency {
            metric,
            threshold_ms,
        },
    )
}

/// A healthy report of `world` over `[start_ms, end_ms)` with no events.
pub fn report(world: &str, start_ms: u64, end_ms: u64) -> Report {
    let span = end_ms.saturating_sub(start_ms);
    Report {
        agent: format!("agent-{world}"),
        world: world.into(),
        seq: start_ms,
        start_ms,
        end_ms,
        urgent: false,
        health: Health {
            up: true,
            probe_ok: true,
            stalled: false,
            up_ms: span,
            observed_ms: span,
            last_tick_age_ms: Some(50),
            tick_interval_ms: Some(100.0),
            detail: None,
            probed: true,
            probe_failures: 0,
            probe_error: None,
        },
        counters: Vec::new(),
        gauges: Vec::new(),
        histograms: Vec::new(),
        losses: Default::default(),
        flag_reloads: Vec::new(),
    }
}

/// A one-second report with `ok` and `error` requests.
pub fn requests_report(world: &str, start_ms: u64, ok: f64, error: f64) -> Report {
    let mut r = report(world, start_ms, start_ms + 1000);
    let series = |status: &str, value| CounterSeries {
        name: "request".into(),
        tags: tags(&[("status", status)]),
        value,
    };
    r.counters = vec![series("ok", ok), series("error", error)];
    r
}

/// The SRE workbook's recommended rules for a 30-day 99.9 % SLO.
pub fn workbook_alerting() -> AlertingConfig {
    let rule = |severity, long, short, factor| BurnRateRule {
        severity,
        long,
        short,
        factor,
    };
    AlertingConfig {
        burn_rates: vec![
            rule(Severity::Page, HOUR, 5 * MIN, 14.4),
            rule(Severity::Page, 6 * HOUR, 30 * MIN, 6.0),
            rule(Severity::Ticket, 3 * DAY, 6 * HOUR, 1.0),
        ],
        min_events: 10.0,
        acute: AcuteConfig {
            window: Duration::from_secs(30),
            min_events: 20.0,
            ratio: 0.5,
        },
    }
}

/// A stand-in for the state tree: applies a checkpoint's chunk operations
/// the way `Store::put_checkpoint` does (deletions, then writes).
#[derive(Default)]
pub struct ChunkStore(pub std::collections::BTreeMap<Vec<u8>, Vec<u8>>);

impl ChunkStore {
    /// Takes `e`'s changed chunks and applies them; returns how many ops.
    pub fn checkpoint(&mut self, e: &mut super::Engine) -> usize {
        use super::persist::StoreOp;
        let ops = e.take_chunks();
        let n = ops.len();
        let mut puts = Vec::new();
        for op in ops {
            match op {
                StoreOp::Delete(from, to) => {
                    let gone: Vec<_> = self.0.range(from..to).map(|(k, _)| k.clone()).collect();
                    gone.iter().for_each(|k| drop(self.0.remove(k)));
                }
                StoreOp::Put(k, v) => puts.push((k, v.to_vec())),
            }
        }
        self.0.extend(puts);
        n
    }

    /// A fresh engine with `slos`, restored from the chunks in key order.
    pub fn restore(&self, slos: Vec<Slo>) -> super::Engine {
        let mut e = super::Engine::new(slos);
        for (k, v) in &self.0 {
            e.load_chunk(k, v).expect("a chunk this store wrote");
        }
        e.finish_load();
        e
    }
}
