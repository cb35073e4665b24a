//! Parsing and evaluation together: the file's rules as a game server sees them.

use std::time::SystemTime;

use super::parse;
use liveops_flags::FlagValue;
use liveops_flags::eval::*;

const FLAGS: &str = r#"
[flag."combat.attacks"]
kind = "kill_switch"
description = "Attacks."
owner = "gameplay"
default = true
blast_radius = "New attacks."
rollback = "Flip back."

[[flag."combat.attacks".rule]]
world = "w2"
value = false

[[flag."combat.attacks".rule]]
player = ["cheater", "bot-7"]
value = false

[[flag."combat.attacks".rule]]
world = "w2"
account = "qa"
value = true

[[flag."combat.attacks".rule]]
world = "w3"
value = false
expires = "2020-01-01T00:00:00Z"

[flag."events.double_xp"]
kind = "release"
description = "Double XP."
owner = "live-events"
default = false

[[flag."events.double_xp".rule]]
percent = 10
value = true

[flag."chat.max_length"]
kind = "ops"
description = "Longest chat message."
owner = "community"
default = 500
"#;

fn ctx(world: &str, account: &str, player: &str) -> Context {
    let s = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    Context {
        targeting_key: s(player),
        world: s(world),
        village: None,
        account: s(account),
        player: s(player),
    }
}

#[test]
fn the_most_specific_matching_rule_wins() {
    let set = parse("f.toml", FLAGS).unwrap();
    let attacks = set.get("combat.attacks").unwrap();
    let now = SystemTime::now();
    let cases = [
        (
            ctx("w1", "a", "p"),
            FlagValue::Bool(true),
            Reason::Default,
            "default",
        ),
        (
            ctx("w2", "a", "p"),
            FlagValue::Bool(false),
            Reason::TargetingMatch,
            "rule-1",
        ),
        (
            ctx("w1", "a", "cheater"),
            FlagValue::Bool(false),
            Reason::TargetingMatch,
            "rule-2",
        ),
        (
            ctx("w2", "qa", "p"),
            FlagValue::Bool(true),
            Reason::TargetingMatch,
            "rule-3",
        ),
        (
            ctx("w2", "qa", "bot-7"),
            FlagValue::Bool(false),
            Reason::TargetingMatch,
            "rule-2",
        ),
        (
            ctx("w3", "a", "p"),
            FlagValue::Bool(true),
            Reason::Default,
            "default",
        ),
        (
            ctx("", "", ""),
            FlagValue::Bool(true),
            Reason::Default,
            "default",
        ),
    ];
    for (c, value, reason, variant) in cases {
        let e = evaluate(attacks, &[], &c, now);
        assert_eq!(
            (e.value, e.reason, e.variant.to_string().as_str()),
            (&value, reason, variant),
            "{c:?}"
        );
    }
    let chat = set.get("chat.max_length").unwrap();
    let e = evaluate(chat, &[], &Context::default(), now);
    assert_eq!(
        (e.value, e.reason),
        (&FlagValue::Integer(500), Reason::Static)
    );
}

#[test]
fn percent_rollouts_are_sticky_and_close_to_their_share() {
    let set = parse("f.toml", FLAGS).unwrap();
    let xp = set.get("events.double_xp").unwrap();
    let now = SystemTime::now();
    let on = (0..10_000)
        .filter(|i| {
            let c = Context {
                targeting_key: Some(format!("player-{i}")),
                ..Context::default()
            };
            let first = evaluate(xp, &[], &c, now);
            assert_eq!(first, evaluate(xp, &[], &c, now), "sticky");
            first.value == &FlagValue::Bool(true)
        })
        .count();
    assert!((900..=1100).contains(&on), "{on} of 10000 in a 10% rollout");
    let anonymous = evaluate(xp, &[], &Context::default(), now);
    assert_eq!(
        (anonymous.value, anonymous.reason),
        (&FlagValue::Bool(false), Reason::Default)
    );
    let split = (0..100).map(|i| Context {
        targeting_key: Some(format!("k{i}")),
        ..Context::default()
    });
    assert!(
        split
            .map(|c| evaluate(xp, &[], &c, now))
            .any(|e| e.reason == Reason::Split)
    );
}

#[test]
fn bucket_is_pinned_so_other_languages_can_compute_it() {
    // FNV-1a 64 of "flag/key", modulo 10,000, in hundredths.
    assert_eq!(bucket("a", "b"), 26.89);
    assert_eq!(bucket("events.double_xp", "player-42"), 92.29);
    assert_ne!(bucket("flag-a", "k"), bucket("flag-b", "k"));
}
