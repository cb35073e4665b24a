//! Evaluating a flag for one request: pure, so the agent's OFREP endpoint,
//! a game server's in-process snapshot and the tests all agree.
//!
//! Order: an active operator override wins over the file (the most
//! specific scope, then the newest); then a flag the file disables serves
//! its default; then the most specific matching rule (player > account >
//! village > world > percent); then the default. Reasons are OpenFeature's:
//! `STATIC` (no rules, or a fleet-wide override), `TARGETING_MATCH` (a
//! targeted rule or override matched), `SPLIT` (a percentage rollout
//! matched), `DEFAULT` (rules exist, none matched), `DISABLED`.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::model::{Flag, FlagValue, Rule, Specificity};
use crate::overrides::Override;

/// Who is asking. `world` is usually filled in by the agent with its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    Disabled,
}

impl Reason {
    /// The OpenFeature spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
            Reason::Disabled => "DISABLED",
        }
    }
}

/// Which branch of the flag answered. Borrowed, so evaluating allocates
/// nothing; `Display` gives the OpenFeature variant string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant<'a> {
    Default,
    /// The agent never loaded a valid file: the flag's `fail_safe`.
    FailSafe,
    /// 1-based, in file order.
    Rule(usize),
    /// An operator override, by id.
    Override(&'a str),
}

impl fmt::Display for Variant<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variant::Default => f.write_str("default"),
            Variant::FailSafe => f.write_str("fail-safe"),
            Variant::Rule(n) => write!(f, "rule-{n}"),
            Variant::Override(id) => write!(f, "override-{id}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation<'a> {
    pub value: &'a FlagValue,
    pub reason: Reason,
    pub variant: Variant<'a>,
}

/// Evaluates `flag` from a valid file, with the overrides set for it.
pub fn evaluate<'a>(
    flag: &'a Flag,
    overrides: &'a [Override],
    ctx: &Context,
    now: SystemTime,
) -> Evaluation<'a> {
    if let Some(e) = by_override(overrides, ctx, now) {
        return e;
    }
    if !flag.enabled {
        return Evaluation {
            value: &flag.default,
            reason: Reason::Disabled,
            variant: Variant::Default,
        };
    }
    if flag.rules.is_empty() {
        return Evaluation {
            value: &flag.default,
            reason: Reason::Static,
            variant: Variant::Default,
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
            variant: Variant::Rule(i + 1),
        },
        None => Evaluation {
            value: &flag.default,
            reason: Reason::Default,
            variant: Variant::Default,
        },
    }
}

/// Evaluates `flag` while the agent has never loaded a valid file: its
/// `fail_safe` value, unless an operator override says otherwise.
pub fn evaluate_fail_safe<'a>(
    flag: &'a Flag,
    overrides: &'a [Override],
    ctx: &Context,
    now: SystemTime,
) -> Evaluation<'a> {
    by_override(overrides, ctx, now).unwrap_or(Evaluation {
        value: &flag.fail_safe,
        reason: Reason::Default,
        variant: Variant::FailSafe,
    })
}

fn by_override<'a>(
    overrides: &'a [Override],
    ctx: &Context,
    now: SystemTime,
) -> Option<Evaluation<'a>> {
    let best = overrides
        .iter()
        .filter(|o| o.active(now) && o.scope.matches(ctx))
        .max_by(|a, b| {
            (a.scope.specificity(), a.created).cmp(&(b.scope.specificity(), b.created))
        })?;
    Some(Evaluation {
        value: &best.value,
        reason: if best.scope.specificity() == Specificity::Fleet {
            Reason::Static
        } else {
            Reason::TargetingMatch
        },
        variant: Variant::Override(&best.id),
    })
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
