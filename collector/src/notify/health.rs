//! Whether each channel is working: the view behind `NotifierFailing`.
//!
//! A delivery is reported failed only after the channel's own retries ran
//! to their deadline, so one failure already means minutes of a receiver
//! not taking pages: the channel counts as failing from its first failed
//! delivery until one goes through again.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Health {
    channels: Mutex<BTreeMap<String, State>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct State {
    /// Failed deliveries since the last one that went through.
    failures: u32,
    last_error: String,
    since_ms: u64,
}

/// A channel whose last delivery failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Failing {
    pub channel: String,
    /// Failed deliveries in a row.
    pub failures: u32,
    /// Why the last one failed (no secrets: channels never put them there).
    pub last_error: String,
    /// When the first of them failed.
    pub since_ms: u64,
}

impl Health {
    pub fn record(&self, channel: &str, result: &Result<(), String>, now_ms: u64) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let state = channels.entry(channel.to_owned()).or_default();
        match result {
            Ok(()) => *state = State::default(),
            Err(why) => {
                if state.failures == 0 {
                    state.since_ms = now_ms;
                }
                state.failures = state.failures.saturating_add(1);
                state.last_error.clone_from(why);
            }
        }
    }

    pub fn failing(&self) -> Vec<Failing> {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels
            .iter()
            .filter(|(_, s)| s.failures > 0)
            .map(|(name, s)| Failing {
                channel: name.clone(),
                failures: s.failures,
                last_error: s.last_error.clone(),
                since_ms: s.since_ms,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_fails_from_its_first_failed_delivery_until_one_goes_through() {
        let h = Health::default();
        h.record("slack", &Ok(()), 1);
        h.record("pd", &Err("answered 500".into()), 10);
        h.record("pd", &Err("answered 503".into()), 20);
        assert_eq!(
            h.failing(),
            [Failing {
                channel: "pd".into(),
                failures: 2,
                last_error: "answered 503".into(),
                since_ms: 10,
            }]
        );
        h.record("pd", &Ok(()), 30);
        assert!(h.failing().is_empty());
    }
}
