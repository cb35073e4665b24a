//! The fleet series kept at ingest against its definition: the sum of every
//! world's series, after random samples in order, late, too old, far ahead,
//! pruning, worlds forgotten and imports.

use super::test_support::{ChunkStore, DAY, HOUR, MIN, latency_slo, ratio_bad_slo, uptime_slo};
use super::*;

/// xorshift64: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn engine() -> Engine {
    let mut short = uptime_slo();
    short.name = "short".into();
    short.period = DAY;
    Engine::new(vec![ratio_bad_slo(&[]), short, latency_slo(250.0, &[])])
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Every window the rules and status use, and some no ring holds whole.
const WINDOWS: [Duration; 9] = [
    Duration::from_secs(1),
    Duration::from_secs(30),
    Duration::from_secs(127),
    Duration::from_secs(300),
    Duration::from_secs(3600),
    Duration::from_secs(6 * 3600 + 300),
    Duration::from_secs(3 * 86_400),
    Duration::from_secs(30 * 86_400),
    Duration::from_secs(400 * 86_400),
];

fn assert_fleet_is_the_sum(e: &Engine, now_ms: u64, what: &str) {
    for slo in 0..e.slos.len() {
        for w in WINDOWS {
            let fleet = e.window(Scope::Fleet, slo, now_ms, w);
            let sum: Counts = e
                .worlds
                .values()
                .map(|x| x.series[slo].sum(now_ms, w))
                .sum();
            for (a, b, which) in [
                (fleet.good, sum.good, "good"),
                (fleet.total, sum.total, "total"),
            ] {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{what}: SLO {slo}, {w:?} at {now_ms}: fleet {which} {a} != sum of worlds {b}"
                );
            }
        }
    }
    let first = e
        .worlds
        .values()
        .map(|w| w.first_ms)
        .min()
        .unwrap_or(u64::MAX);
    let expected = Duration::from_millis(now_ms.saturating_sub(first.min(now_ms)));
    assert_eq!(e.history(Scope::Fleet, now_ms), expected, "{what}: history");
}

#[test]
fn fleet_series_equals_the_sum_of_world_series_after_random_changes() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut e = engine();
    let mut store = ChunkStore::default();
    let mut now = ms(40 * DAY);
    for step in 0..6000 {
        let world = format!("w{}", rng.below(12));
        // Mostly the last second; some late (a replayed spool), some past
        // every ring, some from an agent clock far ahead.
        let at = match rng.below(20) {
            0 => now - rng.below(ms(7 * HOUR)),
            1 => now - rng.below(ms(35 * DAY)),
            2 => now + rng.below(ms(2 * DAY)),
            3 => now + rng.below(ms(10 * MIN)),
            _ => now - rng.below(2000),
        };
        // Whole events, quarters (uptime) and tenths, which binary
        // floats cannot hold exactly.
        let c = |rng: &mut Rng| {
            let total = rng.below(40) as f64 / [1.0, 4.0, 10.0][rng.below(3) as usize];
            Counts::clamped(total - rng.below(3) as f64 / 10.0, total)
        };
        let counts = [c(&mut rng), c(&mut rng), c(&mut rng)];
        e.add_samples(&world, at, &counts);
        now += rng.below(1500);
        match rng.below(400) {
            0 => e.prune(now),
            // Long enough for some worlds to be forgotten.
            1 => now += ms(DAY) + rng.below(ms(DAY)),
            _ => {}
        }
        // Checkpoints as the collector takes them: pruned, then the
        // changed chunks only.
        if step % 50 == 0 {
            e.prune(now);
            store.checkpoint(&mut e);
        }
        if step % 97 == 0 {
            assert_fleet_is_the_sum(&e, now, &format!("step {step}"));
            assert_fleet_is_the_sum(&e, now + ms(HOUR), &format!("step {step}, an hour on"));
        }
    }
    assert_fleet_is_the_sum(&e, now, "end");

    // Restored from the chunks the incremental checkpoints left: every
    // world and the fleet as they are, for every window the persisted
    // rings answer.
    e.prune(now);
    store.checkpoint(&mut e);
    let back = store.restore(engine().slos().to_vec());
    assert_fleet_is_the_sum(&back, now, "restored");
    assert_eq!(
        back.worlds().collect::<Vec<_>>(),
        e.worlds().collect::<Vec<_>>()
    );
    for (slo, w) in [(0, HOUR), (1, DAY), (2, 5 * MIN), (0, 30 * DAY)] {
        for scope in e.scopes() {
            let (a, b) = (
                e.window(scope, slo, now, w),
                back.window(scope, slo, now, w),
            );
            assert!(
                (a.total - b.total).abs() < 1e-6 && (a.good - b.good).abs() < 1e-6,
                "{scope:?} SLO {slo} {w:?}: {a:?} vs {b:?}"
            );
        }
    }

    // Every world forgotten: nothing is left, not even a rounding residue.
    let later = now + ms(100 * DAY);
    e.prune(later);
    assert_eq!(e.worlds().count(), 0);
    for slo in 0..3 {
        assert_eq!(e.fleet[slo].buckets(), 0, "SLO {slo}");
        assert_eq!(
            e.window(Scope::Fleet, slo, later, 30 * DAY),
            Counts::default()
        );
    }
    assert_eq!(e.history(Scope::Fleet, later), Duration::ZERO);
}

#[test]
fn one_agent_clock_far_ahead_empties_its_world_not_the_fleet() {
    let mut e = engine();
    let now = ms(10 * DAY);
    let one = [Counts {
        good: 1.0,
        total: 1.0,
    }; 3];
    for s in 0..60 {
        e.add_samples("w1", now - 60_000 + s * 1000, &one);
        e.add_samples("w2", now - 60_000 + s * 1000, &one);
    }
    e.add_samples("w2", now + ms(DAY), &one);
    let fleet = e.window(Scope::Fleet, 0, now, Duration::from_secs(60));
    assert_eq!(fleet.total, 60.0, "w1's minute stays, w2's is gone");
    assert_fleet_is_the_sum(&e, now, "ahead");
}
