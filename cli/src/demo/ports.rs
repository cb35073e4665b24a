//! Where the demo listens, so the shipped `dashboards/prometheus.yml`
//! scrapes it as is, and how its printed commands name the binary.
//!
//! Fixed ports by default: the collector on 9470 (`--listen`), the agents of
//! w1–w3 on HTTP 9471–9473 (`--agent-http-base`) and DogStatsD UDP 8125–8127
//! (`--statsd-base`). A base of 0 gives every agent a free port instead; the
//! Prometheus file-SD file the demo writes lists whatever was bound.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::WORLDS;

/// The address of world `i`'s agent for `base` on `host`: `base + i`, or a
/// free port when `base` is 0.
pub fn nth(host: IpAddr, base: u16, i: usize, flag: &str) -> anyhow::Result<SocketAddr> {
    if base == 0 {
        return Ok(SocketAddr::new(host, 0));
    }
    let port = u16::try_from(i)
        .ok()
        .and_then(|i| base.checked_add(i))
        .with_context(|| {
            format!(
                "{flag} {base}: {} worlds need ports {base}..{}, past 65535",
                WORLDS.len(),
                usize::from(base) + WORLDS.len() - 1
            )
        })?;
    Ok(SocketAddr::new(host, port))
}

/// Writes a Prometheus file-based service discovery file (`file_sd_configs`)
/// listing the collector and every agent as bound, for a Prometheus that
/// scrapes a demo started on other ports.
pub fn write_file_sd(
    dir: &Path,
    collector: SocketAddr,
    agents: &[SocketAddr],
) -> anyhow::Result<PathBuf> {
    let mut groups = vec![serde_json::json!({
        "targets": [collector.to_string()],
        "labels": { "job": "liveops-collector" },
    })];
    // No `world` label per target: agent series carry it themselves.
    groups.push(serde_json::json!({
        "targets": agents.iter().map(SocketAddr::to_string).collect::<Vec<_>>(),
        "labels": { "job": "liveops-agent" },
    }));
    let path = dir.join("prometheus-targets.json");
    let text = serde_json::to_string_pretty(&groups)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The running binary as the user can type it: relative to the current
/// directory when inside it (`target/debug/liveops`), absolute otherwise,
/// quoted for a POSIX shell when it needs to be. `liveops` (from the PATH)
/// only if the OS cannot tell.
pub fn this_binary() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "liveops".to_owned();
    };
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| exe.strip_prefix(cwd).ok().map(Path::to_owned))
        .filter(|rel| rel.components().count() > 1)
        .unwrap_or(exe);
    shell_quote(&shown.to_string_lossy())
}

/// `s` as one POSIX shell word.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%=,".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_the_base_and_zero_means_any() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(nth(lo, 9471, 2, "--agent-http-base").unwrap().port(), 9473);
        assert_eq!(nth(lo, 0, 2, "--agent-http-base").unwrap().port(), 0);
        let e = nth(lo, 65535, 1, "--statsd-base").unwrap_err().to_string();
        assert_eq!(
            e,
            "--statsd-base 65535: 3 worlds need ports 65535..65537, past 65535"
        );
    }

    #[test]
    fn paths_are_quoted_only_when_a_shell_needs_it() {
        assert_eq!(shell_quote("target/debug/liveops"), "target/debug/liveops");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
