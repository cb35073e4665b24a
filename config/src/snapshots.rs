//! The agent's `[snapshots]` section: how often the world's state is
//! snapshotted and how long snapshots are kept (the backup ladder: every
//! snapshot for `keep_all`, then one an hour to `keep_hourly`, then one a
//! day to `keep_daily`).

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use crate::document::decode;
use crate::error::Sink;
use crate::model::SnapshotsConfig;
use crate::values;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSnapshots {
    every: Option<Spanned<String>>,
    keep_all: Option<Spanned<String>>,
    keep_hourly: Option<Spanned<String>>,
    keep_daily: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
}

pub(crate) fn defaults() -> SnapshotsConfig {
    SnapshotsConfig {
        every: Some(Duration::from_secs(15 * 60)),
        keep_all: Duration::from_secs(6 * 3600),
        keep_hourly: Duration::from_secs(2 * 86_400),
        keep_daily: Duration::from_secs(14 * 86_400),
        timeout: Duration::from_secs(300),
    }
}

/// Checks a `[snapshots]` table and applies what it sets.
pub(crate) fn apply(value: Spanned<DeValue<'_>>, cfg: &mut SnapshotsConfig, sink: &mut Sink<'_>) {
    let Some(raw) = decode::<RawSnapshots>(value, sink) else {
        return;
    };
    if let Some(e) = &raw.every {
        // "off": only on demand and before deploys.
        if e.get_ref() == "off" {
            cfg.every = None;
        } else if let Some(d) = values::duration(e, "every", sink) {
            if d < Duration::from_secs(60) {
                sink.at(e.span(), "every must be at least 1m (or \"off\")");
            }
            cfg.every = Some(d);
        }
    }
    for (raw, slot, what) in [
        (&raw.keep_all, &mut cfg.keep_all, "keep_all"),
        (&raw.keep_hourly, &mut cfg.keep_hourly, "keep_hourly"),
        (&raw.keep_daily, &mut cfg.keep_daily, "keep_daily"),
        (&raw.timeout, &mut cfg.timeout, "timeout"),
    ] {
        if let Some(d) = raw.as_ref().and_then(|d| values::duration(d, what, sink)) {
            *slot = d;
        }
    }
    let ladder = [cfg.keep_all, cfg.keep_hourly, cfg.keep_daily];
    if ladder.windows(2).any(|w| w[0] > w[1]) {
        let span = raw
            .keep_daily
            .or(raw.keep_hourly)
            .or(raw.keep_all)
            .map(|s| s.span());
        if let Some(span) = span {
            sink.at(
                span,
                "keep_all ≤ keep_hourly ≤ keep_daily, each a longer reach than the one before",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::overrides::Overrides;

    fn parse(text: &str) -> Result<crate::AgentConfig, String> {
        crate::agent::parse("agent.toml", text, &Overrides::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_a_ladder_and_off() {
        let d = parse("").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.snapshots.every, Some(Duration::from_secs(900)));
        let c = parse("[snapshots]\nevery = \"off\"\nkeep_all = \"1h\"\nkeep_hourly = \"1d\"\nkeep_daily = \"30d\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.snapshots.every, None);
        assert_eq!(c.snapshots.keep_daily, Duration::from_secs(30 * 86_400));
    }

    #[test]
    fn errors_name_the_place() {
        for (text, want) in [
            (
                "[snapshots]\nevery = \"10s\"\n",
                "agent.toml:2:9: every must be at least 1m",
            ),
            (
                "[snapshots]\nkeep_all = \"3d\"\n",
                "agent.toml:2:12: keep_all ≤ keep_hourly",
            ),
            ("[snapshots]\nkeep = \"3d\"\n", "agent.toml:2:1"),
            (
                "[snapshots]\ntimeout = \"0s\"\n",
                "timeout must be longer than zero",
            ),
        ] {
            let err = parse(text).err().unwrap_or_default();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
