//! The flag catalogue as Markdown (`liveops flag docs`): what each flag
//! does, who owns it, what flipping it breaks and how to undo it. The
//! repository's `docs/flags.md` is this rendering of `config/flags.toml`,
//! checked by a test to be current.

use std::fmt::Write as _;

use super::model::{FlagKind, FlagSet, Rule};

pub fn markdown(set: &FlagSet, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Flags and kill switches\n");
    let _ = writeln!(
        out,
        "Generated from `{source}` by `liveops flag docs`; edit the file, not this page.\n"
    );
    let mut systems: Vec<&str> = set.flags.iter().map(|f| f.system.as_str()).collect();
    systems.sort_unstable();
    systems.dedup();
    let _ = writeln!(
        out,
        "| flag | system | kind | owner | default | fail-safe |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for system in &systems {
        for f in set.flags.iter().filter(|f| f.system == *system) {
            let _ = writeln!(
                out,
                "| [`{}`](#{}) | {} | {} | {} | `{}` | `{}` |",
                f.key,
                anchor(&f.key),
                dash(&f.system),
                f.kind.as_str(),
                f.owner,
                f.default,
                f.fail_safe
            );
        }
    }
    for system in systems {
        let _ = writeln!(
            out,
            "\n## {}\n",
            if system.is_empty() { "other" } else { system }
        );
        for f in set.flags.iter().filter(|f| f.system == system) {
            let _ = writeln!(out, "### `{}`\n", f.key);
            let _ = writeln!(out, "{}\n", f.description);
            let kind = match f.kind {
                FlagKind::KillSwitch => "kill switch",
                FlagKind::Release => "release",
                FlagKind::Ops => "ops",
            };
            let _ = writeln!(out, "- **Kind:** {kind}; **owner:** {}", f.owner);
            let _ = writeln!(
                out,
                "- **Default:** `{}`; **fail-safe** (before any valid file was loaded): `{}`",
                f.default, f.fail_safe
            );
            let _ = writeln!(out, "- **Blast radius:** {}", dash(&f.blast_radius));
            let _ = writeln!(out, "- **Takes effect:** {}", dash(&f.takes_effect));
            let _ = writeln!(out, "- **Rollback:** {}", dash(&f.rollback));
            if !f.rules.is_empty() {
                let _ = writeln!(out, "- **Rules in the file:**");
                for r in &f.rules {
                    let _ = writeln!(out, "  - {}", rule(r));
                }
            }
            out.push('\n');
        }
    }
    out.trim_end().to_owned() + "\n"
}

fn rule(r: &Rule) -> String {
    let mut scope = Vec::new();
    for (name, list) in [
        ("world", &r.world),
        ("village", &r.village),
        ("account", &r.account),
        ("player", &r.player),
    ] {
        if !list.is_empty() {
            scope.push(format!("{name} {}", list.join(", ")));
        }
    }
    if let Some(p) = r.percent {
        scope.push(format!("{p}% of targeting keys"));
    }
    let mut s = format!("{} → `{}`", scope.join(" and "), r.value);
    if let Some(t) = r.expires {
        let when = liveops_protocol::time::rfc3339_seconds(liveops_protocol::time::system_ms(t));
        let _ = write!(s, ", until {when}");
    }
    if !r.reason.is_empty() {
        let _ = write!(s, " ({})", r.reason);
    }
    s
}

fn anchor(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect::<String>()
        .to_lowercase()
}

fn dash(s: &str) -> &str {
    if s.is_empty() { "—" } else { s }
}
