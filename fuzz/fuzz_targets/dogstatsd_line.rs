//! A datagram of arbitrary bytes through the agent's DogStatsD path: split
//! into lines, parsed, aggregated. Nothing may panic and the interval must
//! hold only finite numbers (the report encoder refuses the others).
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveops_agent::ingest::Aggregator;
use liveops_agent::ingest::parse::{Line, lines, parse_line};

fuzz_target!(|data: &[u8]| {
    let mut agg = Aggregator::new(64);
    for line in lines(data) {
        if let Ok(Line::Metric(m)) = parse_line(line) {
            assert!(m.values().all(f64::is_finite), "{m:?}");
            assert!(m.rate > 0.0 && m.rate <= 1.0, "{m:?}");
            let _ = agg.record(&m);
        }
    }
    let out = agg.take();
    assert!(out.counters.iter().all(|c| c.value.is_finite()));
    assert!(out.gauges.iter().all(|g| g.value.is_finite()));
    for h in &out.histograms {
        let h = &h.histogram;
        assert!(h.sum.is_finite() && h.count.is_finite());
        assert!(h.counts.iter().all(|c| c.is_finite()));
    }
});
