//! Property test of a whole datagram through [`Shared::ingest`], the path
//! every UDP and Unix packet takes: no input panics the listener thread,
//! every non-empty line is counted exactly once, and the interval it
//! produces holds only finite numbers.

use proptest::prelude::*;

use super::*;
use crate::ingest::parse::props::valid_line;

fn datagram() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        valid_line().prop_map(|v| v.text.into_bytes()),
        prop::collection::vec(any::<u8>(), 0..40),
        "[a-c]{1,3}:(1e308|-1e308|1|5e-324|nan|x)(:1e308)?\\|(c|g|ms|s)(\\|@(1e-320|0.5|0))?(\\|#[a-c:,]{0,6})?"
            .prop_map(String::into_bytes),
        Just(b"tick.duration:1:2|ms".to_vec()),
    ];
    prop::collection::vec(line, 0..16).prop_map(|ls| ls.join(&b'\n'))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_datagram_is_ingested_counted_and_finite(
        max_series in 1usize..8,
        datagrams in prop::collection::vec(datagram(), 1..4),
    ) {
        let shared = Shared::new(max_series);
        let mut buf = LineBuf::default();
        let now = Instant::now();
        let mut lines = 0u64;
        for d in &datagrams {
            lines += parse::lines(d).count() as u64;
            shared.ingest(d, now, &mut buf);
        }
        let s = &shared.stats;
        prop_assert_eq!(s.lines.load(Relaxed), lines);
        prop_assert_eq!(s.datagrams.load(Relaxed), datagrams.len() as u64);
        let rejected = s.malformed_lines.load(Relaxed)
            + s.unsupported_lines.load(Relaxed)
            + s.series_overflow_lines.load(Relaxed);
        prop_assert!(rejected <= lines);
        let out = shared.take_interval();
        prop_assert_eq!(out.losses.malformed_lines, s.malformed_lines.load(Relaxed));
        prop_assert_eq!(out.losses.series_overflow_lines, s.series_overflow_lines.load(Relaxed));
        prop_assert_eq!(out.losses.nonfinite_values, s.nonfinite_values.load(Relaxed));
        prop_assert!(out.counters.iter().all(|c| c.value.is_finite()));
        prop_assert!(out.gauges.iter().all(|g| g.value.is_finite()));
        prop_assert!(out.histograms.iter().all(|h| h.histogram.is_well_formed()
            && h.histogram.sum.is_finite()
            && h.histogram.count.is_finite()));
    }
}
