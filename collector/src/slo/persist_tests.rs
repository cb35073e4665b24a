use super::*;
use crate::slo::Counts;
use crate::slo::test_support::{ChunkStore, DAY, ratio_bad_slo, uptime_slo};

fn engine() -> Engine {
    Engine::new(vec![uptime_slo(), ratio_bad_slo(&[])])
}

const ONE: [Counts; 2] = [Counts {
    good: 1.0,
    total: 1.0,
}; 2];

#[test]
fn keys_read_back_and_sort_by_world_slo_ring_then_time() {
    let k = key("eu-1", "uptime", 2, 300);
    assert_eq!(parse_key(&k), Some(("eu-1", "uptime", 2, 300)));
    assert!(key("eu-1", "uptime", 1, u64::MAX) < key("eu-1", "uptime", 2, 0));
    assert!(key("eu-1", "uptime", 2, 255) < key("eu-1", "uptime", 2, 256));
    assert!(
        key("eu-1", "zz", 2, 0) < key("eu-10", "a", 1, 0),
        "NUL ends a world"
    );
    for bad in [
        &b"series/"[..],
        b"series/w\0slo\0",
        b"other/w\0s\0\x01\0\0\0\0\0\0\0\0",
    ] {
        assert_eq!(parse_key(bad), None, "{bad:?}");
    }
}

#[test]
fn a_forgotten_world_leaves_the_store() {
    let mut e = engine();
    let mut store = ChunkStore::default();
    e.add_samples("gone", 1000, &ONE);
    e.add_samples("stays", 1000, &ONE);
    store.checkpoint(&mut e);
    assert!(store.0.keys().any(|k| k.starts_with(b"series/gone\0")));
    // Only `stays` reports over the next 31 days.
    let later = 31 * DAY.as_millis() as u64;
    e.add_samples("stays", later, &ONE);
    e.prune(later);
    store.checkpoint(&mut e);
    assert!(!store.0.keys().any(|k| k.starts_with(b"series/gone\0")));
    assert!(store.0.keys().any(|k| k.starts_with(b"series/stays\0")));
    let back = store.restore(engine().slos().to_vec());
    assert_eq!(back.worlds().collect::<Vec<_>>(), ["stays"]);
}

#[test]
fn a_steady_fleet_writes_two_chunks_per_series_per_checkpoint() {
    let mut e = engine();
    let mut store = ChunkStore::default();
    for w in 0..100 {
        e.add_samples(&format!("w{w}"), 1000, &ONE);
    }
    store.checkpoint(&mut e);
    for w in 0..100 {
        e.add_samples(&format!("w{w}"), 31_000, &ONE);
    }
    // 100 worlds × 2 SLOs × (one minute chunk + one hour chunk).
    assert_eq!(store.checkpoint(&mut e), 400);
    assert_eq!(store.checkpoint(&mut e), 0);
}
