use std::sync::Arc;
use std::time::Duration;

use liveops_protocol::report::{Losses, Report};

use super::*;
use crate::audit::Audit;
use crate::auth::Tokens;
use crate::notify::Notifiers;
use crate::overrides::Overrides;
use crate::store::Store;
use crate::telemetry::CollectorMetrics;

/// A collector's state on `dir`, as `run` opens it, restored.
fn open(dir: &std::path::Path) -> Arc<Shared> {
    let mut cfg = liveops_config::default_collector();
    cfg.data_dir = dir.to_owned();
    let store = Store::open(dir).unwrap();
    let metrics = Arc::new(CollectorMetrics::new());
    let audit = Audit::open(dir, &store, metrics.clone()).unwrap();
    let catalogue = liveops_config::load_catalogue(&cfg).unwrap();
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let overrides = Overrides::open(catalogue, &store, stop_rx).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    let (notifiers, _) = Notifiers::start(&[], reqwest::Client::new(), metrics.clone(), &mut tasks);
    let incidents = Arc::new(crate::incident::Incidents::open(&store, metrics.clone()).unwrap());
    let parts = (Arc::new(store), overrides, Arc::new(audit), incidents);
    let s = Shared::new(
        cfg,
        Tokens::new(Vec::new()),
        metrics,
        Arc::new(notifiers),
        parts,
    );
    s.restore().unwrap();
    Arc::new(s)
}

/// Agent `a{world}`'s report `seq` of world `w{world}`: a second in which
/// the world was up for `up_ms`.
fn report(world: u32, seq: u64, up_ms: u64) -> Report {
    let end_ms = now_ms() - 60_000 + seq * 1000;
    Report {
        agent: format!("a{world:02}"),
        world: format!("w{world:02}"),
        seq,
        start_ms: end_ms - 1000,
        end_ms,
        urgent: false,
        health: Health {
            up: true,
            probe_ok: true,
            up_ms,
            observed_ms: 1000,
            ..Health::default()
        },
        counters: Vec::new(),
        gauges: Vec::new(),
        histograms: Vec::new(),
        losses: Losses::default(),
        flag_reloads: Vec::new(),
    }
}

fn accept(s: &Shared, r: &Report) {
    s.accept(r).unwrap();
}

/// Each world's uptime events and good events over the period, as the
/// status API tells them.
fn uptime(s: &Shared) -> Vec<(Option<String>, f64, Option<f64>)> {
    s.status()
        .into_iter()
        .filter(|r| r.slo == "uptime")
        .map(|r| (r.world, r.events, r.sli))
        .collect()
}

#[tokio::test]
async fn a_checkpoint_cut_in_slices_while_reports_arrive_restores_every_report_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    for w in 0..25 {
        accept(&s, &report(w * 2, 1, 1000));
    }
    // Between the slices (of 4 worlds) reports come in: for worlds cut
    // already, for worlds not cut yet, and for new worlds named in a range
    // cut already (w01) and past the last (w99).
    let mut next = [0u64; 100];
    let mut between = 0u32;
    s.write_checkpoint(
        4,
        Duration::ZERO,
        |_| {
            between += 1;
            for w in [0, 1, 24, 48, 99, (between * 6) % 50] {
                next[w as usize] += 1;
                accept(
                    &s,
                    &report(w, 1 + next[w as usize] + 1, 250 * w as u64 % 1000),
                );
            }
            true
        },
        false,
    )
    .unwrap();
    assert!(between >= 6, "the cut took {between} slices");
    for w in [2, 4, 1, 99] {
        next[w] += 1;
        accept(&s, &report(w as u32, 1 + next[w] + 1, 500));
    }
    let want = uptime(&s);
    let seen = |s: &Shared| -> Vec<(String, u64, String)> {
        s.worlds()
            .into_iter()
            .map(|(name, w)| (name, w.report_end_ms, w.agent))
            .collect()
    };
    let want_seen = seen(&s);
    s.store.durable(s.store.journal_position()).await.unwrap();
    drop(s);

    let back = open(dir.path());
    assert_eq!(uptime(&back), want);
    // Each world as of its own slice's cut, and the entries after it.
    assert_eq!(seen(&back), want_seen);
    assert!(want.len() > 25 && want.iter().all(|(_, events, _)| *events > 0.0));
}

#[tokio::test]
async fn a_checkpoint_stopped_between_slices_restores_every_report_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let mut seq = [1u64; 30];
    let mut send = |s: &Shared, w: usize| {
        seq[w] += 1;
        accept(s, &report(w as u32, seq[w], 100 * (w as u64 % 10)));
    };
    for w in 0..30 {
        send(&s, w);
    }
    s.checkpoint().unwrap();
    for w in (0..30).step_by(3) {
        send(&s, w);
    }
    // Stopped, as by a crash, after three slices of five worlds: those
    // have this checkpoint's positions, the rest the last one's.
    let mut slices = 0;
    s.write_checkpoint(
        5,
        Duration::ZERO,
        |_| {
            slices += 1;
            for w in [0, 7, 14, 29] {
                send(&s, w);
            }
            slices < 3
        },
        false,
    )
    .unwrap();
    for w in 0..30 {
        send(&s, w);
    }
    let want = uptime(&s);
    s.store.durable(s.store.journal_position()).await.unwrap();
    drop(s);

    let back = open(dir.path());
    assert_eq!(uptime(&back), want);
    // The agents' sequence numbers survive too: a report sent again is a
    // duplicate, not counted twice.
    let again = report(0, seq[0], 1000);
    assert!(matches!(
        back.accept(&again),
        Ok(super::super::Accepted::Duplicate)
    ));
}

#[test]
fn a_world_takes_the_position_of_the_slice_it_falls_in() {
    let cp = Checkpoint {
        journal_position: 10,
        cuts: vec![("b".into(), 20), ("d".into(), 30)],
        engine: None,
        agents: HashMap::new(),
        worlds: BTreeMap::new(),
    };
    let at = |w| cp.position_of(w);
    assert_eq!(
        [at("a"), at("b"), at("ba"), at("c"), at("d"), at("e")],
        [10, 10, 20, 20, 20, 30]
    );
}
