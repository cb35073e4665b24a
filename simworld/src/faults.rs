//! The ways the world can be told to misbehave.
//!
//! Each fault imitates one real incident the liveops pipeline must notice,
//! and each is chosen so that exactly one signal goes wrong: a detector that
//! fires on the wrong fault is easy to spot in a drill. The two state
//! faults ([`Fault::Exploit`], [`Fault::Corruption`]) make no signal go
//! wrong at all: like their real counterparts, they show only in the
//! world's state, where snapshots, diffs and a targeted rollback find them.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One injected failure. At most one is active at a time, which keeps drills
/// unambiguous about what the alert should have said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The game loop hangs (a deadlock, an endless loop in a script) while
    /// the HTTP thread keeps answering health checks with 200. Only the
    /// missing `tick.duration` heartbeat gives it away, which is why the
    /// agent treats ticks as the heartbeat rather than trusting the probe.
    TickStall,
    /// Every player request fails (a bad deploy, a dependency down).
    ErrorBurst,
    /// Every payment fails (the payment provider is refusing us).
    PaymentFailure,
    /// Logins take 2–5 s (the auth backend is overloaded).
    AuthSlow,
    /// The process is as good as gone: health answers 503 and ticks stop.
    Down,
    /// Ticks go on but fall behind: combat resolution is stuck (a lock on
    /// the battle table, a script that always yields), so overdue armies
    /// pile up in `tick.backlog` while every request and heartbeat still
    /// looks fine.
    TickBacklog,
    /// A duplication exploit: one suspect player (see
    /// [`crate::World::exploit_suspect`]) mints gold and wood in each of
    /// their villages every tick and, every tenth tick, passes gold on to a
    /// village of another player, which then names the suspect's village as
    /// its `last_trade`. Telemetry stays healthy; a diff of two snapshots
    /// shows the suspect's villages and the trade partners a rollback must
    /// weigh as collateral.
    Exploit,
    /// Data corruption (a bad migration, a torn write): every tick a few
    /// villages get impossible values, a town hall of level 0, no
    /// spearmen, a million times their food. Ticks and telemetry go on as
    /// if nothing happened.
    Corruption,
}

impl Fault {
    /// Every fault, in the order they are documented.
    pub const ALL: [Fault; 8] = [
        Fault::TickStall,
        Fault::ErrorBurst,
        Fault::PaymentFailure,
        Fault::AuthSlow,
        Fault::Down,
        Fault::TickBacklog,
        Fault::Exploit,
        Fault::Corruption,
    ];

    /// The kebab-case name used on the command line and over HTTP.
    pub fn name(self) -> &'static str {
        match self {
            Fault::TickStall => "tick-stall",
            Fault::ErrorBurst => "error-burst",
            Fault::PaymentFailure => "payment-failure",
            Fault::AuthSlow => "auth-slow",
            Fault::Down => "down",
            Fault::TickBacklog => "tick-backlog",
            Fault::Exploit => "exploit",
            Fault::Corruption => "corruption",
        }
    }

    /// Whether the tick loop stops under this fault.
    pub(crate) fn stops_ticks(self) -> bool {
        matches!(self, Fault::TickStall | Fault::Down)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that is not one of [`Fault::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault `{0}` (expected one of: tick-stall, error-burst, payment-failure, auth-slow, down, tick-backlog, exploit, corruption)"
)]
pub struct ParseFaultError(String);

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Fault, ParseFaultError> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| ParseFaultError(s.to_owned()))
    }
}

// Serde goes through the same names as `FromStr`, so an HTTP client that
// misspells a fault gets the list of valid ones rather than serde's generic
// "unknown variant" text with Rust-cased names.
impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fault, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The active fault, shared by the tick thread and the HTTP handlers.
///
/// An atomic rather than a mutex: the tick loop reads it every tick and must
/// never wait on an HTTP handler.
#[derive(Debug, Default)]
pub(crate) struct FaultSwitch(AtomicU8);

impl FaultSwitch {
    pub(crate) fn get(&self) -> Option<Fault> {
        decode(self.0.load(Ordering::Relaxed))
    }

    /// Sets the fault and returns the one it replaced.
    pub(crate) fn set(&self, fault: Option<Fault>) -> Option<Fault> {
        decode(self.0.swap(encode(fault), Ordering::Relaxed))
    }
}

// 0 is "no fault"; a fault is stored as its position in `Fault::ALL`, plus one.
fn encode(fault: Option<Fault>) -> u8 {
    fault
        .and_then(|f| Fault::ALL.iter().position(|&a| a == f))
        .map_or(0, |i| i as u8 + 1)
}

fn decode(n: u8) -> Option<Fault> {
    usize::from(n)
        .checked_sub(1)
        .and_then(|i| Fault::ALL.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_display_from_str_and_json() {
        for fault in Fault::ALL {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
            let json = serde_json::to_string(&fault).unwrap();
            assert_eq!(json, format!("\"{fault}\""));
            assert_eq!(serde_json::from_str::<Fault>(&json).unwrap(), fault);
        }
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let err = "tick_stall".parse::<Fault>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown fault `tick_stall` (expected one of: tick-stall, error-burst, \
             payment-failure, auth-slow, down, tick-backlog, exploit, corruption)"
        );
    }

    #[test]
    fn only_a_stall_and_down_stop_ticks() {
        let stopping: Vec<_> = Fault::ALL.into_iter().filter(|f| f.stops_ticks()).collect();
        assert_eq!(stopping, [Fault::TickStall, Fault::Down]);
    }

    #[test]
    fn the_switch_holds_every_fault_and_none() {
        let switch = FaultSwitch::default();
        let mut previous = None;
        for fault in Fault::ALL {
            assert_eq!(switch.set(Some(fault)), previous);
            assert_eq!(switch.get(), Some(fault));
            previous = Some(fault);
        }
        assert_eq!(switch.set(None), Fault::ALL.last().copied());
        assert_eq!(switch.get(), None);
    }
}
