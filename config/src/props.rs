//! Property tests of every file parser an operator's edit reaches: the
//! agent, collector, flag and mitigations files.
//!
//! - Arbitrary text, and arbitrary TOML documents built from the real
//!   section names, keys and plausible values (so they get past the TOML
//!   parser into the validators), never panic, and every error names the
//!   file and either a position inside the text or the whole file.
//! - Documents built from known-good blocks are accepted and read back as
//!   what was written.
//! - A known-good document with one bad value has an error on that value's
//!   line: an operator is sent to the right place.

use std::fmt::Write as _;
use std::time::Duration;

use proptest::prelude::*;

use crate::flags::FlagValue;
use crate::{ConfigErrors, DEFAULT_FLAGS_TOML};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Every diagnostic names the file; a position is a line of the text and a
/// column at most one past that line's last character.
fn check_positions(file: &str, text: &str, e: &ConfigErrors) -> Result<(), TestCaseError> {
    prop_assert!(!e.0.is_empty(), "an error without a diagnostic");
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &e.0 {
        prop_assert_eq!(&d.file, file);
        prop_assert!(!d.message.trim().is_empty(), "{:?}", d);
        if let Some((line, col)) = d.position {
            prop_assert!(line >= 1 && line <= lines.len(), "{} outside the text", d);
            let width = lines[line - 1].chars().count();
            prop_assert!(
                col >= 1 && col <= width + 1,
                "{} past column {}",
                d,
                width + 1
            );
        }
    }
    Ok(())
}

fn catalogue() -> crate::flags::FlagSet {
    crate::flags::parse("flags.toml", DEFAULT_FLAGS_TOML).unwrap()
}

/// Runs every parser over `text` and checks their errors.
fn parse_all(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = crate::parse_agent("agent.toml", text) {
        check_positions("agent.toml", text, &e)?;
    }
    if let Err(e) = crate::parse_collector("collector.toml", text) {
        check_positions("collector.toml", text, &e)?;
    }
    let (_, flag_errors) = crate::flags::parse_partial("flags.toml", text);
    if let Some(e) = &flag_errors {
        check_positions("flags.toml", text, e)?;
    }
    prop_assert_eq!(
        crate::flags::parse("flags.toml", text).is_ok(),
        flag_errors.is_none()
    );
    if let Err(e) = crate::parse_mitigations("mitigations.toml", text, &catalogue()) {
        check_positions("mitigations.toml", text, &e)?;
    }
    Ok(())
}

// Known-good building blocks shared by the generators.

/// A positive duration as written and as read.
fn duration() -> impl Strategy<Value = (String, Duration)> {
    (
        1u64..10_000,
        prop::sample::select(vec!["ms", "s", "m", "h"]),
    )
        .prop_map(|(n, unit)| {
            let d = match unit {
                "ms" => Duration::from_millis(n),
                "s" => Duration::from_secs(n),
                "m" => Duration::from_secs(n * 60),
                _ => Duration::from_secs(n * 3600),
            };
            (format!("{n}{unit}"), d)
        })
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{0,15}"
}

/// An http(s) URL as written, and as stored (no trailing slash).
fn url() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(vec!["http", "https"]),
        "[a-z][a-z0-9.-]{0,12}(:[0-9]{1,5})?",
        "(/[a-z0-9]{1,6}){0,2}",
        any::<bool>(),
    )
        .prop_map(|(scheme, host, path, slash)| {
            let stored = format!("{scheme}://{host}{path}");
            let written = if slash {
                format!("{stored}/")
            } else {
                stored.clone()
            };
            (written, stored)
        })
}

fn addr() -> impl Strategy<Value = std::net::SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| (ip, port).into()),
        (any::<[u16; 8]>(), any::<u16>()).prop_map(|(ip, port)| (
            std::net::Ipv6Addr::from(ip),
            port
        )
            .into()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    "/?[a-z0-9_.-]{1,8}(/[a-z0-9_.-]{1,8}){0,2}"
}

fn words() -> impl Strategy<Value = String> {
    "[A-Za-z]([A-Za-z ,.'-]{0,24}[A-Za-z.])?"
}

mod agent;
mod arbitrary;
mod catalogue;
mod collector;
