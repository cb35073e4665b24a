//! The base of every link the collector sends (`generatorURL`, runbooks),
//! derived in one place.
//!
//! A configured `public_url` always wins: behind a proxy or a DNS name,
//! only the operator knows what people can open. Otherwise it is the
//! address actually bound (so port 0 gives the real port), and an
//! unspecified address (`0.0.0.0`, `::`), which nobody can open, becomes
//! the machine's host name.

use std::net::SocketAddr;

/// The public base URL for a collector bound to `bound`.
pub fn resolve(configured: Option<&str>, bound: SocketAddr) -> String {
    resolve_with(configured, bound, host_name)
}

fn resolve_with(
    configured: Option<&str>,
    bound: SocketAddr,
    host_name: impl FnOnce() -> Option<String>,
) -> String {
    if let Some(url) = configured {
        return url.trim_end_matches('/').to_owned();
    }
    if !bound.ip().is_unspecified() {
        return format!("http://{bound}");
    }
    let host = host_name().unwrap_or_else(|| "localhost".to_owned());
    let url = format!("http://{host}:{}", bound.port());
    tracing::warn!(
        %bound,
        public_url = %url,
        "listening on every address: links in notifications use the host name; set [collector] public_url to the address people open"
    );
    url
}

fn host_name() -> Option<String> {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_str().ok()?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn configured_wins_else_the_bound_address_else_the_host_name() {
        let host = || Some("game-ops-7".to_owned());
        let cases = [
            (
                Some("https://liveops.example/"),
                "0.0.0.0:9470",
                "https://liveops.example",
            ),
            (
                Some("https://liveops.example"),
                "127.0.0.1:41000",
                "https://liveops.example",
            ),
            (None, "127.0.0.1:41000", "http://127.0.0.1:41000"),
            (None, "[::1]:9470", "http://[::1]:9470"),
            (None, "0.0.0.0:9470", "http://game-ops-7:9470"),
            (None, "[::]:9471", "http://game-ops-7:9471"),
        ];
        for (configured, bound, want) in cases {
            assert_eq!(
                resolve_with(configured, addr(bound), host),
                want,
                "{configured:?} {bound}"
            );
        }
        assert_eq!(
            resolve_with(None, addr("0.0.0.0:1"), || None),
            "http://localhost:1"
        );
        let real = resolve(None, addr("0.0.0.0:9470"));
        assert!(
            real.starts_with("http://") && real.ends_with(":9470") && !real.contains("0.0.0.0"),
            "{real}"
        );
    }
}
