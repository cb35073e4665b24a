//! Evaluating a flag for one request: pure, so the agent's OFREP endpoint,
//! a game server's in-process cache and the tests all agree.
//!
//! The most specific matching rule wins (player > account > village >
//! world > percent), then the default. Reasons are OpenFeature's:
//! `STATIC` (the flag has no rules), `TARGETING_MATCH` (a targeted rule
//! matched), `SPLIT` (a percentage rollout matched), `DEFAULT` (rules exist,
//! none matched).

use std::time::SystemTime;

use super::model::{Flag, FlagValue, Rule};

/// Who is asking. `world` is usually filled in by the agent with its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    pub targeting_key: Option<String>,
    pub world: Option<String>,
    pub village: Option<String>,
    pub account: Option<String>,
    pub player: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Static,
    TargetingMatch,
    Split,
    Default,
}

impl Reason {
    /// The OpenFeature spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation<'a> {
    pub value: &'a FlagValue,
    pub reason: Reason,
    /// `default`, or `rule-N` (1-based, in file order).
    pub variant: String,
}

pub fn evaluate<'a>(flag: &'a Flag, ctx: &Context, now: SystemTime) -> Evaluation<'a> {
    if flag.rules.is_empty() {
        return Evaluation {
            value: &flag.default,
            reason: Reason::Static,
            variant: "default".into(),
        };
    }
    let winner = flag
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| matches(&flag.key, r, ctx, now))
        // Among equally specific matches the first in file order wins;
        // validation makes overlapping equal-specificity rules agree, so
        // which one it is changes only the reported variant.
        .fold(None::<(usize, &Rule)>, |best, (i, r)| match best {
            Some((_, b)) if b.specificity() >= r.specificity() => best,
            _ => Some((i, r)),
        });
    match winner {
        Some((i, r)) => Evaluation {
            value: &r.value,
            reason: if r.percent.is_some() {
                Reason::Split
            } else {
                Reason::TargetingMatch
            },
            variant: format!("rule-{}", i + 1),
        },
        None => Evaluation {
            value: &flag.default,
            reason: Reason::Default,
            variant: "default".into(),
        },
    }
}

fn matches(key: &str, r: &Rule, ctx: &Context, now: SystemTime) -> bool {
    if r.expires.is_some_and(|t| now > t) {
        return false;
    }
    let dims = [
        (&r.world, &ctx.world),
        (&r.village, &ctx.village),
        (&r.account, &ctx.account),
        (&r.player, &ctx.player),
    ];
    let targeted = dims
        .iter()
        .all(|(want, have)| want.is_empty() || have.as_ref().is_some_and(|h| want.contains(h)));
    if !targeted {
        return false;
    }
    match r.percent {
        None => true,
        Some(p) => {
            // A rollout needs someone to be sticky for; without a targeting
            // key it cannot place the request, so it does not match.
            let who = ctx
                .targeting_key
                .as_ref()
                .or(ctx.player.as_ref())
                .or(ctx.account.as_ref());
            who.is_some_and(|k| bucket(key, k) < p)
        }
    }
}

/// Where a targeting key falls in 0..100 for a flag: FNV-1a of
/// `flag/targetingKey`, so each key keeps its answer and different flags
/// split the population independently. Stable across versions and
/// languages (no hasher seed), so a game server can compute it too.
pub fn bucket(flag: &str, targeting_key: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in flag.bytes().chain([b'/']).chain(targeting_key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::parse;

    const FLAGS: &str = r#"
[flag."combat.attacks"]
kind = "kill_switch"
description = "Attacks."
owner = "gameplay"
default = true
blast_radius = "New attacks."
rollback = "Flip back."

[[flag."combat.attacks".rule]]
world = "w2"
value = false

[[flag."combat.attacks".rule]]
player = ["cheater", "bot-7"]
value = false

[[flag."combat.attacks".rule]]
world = "w2"
account = "qa"
value = true

[[flag."combat.attacks".rule]]
world = "w3"
value = false
expires = "2020-01-01T00:00:00Z"

[flag."events.double_xp"]
kind = "release"
description = "Double XP."
owner = "live-events"
default = false

[[flag."events.double_xp".rule]]
percent = 10
value = true

[flag."chat.max_length"]
kind = "ops"
description = "Longest chat message."
owner = "community"
default = 500
"#;

    fn ctx(world: &str, account: &str, player: &str) -> Context {
        let s = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        Context {
            targeting_key: s(player),
            world: s(world),
            village: None,
            account: s(account),
            player: s(player),
        }
    }

    #[test]
    fn the_most_specific_matching_rule_wins() {
        let set = parse("f.toml", FLAGS).unwrap();
        let attacks = set.get("combat.attacks").unwrap();
        let now = SystemTime::now();
        let cases = [
            (
                ctx("w1", "a", "p"),
                FlagValue::Bool(true),
                Reason::Default,
                "default",
            ),
            (
                ctx("w2", "a", "p"),
                FlagValue::Bool(false),
                Reason::TargetingMatch,
                "rule-1",
            ),
            (
                ctx("w1", "a", "cheater"),
                FlagValue::Bool(false),
                Reason::TargetingMatch,
                "rule-2",
            ),
            (
                ctx("w2", "qa", "p"),
                FlagValue::Bool(true),
                Reason::TargetingMatch,
                "rule-3",
            ),
            (
                ctx("w2", "qa", "bot-7"),
                FlagValue::Bool(false),
                Reason::TargetingMatch,
                "rule-2",
            ),
            (
                ctx("w3", "a", "p"),
                FlagValue::Bool(true),
                Reason::Default,
                "default",
            ),
            (
                ctx("", "", ""),
                FlagValue::Bool(true),
                Reason::Default,
                "default",
            ),
        ];
        for (c, value, reason, variant) in cases {
            let e = evaluate(attacks, &c, now);
            assert_eq!(
                (e.value, e.reason, e.variant.as_str()),
                (&value, reason, variant),
                "{c:?}"
            );
        }
        let chat = set.get("chat.max_length").unwrap();
        let e = evaluate(chat, &Context::default(), now);
        assert_eq!(
            (e.value, e.reason),
            (&FlagValue::Number(500.0), Reason::Static)
        );
    }

    #[test]
    fn percent_rollouts_are_sticky_and_close_to_their_share() {
        let set = parse("f.toml", FLAGS).unwrap();
        let xp = set.get("events.double_xp").unwrap();
        let now = SystemTime::now();
        let on = (0..10_000)
            .filter(|i| {
                let c = Context {
                    targeting_key: Some(format!("player-{i}")),
                    ..Context::default()
                };
                let first = evaluate(xp, &c, now);
                assert_eq!(first, evaluate(xp, &c, now), "sticky");
                first.value == &FlagValue::Bool(true)
            })
            .count();
        assert!((900..=1100).contains(&on), "{on} of 10000 in a 10% rollout");
        let anonymous = evaluate(xp, &Context::default(), now);
        assert_eq!(
            (anonymous.value, anonymous.reason),
            (&FlagValue::Bool(false), Reason::Default)
        );
        let split = (0..100).map(|i| Context {
            targeting_key: Some(format!("k{i}")),
            ..Context::default()
        });
        assert!(
            split
                .map(|c| evaluate(xp, &c, now))
                .any(|e| e.reason == Reason::Split)
        );
    }

    #[test]
    fn bucket_is_pinned_so_other_languages_can_compute_it() {
        // FNV-1a 64 of "flag/key", modulo 10,000, in hundredths.
        assert_eq!(bucket("a", "b"), 26.89);
        assert_eq!(bucket("events.double_xp", "player-42"), 92.29);
        assert_ne!(bucket("flag-a", "k"), bucket("flag-b", "k"));
    }
}
