//! Validated flag definitions: what the flag file says, once checked.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// A flag's value: what OpenFeature calls boolean, integer, float, string
/// or object. Integers and floats stay apart because typed SDKs (an
/// OpenFeature `get_integer_value`) check which one they got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlagValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Object(BTreeMap<String, FlagValue>),
}

impl FlagValue {
    /// The type a flag keeps across its default, rules and overrides;
    /// integers and floats are both numbers.
    pub fn type_name(&self) -> &'static str {
        match self {
            FlagValue::Bool(_) => "boolean",
            FlagValue::Integer(_) | FlagValue::Float(_) => "number",
            FlagValue::String(_) => "string",
            FlagValue::Object(_) => "object",
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            FlagValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            FlagValue::Integer(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FlagValue::Integer(i) => Some(*i as f64),
            FlagValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            FlagValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Reads a value typed on a command line or in an API call, in the type
    /// of `like` (the flag's default): `false`, `250`, `0.5`, `text` or a
    /// JSON object.
    pub fn parse_like(text: &str, like: &FlagValue) -> Result<FlagValue, String> {
        let parsed = match like {
            FlagValue::Bool(_) => text.parse().map(FlagValue::Bool).ok(),
            FlagValue::Integer(_) | FlagValue::Float(_) => text
                .parse()
                .map(FlagValue::Integer)
                .or_else(|_| text.parse().map(FlagValue::Float))
                .ok()
                .filter(|v| !matches!(v, FlagValue::Float(f) if !f.is_finite())),
            FlagValue::String(_) => Some(FlagValue::String(text.to_owned())),
            FlagValue::Object(_) => serde_json::from_str(text)
                .ok()
                .filter(|v| matches!(v, FlagValue::Object(_))),
        };
        parsed.ok_or_else(|| format!("`{text}` is not a {}", like.type_name()))
    }
}

impl std::fmt::Display for FlagValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlagValue::Bool(b) => write!(f, "{b}"),
            FlagValue::Integer(n) => write!(f, "{n}"),
            FlagValue::Float(n) => write!(f, "{n:?}"),
            FlagValue::String(s) => write!(f, "\"{s}\""),
            FlagValue::Object(o) => {
                write!(f, "{{")?;
                for (i, (k, v)) in o.iter().enumerate() {
                    write!(f, "{}{k} = {v}", if i == 0 { " " } else { ", " })?;
                }
                write!(f, " }}")
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// Turns a system off in an incident; owners and rollback are mandatory.
    KillSwitch,
    /// Rolls a feature out.
    Release,
    /// Tunes operations (limits, rates).
    Ops,
}

impl FlagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::KillSwitch => "kill_switch",
            FlagKind::Release => "release",
            FlagKind::Ops => "ops",
        }
    }
}

/// The scopes a rule can target, from the least to the most specific. A
/// more specific matching rule wins over a less specific one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Specificity {
    /// Only operator overrides: every world of the fleet.
    Fleet,
    Percent,
    World,
    Village,
    Account,
    Player,
}

impl Specificity {
    pub fn as_str(self) -> &'static str {
        match self {
            Specificity::Fleet => "fleet",
            Specificity::Percent => "percent",
            Specificity::World => "world",
            Specificity::Village => "village",
            Specificity::Account => "account",
            Specificity::Player => "player",
        }
    }
}

/// A scoped override. Every target it names must match; `percent` picks a
/// sticky share of targeting keys by hash of flag key + targeting key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub world: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub village: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub player: Vec<String>,
    /// 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    pub value: FlagValue,
    /// The rule stops applying after this instant.
    #[serde(
        default,
        with = "crate::time::opt_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl Rule {
    /// The most specific scope the rule names.
    pub fn specificity(&self) -> Specificity {
        if !self.player.is_empty() {
            Specificity::Player
        } else if !self.account.is_empty() {
            Specificity::Account
        } else if !self.village.is_empty() {
            Specificity::Village
        } else if !self.world.is_empty() {
            Specificity::World
        } else {
            Specificity::Percent
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub key: String,
    pub description: String,
    /// combat, payments, events, diplomacy, auth, trade, chat, …
    pub system: String,
    pub kind: FlagKind,
    pub owner: String,
    pub default: FlagValue,
    /// Served when the agent has never loaded a valid file.
    pub fail_safe: FlagValue,
    pub blast_radius: String,
    pub takes_effect: String,
    pub rollback: String,
    /// `enabled = false` in the file: rules are set aside and the default
    /// is served with reason `DISABLED` (operator overrides still apply).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Every flag of one file, in file order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlagSet {
    pub flags: Vec<Flag>,
}

impl FlagSet {
    pub fn get(&self, key: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.key == key)
    }
}
