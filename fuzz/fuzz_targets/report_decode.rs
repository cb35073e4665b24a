//! An arbitrary request body through the collector's report decoder. It must
//! not panic, and whatever it accepts must encode and decode again to the
//! same report with nothing refused (what the collector stores is a report
//! it would accept).
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveops_protocol::decode::decode_report;

/// A fixed collector clock, so a finding replays.
const NOW_MS: u64 = 1_800_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode_report(data, NOW_MS) else {
        return;
    };
    if !decoded.health_ok {
        return;
    }
    let body = serde_json::to_vec(&decoded.report).expect("a decoded report encodes");
    let again = decode_report(&body, NOW_MS).expect("a decoded report decodes again");
    assert!(again.refused.is_empty(), "{:?}", again.refused);
    assert_eq!(again.report, decoded.report);
});
