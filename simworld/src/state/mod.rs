//! The world's persistent state: the accounts, players and villages that a
//! snapshot reads and a targeted rollback writes back.
//!
//! This is separate from the tick simulation in `world.rs`, which keeps its
//! own small village model for telemetry: the state is what an operator
//! inspects and repairs, the simulation is what makes signals. Normal play
//! ([`Churn`]) and the state faults ([`crate::Fault::Exploit`],
//! [`crate::Fault::Corruption`]) change it from the tick thread; the HTTP
//! handlers (`http.rs`) read and restore it. Both sides hold the lock only
//! for a bounded piece of work (one tick's changes, ~1,024 entities of a
//! listing, ~1,024 lines of a restore), so neither waits long on the other.
//!
//! - `entity.rs`: the typed entities and their JSON lines.
//! - `generate.rs`: the population a world starts with, from its seed.
//! - `churn.rs`: what each tick does to the state, healthy or under a fault.
//! - `query.rs`: the listing's filters and its chunked walk.
//! - `restore.rs`: a restore body checked line by line and applied.
//! - `http.rs`: the two endpoints.

mod churn;
mod entity;
mod generate;
pub(crate) mod http;
mod query;
mod restore;

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod restore_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rand::Rng;

pub(crate) use churn::Churn;
pub(crate) use entity::{Entity, Key, Kind, VillageData};
use generate::Population;

/// The entities, in listing order, and who owns what.
#[derive(Debug, Default)]
pub(crate) struct Store {
    entities: BTreeMap<Key, Entity>,
    /// `(owner, owned)` for every entity that has an owner. An `owner=`
    /// listing and the exploit read one owner's entities as a range of this
    /// set rather than scanning the world; a set of pairs costs far less
    /// memory than a map of small per-owner collections.
    owned: BTreeSet<(Key, Key)>,
}

impl Store {
    /// A store of `entities` given in key order, as generation makes them
    /// (the map is then built in one pass, with full nodes).
    fn from_sorted(entities: impl Iterator<Item = (Key, Entity)>) -> Store {
        let entities: BTreeMap<Key, Entity> = entities.collect();
        let owned = entities
            .iter()
            .filter_map(|(&key, e)| e.owner().map(|owner| (owner, key)))
            .collect();
        Store { entities, owned }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entities.len()
    }

    pub(crate) fn get(&self, key: &Key) -> Option<&Entity> {
        self.entities.get(key)
    }

    /// Entities from `from` through `to` (included), in key order.
    pub(crate) fn range_from(
        &self,
        from: Bound<Key>,
        to: Key,
    ) -> impl Iterator<Item = (&Key, &Entity)> {
        // `BTreeMap::range` panics on a start past the end; `(to, to]` is
        // the empty range it accepts.
        let past = match from {
            Bound::Included(k) | Bound::Excluded(k) => k > to,
            Bound::Unbounded => false,
        };
        let from = if past { Bound::Excluded(to) } else { from };
        self.entities.range((from, Bound::Included(to)))
    }

    /// Writes `entity` whole as number `n` of its kind, creating it if
    /// absent, and moves it in the owner index if its owner changed.
    pub(crate) fn put(&mut self, n: u64, entity: Entity) {
        let key = (entity.kind(), n);
        let owner = entity.owner();
        if let Some(old) = self.entities.insert(key, entity)
            && let Some(old_owner) = old.owner()
            && Some(old_owner) != owner
        {
            self.owned.remove(&(old_owner, key));
        }
        if let Some(owner) = owner {
            self.owned.insert((owner, key));
        }
    }

    /// Removes an entity; removing one that is absent is not an error, so
    /// a restore that deletes can be sent twice.
    pub(crate) fn delete(&mut self, key: Key) {
        if let Some(old) = self.entities.remove(&key)
            && let Some(owner) = old.owner()
        {
            self.owned.remove(&(owner, key));
        }
    }

    /// The entities `owner` owns, in key order.
    pub(crate) fn owned_by(&self, owner: Key) -> impl Iterator<Item = Key> + '_ {
        let first = (owner, (Kind::Account, 0));
        let last = (owner, (Kind::Village, u64::MAX));
        self.owned.range(first..=last).map(|&(_, owned)| owned)
    }

    /// A village's data for the tick to change. Only `data`: the owner
    /// cannot change this way, which keeps the owner index right.
    pub(crate) fn village_mut(&mut self, n: u64) -> Option<&mut VillageData> {
        match self.entities.get_mut(&(Kind::Village, n)) {
            Some(Entity::Village { data, .. }) => Some(data),
            _ => None,
        }
    }

    pub(crate) fn village_owner(&self, n: u64) -> Option<u64> {
        match self.entities.get(&(Kind::Village, n)) {
            Some(Entity::Village { owner, .. }) => Some(*owner),
            _ => None,
        }
    }

    /// A village drawn at random, or None when there are none.
    ///
    /// A number is drawn up to the highest village id and the first village
    /// at or after it taken (wrapping round): a lookup, not a scan, and it
    /// still works after restores have deleted or added villages.
    pub(crate) fn random_village(&self, rng: &mut impl Rng) -> Option<u64> {
        let villages = (Kind::Village, 0)..=(Kind::Village, u64::MAX);
        let (&(_, max), _) = self.entities.range(villages.clone()).next_back()?;
        let n = rng.random_range(0..=max);
        self.entities
            .range((Kind::Village, n)..=(Kind::Village, u64::MAX))
            .chain(self.entities.range(villages))
            .next()
            .map(|(&(_, n), _)| n)
    }
}

/// A world's starting state, the tick thread's churn over it, and the
/// exploit's suspect (a player number), from the world's config. A
/// population over [`generate::MAX_ENTITIES`] is `InvalidInput`.
pub(crate) async fn start(config: &crate::WorldConfig) -> io::Result<(Store, Churn, Option<u64>)> {
    let population = Population::new(config.state_players, config.villages_per_player)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // The suspect follows from the seed, so a drill knows whom the rollback
    // should find.
    let players = u64::from(population.players());
    let suspect = (players > 0).then(|| config.seed % players);
    let seed = config.seed;
    // Up to a second of CPU for a big world: off the async workers.
    let store = tokio::task::spawn_blocking(move || Store::generate(population, seed))
        .await
        .map_err(io::Error::other)?;
    Ok((
        store,
        Churn::new(seed, config.state_churn, suspect),
        suspect,
    ))
}

/// The state as the tick thread and the HTTP handlers share it.
pub(crate) type SharedStore = RwLock<Store>;

// Nothing panics while holding the lock, but if something ever did, the
// store is still a consistent map (every change is a whole insert or remove),
// so the world keeps serving it rather than failing every request after.
pub(crate) fn read(store: &SharedStore) -> RwLockReadGuard<'_, Store> {
    store.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write(store: &SharedStore) -> RwLockWriteGuard<'_, Store> {
    store.write().unwrap_or_else(PoisonError::into_inner)
}
