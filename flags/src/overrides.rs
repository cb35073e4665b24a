//! Operator overrides: values set at run time through the collector
//! (`liveops mitigate`, `liveops flag set`), pushed to the agents, and
//! layered over the flag file until reverted or expired.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::eval::Context;
use crate::model::{FlagValue, Specificity};

/// Where an override applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    Fleet,
    World(String),
    Village(String),
    Account(String),
    Player(String),
}

impl Scope {
    pub fn specificity(&self) -> Specificity {
        match self {
            Scope::Fleet => Specificity::Fleet,
            Scope::World(_) => Specificity::World,
            Scope::Village(_) => Specificity::Village,
            Scope::Account(_) => Specificity::Account,
            Scope::Player(_) => Specificity::Player,
        }
    }

    pub fn matches(&self, ctx: &Context) -> bool {
        let is = |have: &Option<String>, want: &String| have.as_ref() == Some(want);
        match self {
            Scope::Fleet => true,
            Scope::World(w) => is(&ctx.world, w),
            Scope::Village(v) => is(&ctx.village, v),
            Scope::Account(a) => is(&ctx.account, a),
            Scope::Player(p) => is(&ctx.player, p),
        }
    }

    /// Whether an agent serving `world` needs to hold this override: world
    /// overrides go to their world only, everything else to every agent
    /// (a village, account or player can be on any world).
    pub fn reaches_world(&self, world: &str) -> bool {
        match self {
            Scope::World(w) => w == world,
            _ => true,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Fleet => write!(f, "fleet"),
            Scope::World(id) => write!(f, "world {id}"),
            Scope::Village(id) => write!(f, "village {id}"),
            Scope::Account(id) => write!(f, "account {id}"),
            Scope::Player(id) => write!(f, "player {id}"),
        }
    }
}

/// One flag value set by an operator for a scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Override {
    /// Unique, e.g. `o-17`; also the OpenFeature variant (`override-o-17`).
    pub id: String,
    pub flag: String,
    pub scope: Scope,
    pub value: FlagValue,
    pub reason: String,
    /// Who set it (the token's name).
    pub actor: String,
    /// The mitigation that set it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigation: Option<String>,
    #[serde(with = "ms")]
    pub created: SystemTime,
    /// It stops applying after this instant, even on an agent that lost its
    /// collector.
    #[serde(
        default,
        with = "crate::time::opt_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires: Option<SystemTime>,
}

impl Override {
    pub fn active(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|t| now <= t)
    }
}

/// What the collector pushes to an agent on its override stream: every
/// override that reaches the agent's world, whole, so each message is a
/// full resync and a reconnect needs nothing else.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OverrideSet {
    /// Increases with every change on the collector.
    pub version: u64,
    pub overrides: Vec<Override>,
}

mod ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::SystemTime;

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(crate::time::to_ms(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        Ok(crate::time::from_ms(u64::deserialize(d)?))
    }
}
