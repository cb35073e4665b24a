use std::time::{Duration, SystemTime};

use liveops_flags::{Context, FlagValue, Override, OverrideSet, Scope, Snapshot};

use super::*;

pub(crate) fn flag_toml(key: &str, default: &str) -> String {
    format!(
        "[flag.\"{key}\"]\ndescription = \"d\"\nsystem = \"combat\"\nkind = \"kill_switch\"\n\
         owner = \"gameplay\"\ndefault = {default}\nfail_safe = false\nblast_radius = \"b\"\n\
         takes_effect = \"t\"\nrollback = \"r\"\n"
    )
}

fn bytes(text: &str) -> Read {
    Read::Bytes(text.as_bytes().to_vec())
}

fn value(state: &FlagState, key: &str) -> Result<(FlagValue, String), &'static str> {
    let snap = Snapshot::new(state.doc(SystemTime::now()));
    let ctx = Context::default();
    snap.evaluate(key, &ctx, SystemTime::now())
        .map(|e| (e.value.clone(), e.variant.to_string()))
        .map_err(|e| e.code())
}

#[test]
fn applies_valid_files_skips_unchanged_bytes_and_keeps_the_last_good_one() {
    let mut s = FlagState::new(Some("f.toml".into()), None, OverrideSet::default());
    let r = s.load(bytes(&flag_toml("a", "true")), 1).unwrap();
    assert!(r.applied && r.error.is_none() && r.sha256.len() == 64);
    assert_eq!(r.changes.len(), 1);
    assert_eq!(s.state(), FileState::Ok);
    assert!(s.load(bytes(&flag_toml("a", "true")), 2).is_none());

    let v1 = s.doc(SystemTime::now()).version;
    let r = s.load(bytes("[flag.\"a\"]\ndefault = oops\n"), 3).unwrap();
    assert!(!r.applied && r.changes.is_empty());
    let err = r.error.unwrap();
    assert!(err.starts_with("f.toml:2:11: "), "{err}");
    assert_eq!(s.state(), FileState::Error);
    assert_eq!(s.error(), Some(err.as_str()));
    assert_eq!(
        value(&s, "a").unwrap(),
        (FlagValue::Bool(true), "default".into())
    );
    assert_eq!(
        s.doc(SystemTime::now()).version,
        v1,
        "nothing served changed"
    );

    for broken in [
        Read::Bytes(Vec::new()),
        Read::Failed("cannot read: gone".into()),
    ] {
        let r = s.load(broken, 4).unwrap();
        assert!(!r.applied, "{r:?}");
        assert_eq!(value(&s, "a").unwrap().0, FlagValue::Bool(true));
    }
    assert_eq!(s.error(), Some("f.toml: cannot read: gone"));

    let r = s.load(bytes(&flag_toml("a", "false")), 5).unwrap();
    assert!(r.applied);
    assert_eq!(
        r.changes[0].after.as_deref(),
        Some("default=false, enabled, no rules")
    );
    assert_eq!(s.state(), FileState::Ok);
    assert_eq!(s.error(), None);
    assert_ne!(s.doc(SystemTime::now()).version, v1);
}

#[test]
fn a_never_valid_file_serves_fail_safe_values_of_what_parses() {
    let mut s = FlagState::new(Some("f.toml".into()), None, OverrideSet::default());
    let text = format!("{}[flag.\"b\"]\nkind = 3\n", flag_toml("a", "true"));
    let r = s.load(bytes(&text), 1).unwrap();
    assert!(!r.applied);
    assert_eq!(s.state(), FileState::FailSafe);
    assert_eq!(
        value(&s, "a").unwrap(),
        (FlagValue::Bool(false), "fail-safe".into())
    );
    assert_eq!(value(&s, "b"), Err("PARSE_ERROR"));
    let doc = s.doc(SystemTime::now());
    assert!(doc.fail_safe.unwrap().starts_with("f.toml:"));
    assert!(s.load(bytes(&flag_toml("a", "true")), 2).unwrap().applied);
    assert_eq!(value(&s, "b"), Err("FLAG_NOT_FOUND"));
}

#[test]
fn a_persisted_good_file_is_served_when_the_file_is_broken_at_start() {
    let good = Good {
        sha256: "abc".into(),
        set: liveops_config::flags::parse("f.toml", &flag_toml("a", "true")).unwrap(),
    };
    let mut s = FlagState::new(Some("f.toml".into()), Some(good), OverrideSet::default());
    assert!(!s.load(bytes("not toml ["), 1).unwrap().applied);
    assert_eq!(s.state(), FileState::Error);
    assert_eq!(s.served_sha256(), Some("abc"));
    assert_eq!(value(&s, "a").unwrap().1, "default");
}

#[test]
fn overrides_and_their_expiry_change_the_version() {
    let mut s = FlagState::new(Some("f.toml".into()), None, OverrideSet::default());
    s.load(bytes(&flag_toml("a", "true")), 1);
    let now = SystemTime::now();
    let expires = now + Duration::from_secs(60);
    let set = OverrideSet {
        version: 1,
        overrides: vec![Override {
            id: "o-1".into(),
            flag: "a".into(),
            scope: Scope::Fleet,
            value: FlagValue::Bool(false),
            reason: "incident".into(),
            actor: "ops".into(),
            mitigation: None,
            created: now,
            expires: Some(expires),
        }],
    };
    let v0 = s.doc(now).version;
    assert!(s.set_overrides(set.clone()));
    assert!(!s.set_overrides(set));
    let v1 = s.doc(now).version;
    assert_ne!(v0, v1);
    assert_eq!(value(&s, "a").unwrap().1, "override-o-1");
    assert_eq!(s.next_expiry(now), Some(expires));
    assert_eq!(s.next_expiry(expires + Duration::from_millis(1)), None);
    let after = s.doc(expires + Duration::from_millis(1)).version;
    assert_ne!(after, v1, "an expiry is a new version");
    assert_eq!(s.doc(expires + Duration::from_secs(9)).version, after);
}

#[test]
fn no_file_configured_serves_nothing_and_ignores_loads() {
    let mut s = FlagState::new(None, None, OverrideSet::default());
    assert_eq!(s.state(), FileState::Disabled);
    assert!(s.load(bytes(&flag_toml("a", "true")), 1).is_none());
    assert_eq!(value(&s, "a"), Err("FLAG_NOT_FOUND"));
}
