//! Arbitrary text as an agent file: no panic, and every error is at a
//! position inside the text (or names the whole file).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = liveops_config::parse_agent("agent.toml", text) {
        check_positions(text, &e);
    }
});

include!("positions.rs");
