//! Known-good flag and mitigations files: accepted, values round-trip.

use super::*;

/// A flag value and its TOML spelling, of a given type (0 bool, 1 integer,
/// 2 float, 3 string, 4 table): a flag's default, fail-safe and rule values
/// share one type.
fn flag_value(ty: u8) -> BoxedStrategy<(String, FlagValue)> {
    match ty {
        0 => any::<bool>()
            .prop_map(|b| (b.to_string(), FlagValue::Bool(b)))
            .boxed(),
        1 => any::<i64>()
            .prop_map(|i| (i.to_string(), FlagValue::Integer(i)))
            .boxed(),
        // Debug always writes a `.` or an exponent, so TOML reads a float.
        2 => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| (format!("{f:?}"), FlagValue::Float(f)))
            .boxed(),
        3 => "[a-zA-Z0-9 _.:/-]{0,16}"
            .prop_map(|s| (format!("\"{s}\""), FlagValue::String(s)))
            .boxed(),
        _ => prop::collection::btree_map(
            "[a-z][a-z_]{0,6}",
            prop_oneof![flag_value(0), flag_value(1), flag_value(3)],
            0..4,
        )
        .prop_map(|m| {
            let items: Vec<String> = m.iter().map(|(k, (t, _))| format!("{k} = {t}")).collect();
            let value = m.into_iter().map(|(k, (_, v))| (k, v)).collect();
            (
                format!("{{ {} }}", items.join(", ")),
                FlagValue::Object(value),
            )
        })
        .boxed(),
    }
}

#[derive(Clone, Debug)]
struct GenFlag {
    key: String,
    kind: crate::flags::FlagKind,
    default: FlagValue,
    fail_safe: FlagValue,
    enabled: bool,
    rule_values: Vec<FlagValue>,
}

/// A flag file of known-good flags (rules on distinct worlds, so they
/// cannot conflict), and the flags it must give.
fn flag_doc() -> impl Strategy<Value = (String, Vec<GenFlag>)> {
    use crate::flags::FlagKind;
    let flag = (
        prop::sample::select(vec![FlagKind::KillSwitch, FlagKind::Release, FlagKind::Ops]),
        0u8..5,
        words(),
        words(),
        prop::option::of(any::<bool>()),
        prop::option::of(0u8..=100),
    )
        .prop_flat_map(|(kind, ty, description, owner, enabled, percent)| {
            (
                Just((kind, description, owner, enabled, percent)),
                flag_value(ty),
                prop::option::of(flag_value(ty)),
                prop::collection::vec(flag_value(ty), 0..3),
            )
        });
    prop::collection::btree_map("[a-z]{1,8}(\\.[a-z_]{1,8}){0,2}", flag, 0..6).prop_map(|flags| {
        let mut text = String::from("# generated\n");
        let mut want = Vec::new();
        for (key, ((kind, description, owner, enabled, percent), default, fail_safe, rules)) in
            flags
        {
            let _ = writeln!(text, "[flag.\"{key}\"]\nkind = \"{}\"", kind.as_str());
            let _ = writeln!(text, "description = \"{description}\"\nowner = \"{owner}\"");
            let _ = writeln!(
                text,
                "blast_radius = \"{description}\"\nrollback = \"Flip back.\""
            );
            let _ = writeln!(text, "default = {}", default.0);
            if let Some((t, _)) = &fail_safe {
                let _ = writeln!(text, "fail_safe = {t}");
            }
            if let Some(e) = enabled {
                let _ = writeln!(text, "enabled = {e}");
            }
            for (i, (t, _)) in rules.iter().enumerate() {
                let _ = writeln!(
                    text,
                    "[[flag.\"{key}\".rule]]\nworld = \"w{i}\"\nvalue = {t}"
                );
                if let Some(p) = percent {
                    let _ = writeln!(text, "percent = {p}");
                }
            }
            want.push(GenFlag {
                key,
                kind,
                fail_safe: fail_safe.map_or_else(|| default.1.clone(), |f| f.1),
                default: default.1,
                enabled: enabled.unwrap_or(true),
                rule_values: rules.into_iter().map(|r| r.1).collect(),
            });
        }
        (text, want)
    })
}

/// A mitigations file of bundles over the shipped flag catalogue, each
/// value of its flag's type, and the bundles it must give.
/// A bundle's name and its flag values, sorted by key.
type Bundle = (String, Vec<(String, FlagValue)>);

fn mitigations_doc() -> impl Strategy<Value = (String, Vec<Bundle>)> {
    let flags: Vec<(String, u8)> = catalogue()
        .flags
        .iter()
        .map(|f| {
            let ty = match f.default {
                FlagValue::Bool(_) => 0,
                FlagValue::Integer(_) => 1,
                FlagValue::Float(_) => 2,
                FlagValue::String(_) => 3,
                FlagValue::Object(_) => 4,
            };
            (f.key.clone(), ty)
        })
        .collect();
    let bundle = (
        prop::sample::subsequence(flags.clone(), 1..=flags.len().min(4)),
        words(),
        prop_oneof![Just("/runbooks/x".to_owned()), url().prop_map(|u| u.0)],
        prop::option::of(duration()),
    )
        .prop_flat_map(|(keys, description, runbook, ttl)| {
            let values: Vec<_> = keys
                .into_iter()
                .map(|(k, ty)| (Just(k), flag_value(ty)))
                .collect();
            (Just((description, runbook, ttl)), values)
        });
    prop::collection::btree_map(name(), bundle, 1..4).prop_map(|bundles| {
        let mut text = String::new();
        let mut want = Vec::new();
        for (name, ((description, runbook, ttl), values)) in bundles {
            let items: Vec<String> = values.iter().map(|(k, (t, _))| format!("\"{k}\" = {t}")).collect();
            let _ = writeln!(
                text,
                "[mitigation.\"{name}\"]\ndescription = \"{description}\"\nrunbook = \"{runbook}\"\nflags = {{ {} }}",
                items.join(", ")
            );
            if let Some((t, _)) = ttl {
                let _ = writeln!(text, "default_ttl = \"{t}\"");
            }
            let mut flags: Vec<(String, FlagValue)> = values.into_iter().map(|(k, (_, v))| (k, v)).collect();
            flags.sort_by(|a, b| a.0.cmp(&b.0));
            want.push((name, flags));
        }
        (text, want)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_valid_flag_file_is_accepted_and_its_values_round_trip(doc in flag_doc()) {
        let (text, want) = doc;
        let set = crate::flags::parse("flags.toml", &text)
            .map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        prop_assert_eq!(set.flags.len(), want.len());
        for (got, want) in set.flags.iter().zip(&want) {
            prop_assert_eq!(&got.key, &want.key);
            prop_assert_eq!(got.kind, want.kind);
            prop_assert_eq!(&got.default, &want.default);
            prop_assert_eq!(&got.fail_safe, &want.fail_safe);
            prop_assert_eq!(got.enabled, want.enabled);
            let rules: Vec<&FlagValue> = got.rules.iter().map(|r| &r.value).collect();
            prop_assert_eq!(rules, want.rule_values.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_valid_mitigations_file_is_accepted_as_written(doc in mitigations_doc()) {
        let (text, want) = doc;
        let got = crate::parse_mitigations("mitigations.toml", &text, &catalogue())
            .map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        let got: Vec<Bundle> = got
            .bundles
            .into_iter()
            .map(|b| (b.name, b.flags.into_iter().collect()))
            .collect();
        prop_assert_eq!(got, want);
    }
}
