//! The typed entities of a world's state and their JSON lines.
//!
//! Each kind is a plain struct rather than a `serde_json::Value`: a million
//! of them must fit in a few hundred megabytes and be written out at well
//! over 200,000 a second. Every `data` struct refuses unknown fields, so a
//! restore with a misspelt field fails with its name instead of silently
//! dropping the value.

use std::fmt;
use std::io::{self, Write};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// The kinds of entity, in the order the state is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Account,
    Player,
    Village,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Account => "account",
            Kind::Player => "player",
            Kind::Village => "village",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Kind> {
        [Kind::Account, Kind::Player, Kind::Village]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// The name with its article, for messages: "an account".
    pub(crate) fn a_name(self) -> &'static str {
        match self {
            Kind::Account => "an account",
            Kind::Player => "a player",
            Kind::Village => "a village",
        }
    }

    /// The first letter of every id of this kind.
    pub(crate) fn letter(self) -> char {
        match self {
            Kind::Account => 'a',
            Kind::Player => 'p',
            Kind::Village => 'v',
        }
    }

    /// Accounts own players and players own villages; accounts have no owner.
    pub(crate) fn owner_kind(self) -> Option<Kind> {
        match self {
            Kind::Account => None,
            Kind::Player => Some(Kind::Account),
            Kind::Village => Some(Kind::Player),
        }
    }
}

/// An entity's identity: its kind and the number in its id (`v34` is
/// `(Village, 34)`), so that map order is kind order, then numeric order.
pub(crate) type Key = (Kind, u64);

/// A key as written on the wire: `v34`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Id(pub(crate) Key);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.0.0.letter(), self.0.1)
    }
}

/// Reads an id such as `v34`. Only the canonical spelling is accepted (no
/// sign, no leading zero, no overflow), so an id read back is the id written
/// and two spellings can never name one entity.
pub(crate) fn parse_id(id: &str) -> Option<Key> {
    let (letter, digits) = id.split_at_checked(1)?;
    let kind = [Kind::Account, Kind::Player, Kind::Village]
        .into_iter()
        .find(|k| letter.starts_with(k.letter()))?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    canonical
        .then(|| digits.parse().ok())
        .flatten()
        .map(|n| (kind, n))
}

/// One entity. Its owner is stored as a number: the owner's kind follows
/// from the entity's own ([`Kind::owner_kind`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Entity {
    Account(AccountData),
    Player { owner: u64, data: PlayerData },
    Village { owner: u64, data: VillageData },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountData {
    pub(crate) gems: u64,
    pub(crate) premium: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlayerData {
    pub(crate) name: String,
    pub(crate) level: u32,
    pub(crate) villages: Vec<VillageId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VillageData {
    pub(crate) name: String,
    pub(crate) resources: Resources,
    pub(crate) buildings: Buildings,
    pub(crate) army: Army,
    /// Written only once there has been a trade: a village that never traded
    /// keeps its line short. `null` is read as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_trade: Option<Trade>,
}

// Resources are u64 because a duplication exploit or a corruption pushes
// them far past anything honest play reaches, and the state must still hold
// (and show) the absurd value rather than refuse it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resources {
    pub(crate) gold: u64,
    pub(crate) wood: u64,
    pub(crate) stone: u64,
    pub(crate) food: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Buildings {
    pub(crate) town_hall: u32,
    pub(crate) barracks: u32,
    pub(crate) farm: u32,
    pub(crate) wall: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Army {
    pub(crate) spearmen: u32,
    pub(crate) archers: u32,
    pub(crate) cavalry: u32,
}

/// A village's latest trade: the other side names this village in turn,
/// which is how a rollback finds who else an exploit touched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Trade {
    pub(crate) with: VillageId,
    pub(crate) tick: u64,
}

/// A village named inside `data` (`"v34"`), kept as its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VillageId(pub(crate) u64);

impl Serialize for VillageId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Id((Kind::Village, self.0)))
    }
}

impl<'de> Deserialize<'de> for VillageId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<VillageId, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VillageId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a village id (`v` followed by digits)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<VillageId, E> {
                match parse_id(s) {
                    Some((Kind::Village, n)) => Ok(VillageId(n)),
                    _ => Err(E::custom(format_args!(
                        "`{s}` is not a village id (`v` followed by digits)"
                    ))),
                }
            }
        }
        d.deserialize_str(V)
    }
}

impl Entity {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Entity::Account(_) => Kind::Account,
            Entity::Player { .. } => Kind::Player,
            Entity::Village { .. } => Kind::Village,
        }
    }

    pub(crate) fn owner(&self) -> Option<Key> {
        match self {
            Entity::Account(_) => None,
            Entity::Player { owner, .. } => Some((Kind::Account, *owner)),
            Entity::Village { owner, .. } => Some((Kind::Player, *owner)),
        }
    }

    /// Builds an entity of `kind` from a restore line's owner number and
    /// `data`; the caller has checked that the owner fits the kind.
    pub(crate) fn from_data(
        kind: Kind,
        owner: u64,
        data: &RawValue,
    ) -> Result<Entity, serde_json::Error> {
        let json = data.get();
        Ok(match kind {
            Kind::Account => Entity::Account(serde_json::from_str(json)?),
            Kind::Player => Entity::Player {
                owner,
                data: serde_json::from_str(json)?,
            },
            Kind::Village => Entity::Village {
                owner,
                data: serde_json::from_str(json)?,
            },
        })
    }

    /// Appends the entity's line, `\n` included.
    ///
    /// The head is written by hand: kind and ids are made of letters and
    /// digits, so they need no escaping, and skipping serde there is most of
    /// what makes a full listing fast.
    pub(crate) fn write_line(&self, n: u64, out: &mut Vec<u8>) -> io::Result<()> {
        let key = (self.kind(), n);
        write!(out, r#"{{"kind":"{}","id":"{}""#, key.0.name(), Id(key))?;
        if let Some(owner) = self.owner() {
            write!(out, r#","owner":"{}""#, Id(owner))?;
        }
        out.extend_from_slice(br#","data":"#);
        match self {
            Entity::Account(data) => serde_json::to_writer(&mut *out, data)?,
            Entity::Player { data, .. } => serde_json::to_writer(&mut *out, data)?,
            Entity::Village { data, .. } => serde_json::to_writer(&mut *out, data)?,
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}
