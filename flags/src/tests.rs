//! Overrides over the file, fail-safe serving, and the wire form.

use std::time::{Duration, SystemTime};

use crate::*;

fn attacks() -> Flag {
    Flag {
        key: "combat.attacks".into(),
        description: "Attacks.".into(),
        system: "combat".into(),
        kind: FlagKind::KillSwitch,
        owner: "gameplay".into(),
        default: FlagValue::Bool(true),
        fail_safe: FlagValue::Bool(false),
        blast_radius: "New attacks.".into(),
        takes_effect: String::new(),
        rollback: "Flip back.".into(),
        enabled: true,
        rules: vec![Rule {
            world: vec![],
            village: vec![],
            account: vec![],
            player: vec!["qa".into()],
            percent: None,
            value: FlagValue::Bool(true),
            expires: None,
            reason: String::new(),
        }],
    }
}

fn ovr(id: &str, scope: Scope, value: bool, created_s: u64, ttl: Option<u64>) -> Override {
    let created = SystemTime::UNIX_EPOCH + Duration::from_secs(created_s);
    Override {
        id: id.into(),
        flag: "combat.attacks".into(),
        scope,
        value: FlagValue::Bool(value),
        reason: "exploit".into(),
        actor: "ops".into(),
        mitigation: None,
        created,
        expires: ttl.map(|t| created + Duration::from_secs(t)),
    }
}

fn ctx(world: &str, player: &str) -> Context {
    Context {
        targeting_key: Some(player.into()),
        world: Some(world.into()),
        player: Some(player.into()),
        ..Context::default()
    }
}

fn at(s: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(s)
}

#[test]
fn overrides_win_over_the_file_most_specific_then_newest() {
    let flag = attacks();
    let list = vec![
        ovr("o-1", Scope::Fleet, false, 10, None),
        ovr("o-2", Scope::World("w2".into()), true, 20, None),
        ovr("o-3", Scope::World("w2".into()), false, 30, Some(60)),
        ovr("o-4", Scope::Player("cheater".into()), false, 5, None),
    ];
    let e = |c: &Context, now| {
        let e = evaluate(&flag, &list, c, at(now));
        (e.value.as_bool().unwrap(), e.reason, e.variant.to_string())
    };
    // A fleet override beats even the file's player rule.
    assert_eq!(
        e(&ctx("w1", "qa"), 40),
        (false, Reason::Static, "override-o-1".into())
    );
    // Same scope: the newest wins, until it expires.
    assert_eq!(
        e(&ctx("w2", "p"), 40),
        (false, Reason::TargetingMatch, "override-o-3".into())
    );
    assert_eq!(
        e(&ctx("w2", "p"), 91),
        (true, Reason::TargetingMatch, "override-o-2".into())
    );
    // The most specific scope wins whatever its age.
    assert_eq!(e(&ctx("w2", "cheater"), 40).2, "override-o-4");
    // Without overrides the file answers.
    let plain = evaluate(&flag, &[], &ctx("w1", "qa"), at(40));
    assert_eq!(
        (plain.reason, plain.variant),
        (Reason::TargetingMatch, Variant::Rule(1))
    );
}

#[test]
fn a_disabled_flag_serves_its_default_but_still_takes_overrides() {
    let mut flag = attacks();
    flag.enabled = false;
    let e = evaluate(&flag, &[], &ctx("w1", "qa"), at(1));
    assert_eq!(
        (e.value, e.reason),
        (&FlagValue::Bool(true), Reason::Disabled)
    );
    let list = [ovr("o-1", Scope::World("w1".into()), false, 0, None)];
    assert_eq!(
        evaluate(&flag, &list, &ctx("w1", "qa"), at(1)).value,
        &FlagValue::Bool(false)
    );
}

#[test]
fn a_never_valid_file_serves_fail_safe_and_names_the_parse_error() {
    let snap = Snapshot::new(SnapshotDoc {
        version: "v1".into(),
        fail_safe: Some("flags.toml:9:3: missing owner".into()),
        flags: vec![attacks()],
        overrides: vec![],
    });
    let e = snap
        .evaluate("combat.attacks", &ctx("w1", "qa"), at(1))
        .unwrap();
    assert_eq!(
        (e.value, e.variant),
        (&FlagValue::Bool(false), Variant::FailSafe)
    );
    assert_eq!(
        snap.evaluate("trade.market", &Context::default(), at(1))
            .unwrap_err()
            .code(),
        "PARSE_ERROR"
    );
    let valid = Snapshot::new(SnapshotDoc {
        fail_safe: None,
        ..snap.doc().clone()
    });
    assert_eq!(
        valid.evaluate("trade.market", &Context::default(), at(1)),
        Err(EvalError::FlagNotFound)
    );
}

#[test]
fn snapshots_round_trip_as_json_keeping_integers_apart_from_floats() {
    let mut flag = attacks();
    flag.rules[0].expires = Some(at(1_800_000_000));
    let mut limit = attacks();
    limit.key = "chat.max_length".into();
    limit.default = FlagValue::Integer(500);
    limit.fail_safe = FlagValue::Float(0.5);
    limit.rules.clear();
    let doc = SnapshotDoc {
        version: "abc".into(),
        fail_safe: None,
        flags: vec![flag, limit],
        overrides: vec![ovr("o-9", Scope::Village("v7".into()), false, 3, Some(9))],
    };
    let json = serde_json::to_string(&doc).unwrap();
    assert!(json.contains(r#""default":500,"#), "{json}");
    assert!(
        json.contains(r#""scope":{"kind":"village","id":"v7"}"#),
        "{json}"
    );
    let back: SnapshotDoc = serde_json::from_str(&json).unwrap();
    assert_eq!(back, doc);
}

#[test]
fn values_typed_by_operators_take_the_flag_type() {
    let b = FlagValue::Bool(true);
    assert_eq!(
        FlagValue::parse_like("false", &b),
        Ok(FlagValue::Bool(false))
    );
    assert!(FlagValue::parse_like("off", &b).is_err());
    let n = FlagValue::Integer(1);
    assert_eq!(
        FlagValue::parse_like("250", &n),
        Ok(FlagValue::Integer(250))
    );
    assert_eq!(FlagValue::parse_like("0.5", &n), Ok(FlagValue::Float(0.5)));
    assert!(FlagValue::parse_like("NaN", &n).is_err());
    let s = FlagValue::String(String::new());
    assert_eq!(
        FlagValue::parse_like("eu", &s),
        Ok(FlagValue::String("eu".into()))
    );
}
