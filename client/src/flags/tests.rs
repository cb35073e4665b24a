use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;

use super::fake_agent::FakeAgent;
use super::*;

/// A snapshot with a kill switch scoped by world and player, and a flag of
/// every other type; `attacks` is the kill switch's default.
pub(crate) fn doc(version: &str, attacks: bool) -> SnapshotDoc {
    let flag = |key: &str, default: serde_json::Value, rules: serde_json::Value| {
        json!({
            "key": key, "description": "d", "system": "s", "kind": "ops", "owner": "o",
            "default": default, "fail_safe": default, "blast_radius": "b",
            "takes_effect": "t", "rollback": "r", "rules": rules,
        })
    };
    serde_json::from_value(json!({
        "version": version,
        "flags": [
            flag("combat.attacks", json!(attacks), json!([
                {"world": ["w2"], "value": false},
                {"player": ["p-vip"], "value": true},
            ])),
            flag("trade.max_offers", json!(20), json!([])),
            flag("economy.tax", json!(0.05), json!([])),
            flag("events.banner", json!("hello"), json!([])),
        ],
    }))
    .unwrap()
}

fn eventually(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn quick(url: &str) -> FlagClient {
    FlagClient::builder(url)
        .world("w1")
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .build()
        .unwrap()
}

#[test]
fn a_client_can_be_shared_across_game_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<FlagClient>();
}

#[test]
fn typed_reads_fall_back_to_the_default_on_a_missing_flag_or_another_type() {
    let flags = FlagClient::offline(doc("v1", true), Some("w1"));
    let world = flags.world_context();
    assert!(flags.bool("combat.attacks", world, false));
    assert_eq!(flags.int("trade.max_offers", world, 0), 20);
    assert_eq!(flags.float("economy.tax", world, 0.0), 0.05);
    assert_eq!(flags.float("trade.max_offers", world, 0.0), 20.0);
    assert_eq!(flags.string("events.banner", world, "x"), "hello");
    assert_eq!(
        flags.int("economy.tax", world, 7),
        7,
        "a float is not an integer"
    );
    assert!(!flags.bool("events.banner", world, false));
    assert!(flags.bool("no.such.flag", world, true));
    let err = flags.details("no.such.flag", world).unwrap_err();
    assert_eq!(err.code(), "FLAG_NOT_FOUND");
}

#[test]
fn scopes_come_from_the_context_and_the_world_from_the_client() {
    let flags = FlagClient::offline(doc("v1", true), Some("w2"));
    let in_w2 = flags.context().player("p-1").build();
    assert_eq!(in_w2.world.as_deref(), Some("w2"));
    let d = flags.details("combat.attacks", &in_w2).unwrap();
    assert_eq!(
        (d.value, d.reason),
        (FlagValue::Bool(false), Reason::TargetingMatch)
    );
    assert_eq!((d.variant.as_str(), d.version.as_str()), ("rule-1", "v1"));
    let vip = flags.context().player("p-vip").build();
    assert!(
        flags.bool("combat.attacks", &vip, false),
        "player beats world"
    );
    let elsewhere = ContextBuilder::new().world("w1").build();
    let d = flags.details("combat.attacks", &elsewhere).unwrap();
    assert_eq!((d.reason, d.variant.as_str()), (Reason::Default, "default"));
}

#[test]
fn follows_changes_and_resyncs_after_the_agent_restarts() {
    let agent = FakeAgent::start("127.0.0.1:0", doc("v1", true));
    let flags = quick(&agent.url());
    assert!(flags.wait_ready(Duration::from_secs(5)));
    let ctx = flags.context().build();
    assert!(flags.bool("combat.attacks", &ctx, false));
    eventually("the stream to open", Duration::from_secs(5), || {
        flags.status().connected
    });

    agent.repeat();
    agent.set(doc("v2", false));
    eventually("v2", Duration::from_secs(2), || {
        !flags.bool("combat.attacks", &ctx, true)
    });
    assert_eq!(
        agent.fetches(),
        2,
        "one fetch at start, one for v2; none for v1 again"
    );

    let addr = agent.addr();
    drop(agent);
    eventually("the stream to drop", Duration::from_secs(5), || {
        !flags.status().connected
    });
    assert!(
        !flags.bool("combat.attacks", &ctx, true),
        "the last snapshot stays"
    );
    let agent = FakeAgent::start(&addr.to_string(), doc("v1", true));
    eventually("resync", Duration::from_secs(5), || {
        flags.bool("combat.attacks", &ctx, false)
    });
    assert_eq!(flags.status().version.as_deref(), Some("v1"));
    assert!(flags.status().last_error.is_some());

    let started = Instant::now();
    drop(flags);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        started.elapsed()
    );
    drop(agent);
}

#[test]
fn an_agent_down_at_start_means_defaults_until_it_comes_up() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let flags = quick(&format!("http://{addr}"));
    let ctx = flags.context().build();
    assert!(!flags.wait_ready(Duration::from_millis(100)));
    assert_eq!(flags.int("trade.max_offers", &ctx, 3), 3);
    assert_eq!(
        flags.details("trade.max_offers", &ctx).unwrap_err(),
        ReadError::NotReady
    );
    let status = flags.status();
    assert!(!status.connected && status.version.is_none() && status.last_error.is_some());

    let agent = FakeAgent::start(&addr.to_string(), doc("v1", true));
    assert!(flags.wait_ready(Duration::from_secs(5)));
    assert_eq!(flags.int("trade.max_offers", &ctx, 3), 20);
    drop(agent);
}

#[test]
fn dropping_a_client_that_never_connected_is_prompt() {
    let flags = FlagClient::connect("http://127.0.0.1:9", "w1").unwrap();
    let clone = flags.clone();
    drop(flags);
    assert!(!clone.wait_ready(Duration::from_millis(20)));
    let started = Instant::now();
    drop(clone);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn reading_the_clock_only_for_timed_flags_changes_no_answer() {
    let now_ms = liveops_flags::time::to_ms(std::time::SystemTime::now());
    let mut doc = doc("v1", true);
    let over = |id: &str, scope: serde_json::Value, value: bool, expires: Option<u64>| {
        json!({"id": id, "flag": "combat.attacks", "scope": scope, "value": value,
               "reason": "r", "actor": "a", "created": now_ms - 1000, "expires": expires})
    };
    let overrides = json!([
        over(
            "o-1",
            json!({"kind": "world", "id": "w3"}),
            false,
            Some(now_ms + 60_000)
        ),
        over(
            "o-2",
            json!({"kind": "village", "id": "v-1"}),
            false,
            Some(now_ms - 1)
        ),
        over("o-3", json!({"kind": "account", "id": "a-1"}), false, None),
        over("o-4", json!({"kind": "fleet"}), true, Some(now_ms + 60_000)),
    ]);
    doc.overrides = serde_json::from_value(overrides).unwrap();
    let snapshot = Snapshot::new(doc.clone());
    let mut failed = doc;
    failed.fail_safe = Some("flags.toml:1:1: bad".into());
    let failed = Snapshot::new(failed);
    let b = ContextBuilder::new;
    let contexts = [
        b().build(),
        b().world("w2").build(),
        b().world("w3").village("v-1").build(),
        b().world("w2").account("a-1").build(),
        b().world("w2").player("p-vip").build(),
    ];
    for key in ["combat.attacks", "trade.max_offers", "economy.tax", "nope"] {
        for ctx in &contexts {
            for snap in [&snapshot, &failed] {
                let want = snap.evaluate(key, ctx, std::time::SystemTime::now());
                assert_eq!(snap.evaluate_now(key, ctx), want, "{key} {ctx:?}");
            }
        }
    }
}
