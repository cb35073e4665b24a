//! Property tests of the aggregator: whatever lines the parser lets
//! through, recording them never panics, never exceeds the series limit,
//! never leaves a NaN or an infinity in the interval (the report could not
//! carry it), and every line or value not recorded is counted as a loss.

use proptest::prelude::*;

use super::*;
use crate::ingest::parse::props::valid_line;
use crate::ingest::parse::{Line, parse_line};

/// Lines at the edges of f64: values near the overflow threshold, rates so
/// small that `1/rate` is infinite, names that are not UTF-8, empty tag
/// keys, and tags spelled in several orders, over few names so that series
/// collide and sums grow.
fn edge_line() -> impl Strategy<Value = Vec<u8>> {
    let name = prop::sample::select(vec![&b"request"[..], b"tick.duration", b"x", b"\xffbad"]);
    let value = prop::sample::select(vec![
        "1",
        "-1",
        "0",
        "1e308",
        "-1e308",
        "1.7976931348623157e308",
        "-1.7976931348623157e308",
        "3e307",
        "5e-324",
        "30000.5",
    ]);
    let values = prop::collection::vec(value, 1..4).prop_map(|v| v.join(":"));
    let ty = prop::sample::select(vec!["c", "g", "ms", "h", "d"]);
    let rate = prop::sample::select(vec![
        "",
        "|@1",
        "|@0.5",
        "|@1e-300",
        "|@1e-320",
        "|@5e-324",
        "|@2.2250738585072014e-308",
    ]);
    let tags = prop::sample::select(vec![
        "",
        "|#a:1",
        "|#a:1,b:2",
        "|#b:2,a:1",
        "|#a:1,,b:2",
        "|#a",
        "|#:x",
        "|#a:\u{e9}",
        "|#a:1,a:2",
    ]);
    (name, values, ty, rate, tags).prop_map(|(name, values, ty, rate, tags)| {
        let mut line = name.to_vec();
        line.extend_from_slice(format!(":{values}|{ty}{rate}{tags}").as_bytes());
        line
    })
}

fn any_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => edge_line(),
        1 => valid_line().prop_map(|v| v.text.into_bytes()),
    ]
}

fn assert_finite(out: &Interval) -> Result<(), TestCaseError> {
    for c in &out.counters {
        prop_assert!(c.value.is_finite(), "{c:?}");
    }
    for g in &out.gauges {
        prop_assert!(g.value.is_finite(), "{g:?}");
    }
    for h in &out.histograms {
        let hist = &h.histogram;
        prop_assert!(hist.is_well_formed(), "{h:?}");
        prop_assert!(hist.sum.is_finite() && hist.count.is_finite(), "{h:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_lines_stay_finite_bounded_and_counted(
        max_series in 1usize..6,
        intervals in prop::collection::vec(prop::collection::vec(any_line(), 0..24), 1..4),
    ) {
        let mut agg = Aggregator::new(max_series);
        for lines in intervals {
            let (mut dropped, mut overflow, mut malformed) = (0u64, 0u64, 0u64);
            for line in &lines {
                let Ok(Line::Metric(m)) = parse_line(line) else { continue };
                match agg.record(&m) {
                    Ok(n) => {
                        prop_assert!(n <= u64::from(m.value_count()));
                        dropped += n;
                    }
                    Err(Rejected::SeriesLimit) => overflow += 1,
                    Err(Rejected::Malformed(_)) => malformed += 1,
                }
                prop_assert!(agg.series() <= max_series);
            }
            let out = agg.take();
            assert_finite(&out)?;
            prop_assert!(out.counters.len() + out.gauges.len() + out.histograms.len() <= max_series);
            prop_assert_eq!(out.losses.nonfinite_values, dropped);
            prop_assert_eq!(out.losses.series_overflow_lines, overflow);
            prop_assert_eq!(out.losses.malformed_lines, malformed);
            prop_assert_eq!(agg.series(), 0);
        }
    }
}
