//! The state without sockets: generation, the listing's walk, churn and
//! the state faults, restore line by line.

use std::collections::BTreeMap;
use std::sync::RwLock;

use serde_json::Value;

use super::churn::{CORRUPT_FOOD_FACTOR, EXPLOIT_GOLD};
use super::entity::parse_id;
use super::query::{CHUNK, Cursor, Filter, QueryError};
use super::*;
use crate::Fault;

fn world(players: u32, per: u32, seed: u64) -> SharedStore {
    RwLock::new(Store::generate(
        Population::new(players, per).unwrap(),
        seed,
    ))
}

/// The listing `query` asks for, walked chunk by chunk as the endpoint does.
pub(super) fn listing(state: &SharedStore, query: &str) -> String {
    let filter = Filter::parse(query).unwrap();
    let mut cursor = Cursor::start(&read(state), &filter);
    let mut out = Vec::new();
    while !cursor.is_done() {
        cursor.fill(&read(state), &filter, &mut out).unwrap();
    }
    String::from_utf8(out).unwrap()
}

/// Every entity line by id, parsed.
pub(super) fn by_id(ndjson: &str) -> BTreeMap<String, Value> {
    ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["id"].as_str().unwrap().to_owned(), v))
        .collect()
}

#[test]
fn a_population_is_one_account_one_player_and_their_villages_each() {
    let state = world(100, 3, 7);
    let all = listing(&state, "");
    let kinds = all
        .lines()
        .fold(BTreeMap::<String, usize>::new(), |mut m, l| {
            let v: Value = serde_json::from_str(l).unwrap();
            *m.entry(v["kind"].as_str().unwrap().to_owned()).or_default() += 1;
            m
        });
    let want = [("account", 100), ("player", 100), ("village", 300)];
    assert_eq!(kinds, want.map(|(k, n)| (k.to_owned(), n)).into());
    let ids = by_id(&all);
    assert_eq!(ids["p17"]["owner"], "a17");
    assert_eq!(
        ids["p17"]["data"]["villages"],
        serde_json::json!(["v51", "v52", "v53"])
    );
    assert_eq!(ids["v52"]["owner"], "p17");
    assert_eq!(ids["v52"]["data"]["name"], "village-52");
    assert!(ids["a17"].get("owner").is_none());
    // Listing order: accounts, players, villages, each by number.
    let order: Vec<&str> = all.lines().map(|l| l.split('"').nth(7).unwrap()).collect();
    assert_eq!(order[..3], ["a0", "a1", "a2"]);
    assert_eq!((order[99], order[100], order[200]), ("a99", "p0", "v0"));
}

#[test]
fn the_seed_decides_the_state() {
    let a = listing(&world(50, 2, 1), "");
    assert_eq!(a, listing(&world(50, 2, 1), ""));
    assert_ne!(a, listing(&world(50, 2, 2), ""));
}

#[test]
fn a_village_line_is_a_few_hundred_bytes() {
    let state = world(1000, 2, 3);
    let villages = listing(&state, "kind=village");
    for line in villages.lines() {
        assert!(
            (200..=300).contains(&line.len()),
            "{} bytes: {line}",
            line.len()
        );
    }
    let v: Value = serde_json::from_str(villages.lines().next().unwrap()).unwrap();
    let fields: Vec<_> = v["data"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["army", "buildings", "name", "resources"]);
}

#[test]
fn an_oversized_population_is_refused() {
    let err = Population::new(u32::MAX, u32::MAX).unwrap_err();
    assert!(err.to_string().contains("over the 20000000"), "{err}");
    assert!(Population::new(0, 0).is_ok());
}

#[test]
fn ids_are_read_only_in_their_canonical_spelling() {
    for (id, want) in [
        ("v34", Some((Kind::Village, 34))),
        ("a0", Some((Kind::Account, 0))),
        ("p18446744073709551615", Some((Kind::Player, u64::MAX))),
        ("p18446744073709551616", None),
        ("v034", None),
        ("v+3", None),
        ("v", None),
        ("x3", None),
        ("V3", None),
        ("é3", None),
        ("", None),
    ] {
        assert_eq!(parse_id(id), want, "{id}");
    }
}

#[test]
fn queries_the_listing_refuses_say_why() {
    for (query, want) in [
        ("kind=castle", QueryError::UnknownKind("castle".into())),
        ("kind=village&kind=player", QueryError::RepeatedKind),
        ("owners=p1", QueryError::UnknownParameter("owners".into())),
        ("owner=", QueryError::NoValue("owner".into())),
        ("id", QueryError::NoValue("id".into())),
        ("id=v%31", QueryError::Encoded("id=v%31".into())),
    ] {
        assert_eq!(Filter::parse(query), Err(want), "{query}");
    }
    let long = format!("kind={}", "x".repeat(500));
    let text = Filter::parse(&long).unwrap_err().to_string();
    assert!(text.len() < 150, "{text}");
}

#[test]
fn filters_select_by_kind_owner_and_id() {
    let state = world(2000, 2, 5);
    let ids = |q: &str| by_id(&listing(&state, q)).into_keys().collect::<Vec<_>>();
    assert_eq!(ids("kind=account").len(), 2000);
    assert_eq!(ids("owner=p7"), ["v14", "v15"]);
    assert_eq!(ids("owner=a7"), ["p7"]);
    assert_eq!(
        ids("owner=p7&owner=a9&id=v100&id=a3"),
        ["a3", "p9", "v100", "v14", "v15"]
    );
    assert_eq!(
        ids("kind=village&owner=p7&owner=a9&id=v100"),
        ["v100", "v14", "v15"]
    );
    assert!(ids("owner=nobody").is_empty());
    assert!(ids("id=v999999").is_empty());
    // A selection larger than a chunk comes out whole and in key order.
    let owners: Vec<String> = (0..1500).map(|i| format!("owner=p{i}")).collect();
    let selected = listing(&state, &owners.join("&"));
    assert_eq!(selected.lines().count(), 3000);
    const { assert!(3000 > CHUNK) };
    assert_eq!(
        selected,
        listing(&state, "kind=village")
            .lines()
            .take(3000)
            .fold(String::new(), |s, l| s + l + "\n")
    );
}

#[test]
fn a_frozen_state_stays_the_same_and_churn_replays_from_the_seed() {
    let frozen = world(200, 2, 9);
    let before = listing(&frozen, "");
    let mut churn = Churn::new(9, 0, Some(3));
    (0..100).for_each(|_| churn.tick(&frozen, None));
    assert_eq!(listing(&frozen, ""), before);

    let (a, b) = (world(200, 2, 9), world(200, 2, 9));
    let (mut ca, mut cb) = (Churn::new(9, 5, Some(3)), Churn::new(9, 5, Some(3)));
    for _ in 0..100 {
        ca.tick(&a, None);
        cb.tick(&b, None);
    }
    let after = listing(&a, "");
    assert_eq!(after, listing(&b, ""));
    let changed = changed(&before, &after);
    assert!(
        changed.len() > 50 && changed.iter().all(|id| id.starts_with('v')),
        "{changed:?}"
    );
    // Trades name each other.
    let now = by_id(&after);
    let traded: Vec<_> = now
        .values()
        .filter(|v| !v["data"]["last_trade"].is_null())
        .collect();
    assert!(!traded.is_empty());
    for v in traded {
        let other = &now[v["data"]["last_trade"]["with"].as_str().unwrap()];
        assert_ne!(other["owner"], v["owner"]);
    }
}

/// Ids whose lines differ between two listings of the same entities.
pub(super) fn changed(before: &str, after: &str) -> Vec<String> {
    let (b, a) = (by_id(before), by_id(after));
    a.into_iter()
        .filter(|(id, v)| b.get(id) != Some(v))
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn the_exploit_changes_only_the_suspect_and_its_trade_partners() {
    let state = world(500, 2, 4);
    let before = listing(&state, "");
    let mut churn = Churn::new(4, 0, Some(42));
    (0..25).for_each(|_| churn.tick(&state, Some(Fault::Exploit)));
    let after = listing(&state, "");
    let now = by_id(&after);
    let changed = changed(&before, &after);
    let partners: Vec<_> = changed
        .iter()
        .filter(|id| !["v84", "v85"].contains(&id.as_str()))
        .collect();
    // Trades on exploit ticks 0, 10 and 20.
    assert!(!partners.is_empty() && partners.len() <= 3, "{changed:?}");
    for id in partners {
        assert_eq!(now[id]["data"]["last_trade"]["with"], "v84", "{id}");
    }
    let gold = |m: &BTreeMap<String, Value>, id: &str| {
        m[id]["data"]["resources"]["gold"].as_u64().unwrap()
    };
    assert!(gold(&now, "v85") >= gold(&by_id(&before), "v85") + 25 * EXPLOIT_GOLD);
}

#[test]
fn corruption_damages_a_few_villages_a_tick() {
    let state = world(500, 2, 4);
    let before = listing(&state, "");
    let mut churn = Churn::new(4, 0, Some(42));
    (0..5).for_each(|_| churn.tick(&state, Some(Fault::Corruption)));
    let after = listing(&state, "");
    let changed = changed(&before, &after);
    assert!((1..=15).contains(&changed.len()), "{changed:?}");
    let (was, now) = (by_id(&before), by_id(&after));
    for id in &changed {
        let (b, a) = (&was[id]["data"], &now[id]["data"]);
        assert_eq!(
            (&a["buildings"]["town_hall"], &a["army"]["spearmen"]),
            (&0.into(), &0.into())
        );
        let food = |v: &Value| v["resources"]["food"].as_u64().unwrap();
        assert!(food(a) >= food(b) * CORRUPT_FOOD_FACTOR, "{id}");
    }
}
