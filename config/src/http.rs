//! The `[http]` section both the agent's and the collector's files share:
//! how their HTTP servers treat connections (see the `liveops-http` crate).

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use crate::document::decode;
use crate::error::Sink;
use crate::model::HttpConfig;
use crate::values;

/// The section name; in both files, so it tells neither kind apart.
pub(crate) const SECTION: &str = "http";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    header_read_timeout: Option<Spanned<String>>,
    idle_timeout: Option<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
}

/// The defaults; only the connection limit differs between the servers.
pub(crate) fn defaults(max_connections: usize) -> HttpConfig {
    HttpConfig {
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_connections,
    }
}

/// Checks an `[http]` table and applies what it sets.
pub(crate) fn apply(value: Spanned<DeValue<'_>>, cfg: &mut HttpConfig, sink: &mut Sink<'_>) {
    let Some(raw) = decode::<RawHttp>(value, sink) else {
        return;
    };
    if let Some(d) = raw
        .header_read_timeout
        .as_ref()
        .and_then(|d| values::duration(d, "header_read_timeout", sink))
    {
        cfg.header_read_timeout = d;
    }
    if let Some(d) = raw
        .idle_timeout
        .as_ref()
        .and_then(|d| values::duration(d, "idle_timeout", sink))
    {
        cfg.idle_timeout = d;
    }
    if let Some(n) = raw.max_connections {
        match usize::try_from(*n.get_ref()) {
            Ok(n) if n >= 1 => cfg.max_connections = n,
            _ => sink.at(
                n.span(),
                format!("max_connections must be at least 1, not {}", n.get_ref()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn both_files_take_an_http_section_and_report_its_errors_with_positions() {
        let cfg = crate::parse_agent(
            "a.toml",
            "[http]\nheader_read_timeout = \"2s\"\nidle_timeout = \"5m\"\nmax_connections = 50\n",
        )
        .unwrap();
        assert_eq!(cfg.http_server.header_read_timeout, Duration::from_secs(2));
        assert_eq!(cfg.http_server.idle_timeout, Duration::from_secs(300));
        assert_eq!(cfg.http_server.max_connections, 50);
        assert_eq!(crate::default_agent().http_server.max_connections, 1024);
        assert_eq!(
            crate::default_collector().http_server.max_connections,
            50_000
        );

        let err = crate::parse_agent(
            "a.toml",
            "[http]\nheader_read_timeout = \"0s\"\nidle_timeout = \"later\"\nmax_connections = 0\nkeepalive = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("a.toml:5:1: unknown field `keepalive`"),
            "{err}"
        );

        let err = crate::parse_agent(
            "a.toml",
            "[http]\nheader_read_timeout = \"0s\"\nmax_connections = -3\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "a.toml:2:23: header_read_timeout must be longer than zero\n\
             a.toml:3:19: max_connections must be at least 1, not -3"
        );
    }

    #[test]
    fn an_http_section_tells_neither_file_kind_apart() {
        // Both shipped files have one.
        let collector = crate::detect(crate::DEFAULT_COLLECTOR_TOML);
        assert_eq!(collector, Some(crate::Kind::Collector));
        assert_eq!(
            crate::detect(crate::DEFAULT_AGENT_TOML),
            Some(crate::Kind::Agent)
        );
    }
}
