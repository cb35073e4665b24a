use super::*;
use crate::ingest::parse::{Line, parse_line};

fn feed(agg: &mut Aggregator, lines: &[&str]) -> Vec<Result<u64, Rejected>> {
    lines
        .iter()
        .map(|l| match parse_line(l.as_bytes()) {
            Ok(Line::Metric(m)) => agg.record(&m),
            other => panic!("{l}: {other:?}"),
        })
        .collect()
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn counters_sum_value_over_rate() {
    let cases: &[(&[&str], f64)] = &[
        (&["request:1|c|@0.1"], 10.0),
        (&["request:1|c", "request:2|c", "request:3|c"], 6.0),
        (&["request:1|c|@0.5", "request:1|c"], 3.0),
        (&["request:1:2|c|@0.5"], 6.0),
        (&["request:-1|c", "request:4|c"], 3.0),
    ];
    for (lines, want) in cases {
        let mut agg = Aggregator::new(10);
        feed(&mut agg, lines);
        let out = agg.take();
        assert_eq!(out.counters.len(), 1, "{lines:?}");
        assert!(
            (out.counters[0].value - want).abs() < 1e-9,
            "{lines:?}: {out:?}"
        );
    }
}

#[test]
fn values_that_would_make_a_series_non_finite_are_dropped_and_counted() {
    // (lines, per-line dropped values, the series' values after, dropped)
    struct Case {
        lines: &'static [&'static str],
        dropped: &'static [u64],
        counter: Option<f64>,
        histogram: Option<(f64, f64)>,
    }
    let cases = [
        Case {
            lines: &["request:1e308|c", "request:1e308|c"],
            dropped: &[0, 1],
            counter: Some(1e308),
            histogram: None,
        },
        Case {
            lines: &["request:1e308:1e308:-1e308|c", "request:5|c"],
            dropped: &[1, 0],
            counter: Some(5.0),
            histogram: None,
        },
        Case {
            lines: &["request:-1e308|c", "request:-1e308|c", "request:1|c"],
            dropped: &[0, 1, 0],
            counter: Some(-1e308 + 1.0),
            histogram: None,
        },
        Case {
            // Weight 2 makes 1e308 infinite on its own.
            lines: &["request:1e308|c|@0.5", "request:2|c"],
            dropped: &[1, 0],
            counter: Some(2.0),
            histogram: None,
        },
        Case {
            // An infinite weight: 1/1e-320 overflows; 0 × inf is NaN.
            lines: &["request:0:1|c|@1e-320", "request:3|c"],
            dropped: &[2, 0],
            counter: Some(3.0),
            histogram: None,
        },
        Case {
            lines: &["lat:1e308|ms", "lat:1e308|ms", "lat:7|ms"],
            dropped: &[0, 1, 0],
            counter: None,
            histogram: Some((2.0, 1e308 + 7.0)),
        },
        Case {
            lines: &["lat:5|ms|@1e-320", "lat:5|ms|@0.5"],
            dropped: &[1, 0],
            counter: None,
            histogram: Some((2.0, 10.0)),
        },
        Case {
            lines: &["request:1|c", "request:2|c"],
            dropped: &[0, 0],
            counter: Some(3.0),
            histogram: None,
        },
    ];
    for c in cases {
        let mut agg = Aggregator::new(10);
        let got = feed(&mut agg, c.lines);
        let want: Vec<_> = c.dropped.iter().map(|d| Ok(*d)).collect();
        assert_eq!(got, want, "{:?}", c.lines);
        let out = agg.take();
        let total: u64 = c.dropped.iter().sum();
        assert_eq!(out.losses.nonfinite_values, total, "{:?}", c.lines);
        if let Some(want) = c.counter {
            assert_eq!(out.counters[0].value, want, "{:?}", c.lines);
        }
        if let Some((count, sum)) = c.histogram {
            let h = &out.histograms[0].histogram;
            assert_eq!((h.count, h.sum), (count, sum), "{:?}", c.lines);
            assert!(h.is_well_formed(), "{:?}", c.lines);
        }
        let report_part = serde_json::to_string(&out.counters).unwrap()
            + &serde_json::to_string(&out.histograms).unwrap();
        assert!(!report_part.contains("null"), "{report_part}");
    }
}

#[test]
fn gauges_keep_the_last_value_and_only_when_set() {
    let mut agg = Aggregator::new(10);
    feed(
        &mut agg,
        &["players:5|g", "players:7|g|@0.5", "players:3:9|g"],
    );
    let out = agg.take();
    assert_eq!(
        out.gauges,
        [GaugeSeries {
            name: "players".into(),
            tags: Tags::new(),
            value: 9.0
        }]
    );
    assert!(
        agg.take().gauges.is_empty(),
        "a gauge not set in the interval is not reported"
    );
}

#[test]
fn histograms_weight_samples_by_one_over_rate() {
    let mut agg = Aggregator::new(10);
    feed(
        &mut agg,
        &["lat:10|ms|@0.25", "lat:100|h", "lat:20:30|d|@0.5"],
    );
    let out = agg.take();
    assert_eq!(out.histograms.len(), 1, "ms, h and d are one series");
    let h = &out.histograms[0].histogram;
    assert_eq!(h.count, 4.0 + 1.0 + 2.0 + 2.0);
    assert_eq!(h.sum, 40.0 + 100.0 + 40.0 + 60.0);
    assert_eq!(h.count_le(10.0), 4.0);
    assert_eq!(h.count_le(30.0), 8.0);
}

#[test]
fn tags_in_another_order_are_the_same_series() {
    let mut agg = Aggregator::new(10);
    feed(
        &mut agg,
        &[
            "request:1|c|#op:march,status:ok",
            "request:1|c|#status:ok,op:march",
            "request:1|c|#status:ok,,op:march",
            "request:1|c|#status:ok,op:march",
            "request:1|c|#op:march,status:error",
            "request:1|g|#op:march,status:ok",
            "request:1|c|#canary",
            "request:1|c|#canary:",
        ],
    );
    assert_eq!(agg.series(), 4);
    let out = agg.take();
    let ok = tags(&[("op", "march"), ("status", "ok")]);
    let c: Vec<_> = out
        .counters
        .iter()
        .map(|s| (s.tags.clone(), s.value))
        .collect();
    assert_eq!(
        c,
        [
            (ok, 4.0),
            (tags(&[("op", "march"), ("status", "error")]), 1.0),
            (tags(&[("canary", "")]), 2.0),
        ]
    );
    assert_eq!(out.gauges.len(), 1, "another type class is another series");
}

#[test]
fn series_beyond_the_limit_are_dropped_and_counted() {
    let mut agg = Aggregator::new(2);
    let got = feed(
        &mut agg,
        &["a:1|c", "b:1|c", "c:1|c", "a:1|c|#x:1", "a:1|c", "c:1|c"],
    );
    let limit = Err(Rejected::SeriesLimit);
    assert_eq!(got, [Ok(0), Ok(0), limit, limit, Ok(0), limit]);
    let out = agg.take();
    assert_eq!(out.counters.len(), 2);
    assert_eq!(out.losses.series_overflow_lines, 3);
    // The limit is per interval.
    assert_eq!(feed(&mut agg, &["c:1|c"]), [Ok(0)]);
}

#[test]
fn invalid_names_and_tags_are_malformed() {
    let mut agg = Aggregator::new(10);
    let cases: [(&[u8], Malformed); 3] = [
        (b"\xff:1|c", Malformed::NotUtf8),
        (b"x:1|c|#a:\xff", Malformed::NotUtf8),
        (b"x:1|c|#a:1,:2", Malformed::EmptyTagKey),
    ];
    for (line, want) in cases {
        let Ok(Line::Metric(m)) = parse_line(line) else {
            panic!("{line:?}")
        };
        assert_eq!(agg.record(&m), Err(Rejected::Malformed(want)), "{line:?}");
    }
    agg.count_malformed(3);
    assert_eq!(agg.series(), 0);
    assert_eq!(agg.take().losses.malformed_lines, 6);
}

#[test]
fn take_resets_the_interval() {
    let mut agg = Aggregator::new(10);
    feed(&mut agg, &["a:1|c", "b:2|g", "c:3|ms"]);
    agg.count_malformed(1);
    let first = agg.take();
    assert_eq!(
        (
            first.counters.len(),
            first.gauges.len(),
            first.histograms.len()
        ),
        (1, 1, 1)
    );
    assert_eq!(agg.series(), 0);
    assert_eq!(agg.take(), Interval::default());
    feed(&mut agg, &["a:5|c"]);
    assert_eq!(
        agg.take().counters[0].value,
        5.0,
        "counters restart from zero"
    );
}

#[test]
fn hasher_separates_keys_that_differ_only_in_padding() {
    let h = |b: &[u8]| {
        let mut s = FoldHasher::default();
        s.write(b);
        s.finish()
    };
    assert_ne!(h(b"a"), h(b"a\0"));
    assert_ne!(h(b"abcdefgh"), h(b"abcdefgh\0"));
    assert_ne!(h(b"request|op:a"), h(b"request|op:b"));
}
