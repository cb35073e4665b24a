//! What a reload changed, flag by flag, in one line each: the record the
//! collector's audit log keeps and the agent logs.

use std::fmt::Write;

use liveops_flags::{Flag, FlagSet, Rule};
use liveops_protocol::FlagChange;

/// Rules listed in a summary before the rest is elided.
const MAX_RULES_SHOWN: usize = 3;

/// Flags added, removed or redefined between `before` and `after`, in the
/// order of `after` then the removed ones.
pub fn diff(before: &FlagSet, after: &FlagSet) -> Vec<FlagChange> {
    let mut out = Vec::new();
    for new in &after.flags {
        match before.get(&new.key) {
            Some(old) if old == new => {}
            old => {
                let before = old.map(summary);
                let mut after = summary(new);
                if before.as_ref() == Some(&after) {
                    // Only the documentation (owner, blast radius, …) moved.
                    after.push_str("; description edited");
                }
                out.push(FlagChange {
                    flag: new.key.clone(),
                    before,
                    after: Some(after),
                });
            }
        }
    }
    for old in &before.flags {
        if after.get(&old.key).is_none() {
            out.push(FlagChange {
                flag: old.key.clone(),
                before: Some(summary(old)),
                after: None,
            });
        }
    }
    out
}

/// `default=true, fail_safe=true, enabled, 2 rules: world w1 → false; player 7 → false`
pub fn summary(f: &Flag) -> String {
    let mut s = format!("default={}", f.default);
    if f.fail_safe != f.default {
        let _ = write!(s, ", fail_safe={}", f.fail_safe);
    }
    s.push_str(if f.enabled { ", enabled" } else { ", disabled" });
    match f.rules.len() {
        0 => s.push_str(", no rules"),
        1 => s.push_str(", 1 rule: "),
        n => {
            let _ = write!(s, ", {n} rules: ");
        }
    }
    for (i, r) in f.rules.iter().take(MAX_RULES_SHOWN).enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        rule(&mut s, r);
    }
    if f.rules.len() > MAX_RULES_SHOWN {
        s.push_str("; …");
    }
    s
}

fn rule(s: &mut String, r: &Rule) {
    let dims = [
        ("world", &r.world),
        ("village", &r.village),
        ("account", &r.account),
        ("player", &r.player),
    ];
    let mut first = true;
    for (name, ids) in dims.iter().filter(|(_, ids)| !ids.is_empty()) {
        if !first {
            s.push(' ');
        }
        first = false;
        let _ = write!(s, "{name} {}", ids.join(","));
    }
    if let Some(p) = r.percent {
        if !first {
            s.push(' ');
        }
        let _ = write!(s, "{p}%");
    }
    let _ = write!(s, " → {}", r.value);
    if r.expires.is_some() {
        s.push_str(" (expiring)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveops_flags::{FlagKind, FlagValue};

    fn flag(key: &str, default: bool) -> Flag {
        Flag {
            key: key.into(),
            description: "d".into(),
            system: "combat".into(),
            kind: FlagKind::KillSwitch,
            owner: "o".into(),
            default: FlagValue::Bool(default),
            fail_safe: FlagValue::Bool(default),
            blast_radius: "b".into(),
            takes_effect: "t".into(),
            rollback: "r".into(),
            enabled: true,
            rules: Vec::new(),
        }
    }

    fn rule(world: &str, player: &str, value: bool) -> Rule {
        Rule {
            world: vec![world.into()],
            village: vec![],
            account: vec![],
            player: vec![player.into()],
            percent: None,
            value: FlagValue::Bool(value),
            expires: None,
            reason: String::new(),
        }
    }

    #[test]
    fn summaries_are_one_line_and_name_rules() {
        let mut f = flag("a", true);
        assert_eq!(summary(&f), "default=true, enabled, no rules");
        f.rules = vec![rule("w1", "7", false)];
        f.enabled = false;
        f.fail_safe = FlagValue::Bool(false);
        assert_eq!(
            summary(&f),
            "default=true, fail_safe=false, disabled, 1 rule: world w1 player 7 → false"
        );
        f.rules = vec![rule("w1", "1", false); 5];
        assert!(summary(&f).ends_with("5 rules: world w1 player 1 → false; world w1 player 1 → false; world w1 player 1 → false; …"));
    }

    #[test]
    fn diff_lists_added_changed_removed_and_documentation_edits() {
        let before = FlagSet {
            flags: vec![
                flag("kept", true),
                flag("changed", true),
                flag("gone", true),
            ],
        };
        let mut doc_edit = flag("kept", true);
        doc_edit.owner = "someone else".into();
        let after = FlagSet {
            flags: vec![doc_edit, flag("changed", false), flag("new", true)],
        };
        let got: Vec<_> = diff(&before, &after)
            .into_iter()
            .map(|c| (c.flag, c.before, c.after))
            .collect();
        let on = "default=true, enabled, no rules".to_owned();
        let off = "default=false, enabled, no rules".to_owned();
        assert_eq!(
            got,
            [
                (
                    "kept".into(),
                    Some(on.clone()),
                    Some(format!("{on}; description edited"))
                ),
                ("changed".into(), Some(on.clone()), Some(off)),
                ("new".into(), None, Some(on.clone())),
                ("gone".into(), Some(on), None),
            ]
        );
        assert!(diff(&after, &after).is_empty());
    }
}
