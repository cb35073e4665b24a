//! Validated flag definitions: what the flag file says, once checked.

use std::collections::BTreeMap;
use std::time::SystemTime;

/// A flag's value: what OpenFeature calls boolean, number, string or object.
#[derive(Clone, Debug, PartialEq)]
pub enum FlagValue {
    Bool(bool),
    Number(f64),
    String(String),
    Object(BTreeMap<String, FlagValue>),
}

impl FlagValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            FlagValue::Bool(_) => "boolean",
            FlagValue::Number(_) => "number",
            FlagValue::String(_) => "string",
            FlagValue::Object(_) => "object",
        }
    }
}

impl std::fmt::Display for FlagValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlagValue::Bool(b) => write!(f, "{b}"),
            FlagValue::Number(n) => write!(f, "{n}"),
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Specificity {
    Percent,
    World,
    Village,
    Account,
    Player,
}

impl Specificity {
    pub fn as_str(self) -> &'static str {
        match self {
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
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub world: Vec<String>,
    pub village: Vec<String>,
    pub account: Vec<String>,
    pub player: Vec<String>,
    /// 0–100.
    pub percent: Option<f64>,
    pub value: FlagValue,
    /// The rule stops applying after this instant.
    pub expires: Option<SystemTime>,
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

#[derive(Clone, Debug, PartialEq)]
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
    pub rules: Vec<Rule>,
}

/// Every flag of one file, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlagSet {
    pub flags: Vec<Flag>,
}

impl FlagSet {
    pub fn get(&self, key: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.key == key)
    }
}
