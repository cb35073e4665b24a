//! The population a world starts with: for player `i`, account `a{i}`,
//! player `p{i}` and villages `v{i·k}`…`v{i·k+k−1}` (k villages a player),
//! their numbers drawn from the world's seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Store;
use super::entity::{
    AccountData, Army, Buildings, Entity, Kind, PlayerData, Resources, VillageData, VillageId,
};

/// Most entities a world's state may have. Far above the benchmark's
/// million; it turns a mistyped population into an error at start instead
/// of an allocation failure that aborts the process.
pub(crate) const MAX_ENTITIES: u64 = 20_000_000;

// The state draws from its own generator, seeded apart from the
// simulation's: adding the state changed none of the telemetry a seed
// replays.
const SALT: u64 = 0x5747_4154_4553_0001;

/// How many of each entity a world's state has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Population {
    players: u32,
    villages_per_player: u32,
}

/// A population over [`MAX_ENTITIES`].
#[derive(Debug, thiserror::Error)]
#[error(
    "state_players {players} × (villages_per_player {villages} + 2) is {total} entities, over the {MAX_ENTITIES} a world's state may have"
)]
pub(crate) struct TooLarge {
    players: u32,
    villages: u32,
    total: u64,
}

impl Population {
    pub(crate) fn new(players: u32, villages_per_player: u32) -> Result<Population, TooLarge> {
        // u32 × (u32 + 2) cannot overflow a u64.
        let total = u64::from(players) * (u64::from(villages_per_player) + 2);
        if total > MAX_ENTITIES {
            return Err(TooLarge {
                players,
                villages: villages_per_player,
                total,
            });
        }
        Ok(Population {
            players,
            villages_per_player,
        })
    }

    pub(crate) fn players(self) -> u32 {
        self.players
    }
}

impl Store {
    /// The state a world with `seed` starts with.
    ///
    /// Entities are made in key order (all accounts, all players, all
    /// villages), each kind from its own generator, so the map is built in
    /// one pass and a kind's numbers do not depend on the others' draws.
    pub(crate) fn generate(population: Population, seed: u64) -> Store {
        let players = u64::from(population.players);
        let per = u64::from(population.villages_per_player);
        let rng = |kind: u64| StdRng::seed_from_u64(seed ^ SALT ^ kind);

        let mut r = rng(1);
        let accounts = (0..players).map(move |i| {
            let data = AccountData {
                gems: r.random_range(0..500),
                premium: r.random_ratio(1, 10),
            };
            ((Kind::Account, i), Entity::Account(data))
        });
        let mut r = rng(2);
        let player_entities = (0..players).map(move |i| {
            let data = PlayerData {
                name: format!("player-{i}"),
                level: r.random_range(1..=30),
                villages: (i * per..(i + 1) * per).map(VillageId).collect(),
            };
            ((Kind::Player, i), Entity::Player { owner: i, data })
        });
        let mut r = rng(3);
        let villages = (0..players * per).map(move |n| {
            let data = village(&mut r, n);
            let owner = n / per.max(1);
            ((Kind::Village, n), Entity::Village { owner, data })
        });
        Store::from_sorted(accounts.chain(player_entities).chain(villages))
    }
}

// Every building and the spearmen start at 1 or more: a zero there is what
// a corruption leaves, and a test (or an operator) can tell the two apart.
fn village(r: &mut StdRng, n: u64) -> VillageData {
    VillageData {
        name: format!("village-{n}"),
        resources: Resources {
            gold: r.random_range(500..5000),
            wood: r.random_range(300..3000),
            stone: r.random_range(200..2000),
            food: r.random_range(400..4000),
        },
        buildings: Buildings {
            town_hall: r.random_range(1..=10),
            barracks: r.random_range(1..=8),
            farm: r.random_range(1..=10),
            wall: r.random_range(1..=5),
        },
        army: Army {
            spearmen: r.random_range(10..=200),
            archers: r.random_range(0..=120),
            cavalry: r.random_range(0..=60),
        },
        last_trade: None,
    }
}
