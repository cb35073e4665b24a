//! What each tick does to the state: normal play, and the two faults that
//! change only the state ([`Fault::Exploit`], [`Fault::Corruption`]).
//!
//! It runs on the tick thread, after the simulation's tick, with its own
//! generator seeded from the world's: the same seed and the same faults at
//! the same ticks give the same state. Arithmetic saturates everywhere: a
//! restore may set any u64, and the next tick must not overflow on it.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::entity::{Kind, Trade, VillageData, VillageId};
use super::{SharedStore, Store, write};
use crate::Fault;

// Apart from the simulation's and generation's generators (see generate.rs).
const SALT: u64 = 0x4348_5552_4e00_0002;

/// Gold and wood each of the suspect's villages gains a tick of the exploit:
/// hundreds of times what production gives, so it stands out in any diff.
pub(crate) const EXPLOIT_GOLD: u64 = 50_000;
const EXPLOIT_WOOD: u64 = 20_000;
/// The exploit launders some gold to another player every this many ticks.
const EXPLOIT_TRADE_EVERY: u64 = 10;
const EXPLOIT_TRADE_GOLD: u64 = 25_000;
/// Villages a tick of corruption damages.
const CORRUPTED_PER_TICK: usize = 3;
/// What corruption multiplies food by: clearly wrong, still a valid u64.
pub(crate) const CORRUPT_FOOD_FACTOR: u64 = 1_000_000;
/// Tries at finding a trade partner of another owner before giving up (a
/// world where one player owns nearly everything).
const PARTNER_TRIES: usize = 8;

/// The tick thread's side of the state.
pub(crate) struct Churn {
    rng: StdRng,
    per_tick: u32,
    /// The player number the exploit runs for.
    suspect: Option<u64>,
    /// Ticks seen, written into `last_trade.tick`.
    tick: u64,
    exploit_ticks: u64,
}

impl Churn {
    /// `per_tick` villages changed by normal play each tick (0: a frozen
    /// state); `suspect` the exploit's player.
    pub(crate) fn new(seed: u64, per_tick: u32, suspect: Option<u64>) -> Churn {
        Churn {
            rng: StdRng::seed_from_u64(seed ^ SALT),
            per_tick,
            suspect,
            tick: 0,
            exploit_ticks: 0,
        }
    }

    /// One tick's changes, under `fault`.
    pub(crate) fn tick(&mut self, state: &SharedStore, fault: Option<Fault>) {
        self.tick += 1;
        let (exploit, corrupt) = (
            fault == Some(Fault::Exploit),
            fault == Some(Fault::Corruption),
        );
        if self.per_tick == 0 && !exploit && !corrupt {
            // Not even the lock: a frozen state is frozen for readers too.
            return;
        }
        let mut store = write(state);
        self.play(&mut store);
        if exploit {
            self.exploit(&mut store);
        }
        if corrupt {
            self.corrupt(&mut store);
        }
    }

    /// Production in `per_tick` villages and, one tick in four, a trade.
    fn play(&mut self, store: &mut Store) {
        if self.per_tick == 0 {
            return;
        }
        let mut first = None;
        for _ in 0..self.per_tick {
            let Some(n) = store.random_village(&mut self.rng) else {
                return;
            };
            first = first.or(Some(n));
            if let Some(v) = store.village_mut(n) {
                produce(v);
            }
        }
        if let Some(from) = first
            && self.rng.random_ratio(1, 4)
        {
            let amount = store.village_mut(from).map_or(0, |v| v.resources.gold / 10);
            self.trade(store, from, amount);
        }
    }

    fn exploit(&mut self, store: &mut Store) {
        let Some(suspect) = self.suspect else {
            return;
        };
        let villages: Vec<u64> = store
            .owned_by((Kind::Player, suspect))
            .filter(|(kind, _)| *kind == Kind::Village)
            .map(|(_, n)| n)
            .collect();
        for &n in &villages {
            if let Some(v) = store.village_mut(n) {
                v.resources.gold = v.resources.gold.saturating_add(EXPLOIT_GOLD);
                v.resources.wood = v.resources.wood.saturating_add(EXPLOIT_WOOD);
            }
        }
        // From the first exploit tick on, so even a short drill leaves a
        // partner for the rollback's collateral search to find.
        if self.exploit_ticks.is_multiple_of(EXPLOIT_TRADE_EVERY)
            && let Some(&from) = villages.first()
        {
            self.trade(store, from, EXPLOIT_TRADE_GOLD);
        }
        self.exploit_ticks += 1;
    }

    fn corrupt(&mut self, store: &mut Store) {
        for _ in 0..CORRUPTED_PER_TICK {
            let Some(n) = store.random_village(&mut self.rng) else {
                return;
            };
            if let Some(v) = store.village_mut(n) {
                v.buildings.town_hall = 0;
                v.army.spearmen = 0;
                v.resources.food = v.resources.food.max(1).saturating_mul(CORRUPT_FOOD_FACTOR);
            }
        }
    }

    /// Moves up to `amount` gold from village `from` to a village of another
    /// owner, and makes each the other's `last_trade`.
    fn trade(&mut self, store: &mut Store, from: u64, amount: u64) {
        let Some(owner) = store.village_owner(from) else {
            return;
        };
        let partner = (0..PARTNER_TRIES)
            .filter_map(|_| store.random_village(&mut self.rng))
            .find(|&n| store.village_owner(n).is_some_and(|o| o != owner));
        let Some(to) = partner else {
            return;
        };
        let tick = self.tick;
        let mut moved = 0;
        if let Some(v) = store.village_mut(from) {
            moved = amount.min(v.resources.gold);
            v.resources.gold -= moved;
            v.last_trade = Some(Trade {
                with: VillageId(to),
                tick,
            });
        }
        if let Some(v) = store.village_mut(to) {
            v.resources.gold = v.resources.gold.saturating_add(moved);
            v.last_trade = Some(Trade {
                with: VillageId(from),
                tick,
            });
        }
    }
}

/// A tick of honest production: a little of everything, more food with
/// more farms.
fn produce(v: &mut VillageData) {
    let (r, b) = (&mut v.resources, &v.buildings);
    r.gold = r.gold.saturating_add(u64::from(b.town_hall) + 2);
    r.wood = r.wood.saturating_add(8);
    r.stone = r.stone.saturating_add(5);
    r.food = r.food.saturating_add(u64::from(b.farm) * 3 + 4);
}
