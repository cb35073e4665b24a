//! Arbitrary text as a flag file: no panic, and every error is at a
//! position inside the text (or names the whole file).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (_, errors) = liveops_config::flags::parse_partial("flags.toml", text);
    let errors_none = errors.is_none();
    if let Some(e) = errors {
        check_positions(text, &e);
    }
    // `parse` is `parse_partial` without the partial set: same verdict.
    let whole = liveops_config::flags::parse("flags.toml", text);
    assert_eq!(whole.is_ok(), errors_none);
});

include!("positions.rs");
