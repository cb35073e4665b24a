use super::*;

fn errors(text: &str) -> String {
    parse("flags.toml", text).unwrap_err().to_string()
}

#[test]
fn the_shipped_file_has_kill_switches_for_every_core_system() {
    let set = parse("flags.toml", crate::DEFAULT_FLAGS_TOML).unwrap();
    for system in [
        "combat",
        "payments",
        "events",
        "diplomacy",
        "auth",
        "trade",
        "chat",
    ] {
        let switches = set
            .flags
            .iter()
            .filter(|f| f.system == system && f.kind == FlagKind::KillSwitch);
        assert!(switches.count() >= 1, "no kill switch for {system}");
    }
    for f in &set.flags {
        assert!(
            !f.owner.is_empty()
                && !f.blast_radius.is_empty()
                && !f.rollback.is_empty()
                && !f.takes_effect.is_empty(),
            "{}",
            f.key
        );
    }
    let xp = set.get("events.double_xp").unwrap();
    assert_eq!(xp.rules[0].specificity(), Specificity::Percent);
    assert_eq!(xp.rules[0].value, FlagValue::Bool(true));
}

#[test]
fn docs_flags_md_is_current() {
    let set = parse("config/flags.toml", crate::DEFAULT_FLAGS_TOML).unwrap();
    let want = docs::markdown(&set, "config/flags.toml");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/flags.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/flags.md is stale: run `cargo run -p liveops -- flag docs > docs/flags.md`"
    );
}

#[test]
fn kill_switches_need_owner_blast_radius_and_rollback() {
    let text = r#"[flag."combat.attacks"]
kind = "kill_switch"
description = "Attacks."
default = true
"#;
    assert_eq!(
        errors(text),
        "flags.toml:1:1: missing `owner`\n\
         flags.toml:1:1: missing `blast_radius`\n\
         flags.toml:1:1: missing `rollback`"
    );
}

#[test]
fn values_types_targets_and_expiry_are_checked() {
    let text = r#"[flag."trade.limit"]
kind = "ops"
description = "Max offers per player."
owner = "economy"
default = 10
fail_safe = "ten"

[[flag."trade.limit".rule]]
world = "w2"
value = true

[[flag."trade.limit".rule]]
value = 5

[[flag."trade.limit".rule]]
player = ["p1", "p2"]
percent = 120
value = 3
expires = "tomorrow"
"#;
    assert_eq!(
        errors(text),
        "flags.toml:6:13: this value is a string but the flag's default is a number\n\
         flags.toml:10:9: this value is a boolean but the flag's default is a number\n\
         flags.toml:12:1: a rule needs a target: world, village, account, player (a value or a list) or percent\n\
         flags.toml:17:11: percent must be between 0 and 100, got 120\n\
         flags.toml:19:11: expires: `tomorrow` is not a time; write RFC 3339, e.g. \"2026-12-01T18:00:00Z\""
    );
}

#[test]
fn overlapping_rules_of_equal_specificity_must_agree() {
    let base = r#"[flag."combat.attacks"]
kind = "release"
description = "Attacks."
owner = "gameplay"
default = true
"#;
    let rules = |a: &str, b: &str| {
        format!(
            "{base}\n[[flag.\"combat.attacks\".rule]]\n{a}\n\n[[flag.\"combat.attacks\".rule]]\n{b}\n"
        )
    };
    let cases = [
        (
            "world = \"w2\"\nvalue = false",
            "world = [\"w1\", \"w2\"]\nvalue = true",
            true,
        ),
        (
            "world = \"w2\"\nvalue = false",
            "world = \"w3\"\nvalue = true",
            false,
        ),
        (
            "world = \"w2\"\nvalue = false",
            "world = \"w2\"\nvalue = false",
            false,
        ),
        (
            "player = \"p1\"\nvalue = false",
            "world = \"w2\"\nvalue = true",
            false,
        ),
        (
            "world = \"w2\"\nplayer = \"p1\"\nvalue = false",
            "player = \"p1\"\nvalue = true",
            true,
        ),
        (
            "percent = 10\nvalue = false",
            "percent = 50\nvalue = true",
            true,
        ),
    ];
    for (a, b, conflict) in cases {
        let result = parse("flags.toml", &rules(a, b));
        match (conflict, result) {
            (false, Ok(_)) => {}
            (true, Err(e)) => assert!(
                e.to_string()
                    .contains("can match the same requests as the rule on line 7"),
                "{e}"
            ),
            (want, got) => panic!("{a} / {b}: conflict expected {want}, got {got:?}"),
        }
    }
}
