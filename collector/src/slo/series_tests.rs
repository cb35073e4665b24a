//! Tests of [`Series`]: placement, window sums per resolution, pruning,
//! persistence.

use super::chunks::{BadChunk, CHUNK, CHUNK_BYTES, ChunkOp};
use super::*;
use crate::slo::test_support::{DAY, HOUR, MIN};

const SEC: Duration = Duration::from_secs(1);

fn one(total: f64) -> Counts {
    Counts { good: total, total }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// One event a second for `span`, as per-second reports ending at `end`.
fn steady(span: Duration, end: Duration) -> Series {
    let mut s = Series::new(30 * DAY);
    for sec in (end - span).as_secs()..end.as_secs() {
        s.add(sec * 1000 + 999, one(1.0));
    }
    s
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn buckets_take_in_order_out_of_order_and_drop_too_old_samples() {
    let mut ring = Ring::new(1000, 4);
    // (at_ms, events); the ring ends up holding buckets 7..=10.
    let adds = [
        (10_500, 1.0),
        (7_000, 2.0),
        (6_999, 4.0),
        (9_999, 8.0),
        (10_000, 16.0),
    ];
    for (at, n) in adds {
        ring.add(at, one(n));
    }
    let cases = [
        // (now_ms, window_ms, total): 6_999 fell out of the 4-slot ring.
        (11_000, 1_000, 17.0),
        (11_000, 2_000, 25.0),
        (11_000, 4_000, 27.0),
        (11_000, 10_000, 27.0),
        (10_000, 3_000, 10.0),
        (7_001, 1, 2.0),
    ];
    for (now, window, total) in cases {
        assert_eq!(ring.sum(now, window).total, total, "sum({now}, {window})");
    }
}

#[test]
fn a_sample_far_ahead_empties_the_ring() {
    let mut ring = Ring::new(1000, 4);
    ring.add(1_000, one(1.0));
    ring.add(100_000, one(2.0));
    ring.add(1_500, one(4.0)); // now too old
    assert_eq!(ring.sum(100_001, 100_000).total, 2.0);
}

#[test]
fn steady_traffic_sums_exactly_at_every_resolution() {
    // Mid-minute and mid-hour, so every window's far edge cuts a bucket.
    let now = 2 * DAY + 30 * MIN + 30 * SEC;
    let s = steady(2 * DAY, now);
    let windows = [
        SEC,
        10 * SEC,
        127 * SEC,
        128 * SEC,
        5 * MIN,
        90 * MIN,
        6 * HOUR,
        7 * HOUR,
        DAY,
    ];
    for w in windows {
        let c = s.sum(ms(now), w);
        assert!(close(c.total, w.as_secs_f64()), "{w:?}: {}", c.total);
    }
    // Longer than the data: everything there is.
    assert!(close(
        s.sum(ms(now), 30 * DAY).total,
        (2 * DAY).as_secs_f64()
    ));
}

#[test]
fn each_window_uses_the_finest_ring_that_holds_it() {
    // One burst of 60 events; a coarser ring would count a share of it.
    let cases = [
        // (burst at now − x, window, expected total)
        (100 * SEC, 99 * SEC, 0.0),
        (100 * SEC, 101 * SEC, 60.0),
        (2 * HOUR, 119 * MIN, 0.0),
        (2 * HOUR, 121 * MIN, 60.0),
        (7 * HOUR, 6 * HOUR, 0.0),
        (7 * HOUR, 8 * HOUR, 60.0),
    ];
    let now = 10 * HOUR;
    for (ago, window, total) in cases {
        let mut s = Series::new(30 * DAY);
        s.add(ms(now - ago), one(60.0));
        assert_eq!(
            s.sum(ms(now), window).total,
            total,
            "burst {ago:?} ago, window {window:?}"
        );
    }
}

#[test]
fn the_straddling_bucket_counts_pro_rata() {
    let mut s = Series::new(30 * DAY);
    // 60 events in the minute bucket [60 s, 120 s).
    s.add(ms(90 * SEC), one(60.0));
    // A 5-minute window ending at 6 min starts at 1 min: the whole bucket.
    assert_eq!(s.sum(ms(6 * MIN), 5 * MIN).total, 60.0);
    // Ending at 6 min 15 s it starts 15 s into the bucket: three quarters.
    assert_eq!(s.sum(ms(6 * MIN + 15 * SEC), 5 * MIN).total, 45.0);
}

#[test]
fn pruning_forgets_what_left_retention() {
    let mut s = Series::new(DAY);
    s.add(ms(HOUR), one(1.0));
    s.prune(ms(HOUR + 200 * SEC));
    // Gone from the seconds ring even for a query "in the past"; the minutes
    // keep it, and a late sample lands only where it still fits.
    assert_eq!(s.sum(ms(HOUR + SEC), 60 * SEC).total, 0.0);
    s.add(ms(HOUR), one(2.0));
    assert_eq!(s.sum(ms(HOUR + 200 * SEC), 5 * MIN).total, 3.0);
    assert_eq!(s.sum(ms(HOUR + SEC), 60 * SEC).total, 0.0);
    // Past the hour ring of a one-day SLO (26 slots), nothing is left.
    s.prune(ms(HOUR + 27 * HOUR));
    assert_eq!(s.sum(ms(28 * HOUR), 30 * DAY).total, 0.0);
}

/// `s`'s changed chunks, loaded into a fresh series in key order.
fn through_chunks(s: &mut Series, period: Duration) -> (Series, usize) {
    let mut puts = Vec::new();
    s.take_chunks(&mut |op| {
        if let ChunkOp::Put { ring, chunk, bytes } = op {
            puts.push((ring, chunk, bytes));
        }
    });
    puts.sort_by_key(|(r, c, _)| (*r, *c));
    let mut back = Series::new(period);
    for (ring, chunk, bytes) in &puts {
        back.load_chunk(*ring, *chunk, bytes, &mut |_| {})
            .expect("a chunk just written");
    }
    (back, puts.len())
}

#[test]
fn chunks_keep_minutes_and_hours() {
    let now = DAY + 17 * MIN;
    let mut s = steady(DAY, now);
    s.add(
        ms(now - 10 * MIN),
        Counts {
            good: 0.0,
            total: 7.0,
        },
    );
    let (back, _) = through_chunks(&mut s, 30 * DAY);
    for w in [5 * MIN, HOUR, 6 * HOUR, 12 * HOUR, 30 * DAY] {
        let (a, b) = (s.sum(ms(now), w), back.sum(ms(now), w));
        assert!(
            close(a.total, b.total) && close(a.good, b.good),
            "{w:?}: {a:?} vs {b:?}"
        );
    }
    // Seconds are not persisted.
    assert_eq!(back.sum(ms(now), 60 * SEC), Counts::default());
    assert_eq!(
        back.held_span_ms().map(|(_, last)| last),
        Some(ms(now - MIN))
    );
}

#[test]
fn a_checkpoint_takes_only_the_chunks_that_changed() {
    let now = DAY;
    let mut s = steady(DAY, now);
    let (_, all) = through_chunks(&mut s, 30 * DAY);
    // Minutes 1074..=1439 (the ring's 366) are chunks 67..=89, hours
    // 0..=23 chunks 0 and 1.
    assert_eq!(all, 23 + 2);
    assert_eq!(through_chunks(&mut s, 30 * DAY).1, 0, "nothing changed");
    s.add(ms(now + SEC), one(1.0));
    assert_eq!(
        through_chunks(&mut s, 30 * DAY).1,
        2,
        "one minute chunk, one hour chunk"
    );
    // A late sample from a replayed spool changes an older chunk.
    s.add(ms(now - 3 * HOUR), one(1.0));
    assert_eq!(through_chunks(&mut s, 30 * DAY).1, 2);
    s.mark_all_changed();
    // A minute on: minutes 1075..=1440, chunks 67..=90.
    assert_eq!(through_chunks(&mut s, 30 * DAY).1, 24 + 2);
}

#[test]
fn chunks_that_left_retention_are_dropped_once() {
    let mut s = Series::new(DAY);
    s.add(ms(HOUR), one(1.0));
    let _ = through_chunks(&mut s, DAY);
    // Seven hours on, the minute ring (6 h) no longer holds that chunk.
    s.add(ms(8 * HOUR), one(1.0));
    let mut ops = Vec::new();
    s.take_chunks(&mut |op| ops.push(op));
    let drops: Vec<_> = ops
        .iter()
        .filter(|op| matches!(op, ChunkOp::Drop { .. }))
        .collect();
    assert_eq!(
        drops,
        [&ChunkOp::Drop {
            ring: 1,
            from: 60 / CHUNK as u64,
            to: (8 * 60 - 365) / CHUNK as u64,
        }]
    );
    s.take_chunks(&mut |op| assert!(!matches!(op, ChunkOp::Drop { .. }), "{op:?}"));
}

#[test]
fn a_damaged_chunk_is_refused_or_sanitised() {
    let mut s = Series::new(DAY);
    assert_eq!(
        s.load_chunk(1, 0, &[0; 7], &mut |_| {}),
        Err(BadChunk::Length(7))
    );
    assert_eq!(
        s.load_chunk(0, 0, &[0; CHUNK_BYTES], &mut |_| {}),
        Err(BadChunk::Ring(0))
    );
    let mut bytes = [0; CHUNK_BYTES];
    let pair = |good: f64, total: f64| [good.to_le_bytes(), total.to_le_bytes()].concat();
    bytes[..16].copy_from_slice(&pair(f64::NAN, 5.0));
    bytes[16..32].copy_from_slice(&pair(9.0, 4.0));
    bytes[32..48].copy_from_slice(&pair(1.0, f64::INFINITY));
    s.load_chunk(1, 0, &bytes, &mut |_| {}).expect("sanitised");
    let sum = s.sum(ms(3 * MIN), 3 * MIN);
    assert_eq!(
        sum,
        Counts {
            good: 4.0,
            total: 9.0
        }
    );
}

#[test]
fn import_sanitises_a_damaged_state() {
    let ring = |total: Vec<f64>, bad: Vec<f64>| RingState {
        start_ms: 0,
        total,
        bad,
    };
    let state = SeriesState {
        minutes: ring(vec![5.0, f64::NAN, -3.0, 4.0], vec![1.0, 0.0, 0.0]),
        hours: ring(vec![f64::INFINITY], vec![9.0]),
    };
    let s = Series::import(DAY, &state);
    assert_eq!(
        s.sum(ms(HOUR), HOUR),
        Counts {
            good: 4.0,
            total: 5.0
        }
    );
    assert_eq!(s.sum(ms(10 * HOUR), 10 * HOUR), Counts::default());
}

#[test]
fn memory_per_series_is_fixed_and_small() {
    let mut s = Series::new(30 * DAY);
    let before = s.heap_bytes();
    for sec in 0..3 * 3600 {
        s.add(sec * 1000, one(1.0));
    }
    assert_eq!(s.heap_bytes(), before);
    // 128 + 366 + 722 buckets of 16 bytes; 5,000 series ≈ 97 MB.
    assert_eq!(before, (128 + 366 + 722) * 16);
}

#[test]
fn sums_over_a_wrapped_ring_match_the_bucket_by_bucket_sum() {
    // Seconds (128 slots) wrap every ~2 minutes, minutes (366) every ~6 h;
    // uneven counts, so a bucket counted twice or missed shows.
    let mut s = Series::new(30 * DAY);
    for sec in 0..(8 * 3600u64) {
        s.add(sec * 1000 + 500, one((sec % 7) as f64));
    }
    let now: u64 = 8 * 3600 * 1000 + 250;
    for ring in [&s.seconds, &s.minutes, &s.hours] {
        for window_ms in [
            1,
            999,
            1000,
            1500,
            61_000,
            3_600_000,
            7 * 3_600_000,
            u64::MAX,
        ] {
            let naive = {
                let (head, end) = (ring.head.unwrap(), now - 1);
                let start = now.saturating_sub(window_ms);
                let (first, last) = (start / ring.res_ms, end / ring.res_ms);
                let oldest = (head + 1).saturating_sub(ring.len());
                let mut acc = Counts::default();
                for k in first.max(oldest)..=last.min(head) {
                    let c = ring.slots[(k % ring.len()) as usize];
                    if k == first && first < last {
                        let inside = (first + 1) * ring.res_ms - start;
                        acc += c.scaled(inside as f64 / ring.res_ms as f64);
                    } else {
                        acc += c;
                    }
                }
                acc
            };
            assert_eq!(
                ring.sum(now, window_ms),
                naive,
                "{} ms of a {} ms ring",
                window_ms,
                ring.res_ms
            );
        }
    }
}
