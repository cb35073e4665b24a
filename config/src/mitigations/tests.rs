use super::*;

fn catalogue() -> FlagSet {
    crate::flags::parse("flags.toml", crate::DEFAULT_FLAGS_TOML).unwrap()
}

fn errors(text: &str) -> String {
    parse("m.toml", text, &catalogue()).unwrap_err().to_string()
}

#[test]
fn the_shipped_bundles_are_valid_and_documented() {
    let m = parse(
        "mitigations.toml",
        crate::DEFAULT_MITIGATIONS_TOML,
        &catalogue(),
    )
    .unwrap();
    for name in [
        "freeze-attacks",
        "pause-payments",
        "disable-events",
        "freeze-diplomacy",
        "block-logins",
    ] {
        let b = m.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(b.description.len() > 40, "{name}: say what it does");
        assert!(b.runbook.starts_with("/runbooks/"), "{name}");
    }
    let freeze = m.get("freeze-attacks").unwrap();
    assert_eq!(
        freeze.flags.iter().collect::<Vec<_>>(),
        [
            (&"combat.attacks".to_owned(), &FlagValue::Bool(false)),
            (&"combat.raids".to_owned(), &FlagValue::Bool(false)),
        ]
    );
}

#[test]
fn unknown_flags_and_wrong_types_are_named_with_their_position() {
    let text = r#"[mitigation."freeze-attacks"]
description = "Stop attacks."
runbook = "/runbooks/error-rate"
flags = { "combat.atacks" = false, "combat.raids" = "no" }
"#;
    assert_eq!(
        errors(text),
        "m.toml:4:11: unknown flag `combat.atacks`: not in the flag catalogue (known: combat.attacks, combat.raids)\n\
         m.toml:4:53: `combat.raids` is a boolean flag (default true), but this value is a string"
    );
}

#[test]
fn missing_fields_bad_names_runbooks_and_ttls_are_all_reported() {
    let text = r#"[mitigation."bad name"]
description = "x"
runbook = "/runbooks/x"
flags = { "auth.logins" = false }

[mitigation.empty]
runbook = "ftp://runbooks"
flags = {}
default_ttl = "soon"
color = "red"

[mitigation.nothing]
description = "Does nothing."
runbook = "https://wiki.example/x"
default_ttl = "0s"
"#;
    let got = errors(text);
    let want = [
        "m.toml:1:13: mitigation name `bad name` must be 1–64 characters of letters, digits, `-`, `_` or `.`",
        "m.toml:10:1: unknown field `color`, expected one of `description`, `runbook`, `flags`, `default_ttl`",
        "m.toml:12:1: missing `flags`: the flag values this mitigation sets",
        "m.toml:15:15: default_ttl must be longer than zero",
    ];
    assert_eq!(got, want.join("\n"), "{got}");
}

#[test]
fn each_error_of_a_valid_table_shows_at_once() {
    let text = r#"[mitigation.empty]
runbook = "ftp://runbooks"
flags = {}
default_ttl = "soon"
"#;
    let got = errors(text);
    assert!(got.contains("m.toml:1:1: missing `description`"), "{got}");
    assert!(
        got.contains("m.toml:2:11: runbook: `ftp://runbooks` is not an http:// or https:// URL"),
        "{got}"
    );
    assert!(got.contains("m.toml:3:9: `flags` is empty"), "{got}");
    assert!(
        got.contains("m.toml:4:15: default_ttl: `soon` is not a duration"),
        "{got}"
    );
}

#[test]
fn numbers_and_objects_follow_the_flag_default_and_ttls_parse() {
    let mut flags = catalogue();
    let mut limit = flags.flags[0].clone();
    limit.key = "trade.max_offers".into();
    limit.default = FlagValue::Integer(50);
    flags.flags.push(limit);
    let text = r#"[mitigation.slow-trade]
description = "Fewer offers."
runbook = "/runbooks/error-rate"
flags = { "trade.max_offers" = 0.5, "trade.market" = true }
default_ttl = "2h"
"#;
    let m = parse("m.toml", text, &flags).unwrap();
    let b = m.get("slow-trade").unwrap();
    assert_eq!(b.flags["trade.max_offers"], FlagValue::Float(0.5));
    assert_eq!(b.default_ttl, Some(Duration::from_secs(7_200)));
}

#[test]
fn a_file_without_bundles_or_with_other_sections_is_refused() {
    assert_eq!(
        errors("[flag.x]\n"),
        "m.toml:1:1: no mitigations: add at least one [mitigation.\"NAME\"] table (the shipped config/mitigations.toml has examples)\n\
         m.toml:1:2: unknown section `flag`, expected one of `mitigation`"
    );
}

#[test]
fn the_shipped_config_dir_checks_clean_including_mitigations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let checked = crate::check_path(dir);
    let kinds: Vec<_> = checked
        .iter()
        .map(|c| match &c.result {
            Ok(k) => *k,
            Err(e) => panic!("{e}"),
        })
        .collect();
    assert!(kinds.contains(&crate::Kind::Mitigations), "{kinds:?}");
}

#[test]
fn the_collector_loads_its_catalogue_from_files_beside_its_config() {
    let dir = std::env::temp_dir().join(format!("liveops-mitigations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let collector = dir.join("collector.toml");
    let text = format!(
        "[collector]\nmitigations = \"m.toml\"\n{}",
        &crate::DEFAULT_COLLECTOR_TOML[crate::DEFAULT_COLLECTOR_TOML.find("[alerting]").unwrap()..]
    );
    std::fs::write(&collector, text).unwrap();
    std::fs::write(
        dir.join("m.toml"),
        "[mitigation.x]\ndescription = \"x\"\nrunbook = \"/r\"\nflags = { \"auth.logins\" = 1 }\n",
    )
    .unwrap();
    let cfg = crate::load_collector(&collector).unwrap();
    assert_eq!(cfg.mitigations_file, Some(dir.join("m.toml")));
    assert_eq!(cfg.flags_file, None);
    let err = crate::load_catalogue(&cfg).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:4:27: `auth.logins` is a boolean flag (default true), but this value is a number",
            dir.join("m.toml").display()
        )
    );
    // check-config names the same error when it checks the collector file.
    let checked = crate::check_path(&collector);
    assert_eq!(checked[0].result.as_ref().unwrap_err().to_string(), err);
    std::fs::remove_dir_all(&dir).unwrap();
    let shipped = crate::load_catalogue(&crate::default_collector()).unwrap();
    assert!(shipped.mitigations.get("block-logins").is_some());
}
