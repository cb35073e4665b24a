//! The kill switches a world obeys, read each tick from the agent's flags
//! through the Rust flag client, as a game server integrating liveops does.
//!
//! A switched-off system is not an error: players simply cannot use it (the
//! button is greyed out), so its requests, payments or logins are not made
//! at all. That is what lets a mitigation such as `pause-payments` stop a
//! payment SLO from burning while the provider is down.

use liveops_client::flags::FlagClient;

use crate::traffic::{Activity, Op};

/// Which systems are on. Everything is on without a flag client, and for
/// any flag the agent does not serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Switches {
    pub(crate) attacks: bool,
    pub(crate) trade: bool,
    pub(crate) chat: bool,
    pub(crate) purchases: bool,
    pub(crate) logins: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            attacks: true,
            trade: true,
            chat: true,
            purchases: true,
            logins: true,
        }
    }
}

impl Switches {
    /// World-wide values: the simulated players have no identities for
    /// narrower rules to pick out. A read costs tens of nanoseconds.
    pub(crate) fn read(flags: &FlagClient) -> Switches {
        let ctx = flags.world_context();
        let on = |key: &str| flags.bool(key, ctx, true);
        Switches {
            attacks: on("combat.attacks"),
            trade: on("trade.market"),
            chat: on("chat.messages"),
            purchases: on("payments.purchases"),
            logins: on("auth.logins"),
        }
    }

    /// Removes what players could not do with these switches. Applied after
    /// the random draw, so a seed replays the same world whatever the flags.
    pub(crate) fn apply(&self, activity: &mut Activity) {
        activity.requests.retain(|r| match r.op {
            Op::Attack => self.attacks,
            Op::Trade => self.trade,
            Op::Chat => self.chat,
            Op::March | Op::Build => true,
        });
        if !self.purchases {
            activity.payments.clear();
        }
        if !self.logins {
            activity.logins_ms.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::Request;

    fn busy() -> Activity {
        let ops = [Op::March, Op::Attack, Op::Trade, Op::Build, Op::Chat];
        Activity {
            requests: ops.iter().map(|&op| Request { op, ok: true }).collect(),
            payments: vec![true, false],
            logins_ms: vec![100.0],
        }
    }

    #[test]
    fn switched_off_systems_make_no_traffic_and_the_rest_is_untouched() {
        let mut all_on = busy();
        Switches::default().apply(&mut all_on);
        assert_eq!(all_on, busy());

        let mut a = busy();
        Switches {
            attacks: false,
            purchases: false,
            logins: false,
            ..Switches::default()
        }
        .apply(&mut a);
        let ops: Vec<Op> = a.requests.iter().map(|r| r.op).collect();
        assert_eq!(ops, [Op::March, Op::Trade, Op::Build, Op::Chat]);
        assert!(a.payments.is_empty() && a.logins_ms.is_empty());
    }

    #[test]
    fn flags_the_agent_does_not_serve_leave_systems_on() {
        let flags = FlagClient::offline(Default::default(), Some("w1"));
        assert_eq!(Switches::read(&flags), Switches::default());
    }
}
