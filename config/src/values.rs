//! Checks for the scalar kinds config files share: durations, addresses,
//! URLs, names. Each reports to the sink with the value's own position.

use std::net::SocketAddr;
use std::time::Duration;

use toml::Spanned;

use crate::error::Sink;

/// `"30d"`, `"5m"`, `"1h 30m"`, `"500ms"`; zero is refused.
pub(crate) fn duration(v: &Spanned<String>, what: &str, sink: &mut Sink<'_>) -> Option<Duration> {
    match humantime::parse_duration(v.get_ref()) {
        Ok(d) if d.is_zero() => {
            sink.at(v.span(), format!("{what} must be longer than zero"));
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            sink.at(
                v.span(),
                format!(
                    "{what}: `{}` is not a duration ({e}); write e.g. \"500ms\", \"5m\", \"30d\"",
                    v.get_ref()
                ),
            );
            None
        }
    }
}

pub(crate) fn socket_addr(
    v: &Spanned<String>,
    what: &str,
    sink: &mut Sink<'_>,
) -> Option<SocketAddr> {
    match v.get_ref().parse() {
        Ok(a) => Some(a),
        Err(_) => {
            sink.at(
                v.span(),
                format!(
                    "{what}: `{}` is not an address; write IP:PORT, e.g. \"127.0.0.1:8125\"",
                    v.get_ref()
                ),
            );
            None
        }
    }
}

/// An http(s) base URL, returned without a trailing slash.
pub(crate) fn http_url(v: &Spanned<String>, what: &str, sink: &mut Sink<'_>) -> Option<String> {
    let s = v.get_ref().trim();
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.starts_with('/') && !s.contains(char::is_whitespace) =>
        {
            Some(s.trim_end_matches('/').to_owned())
        }
        _ => {
            sink.at(
                v.span(),
                format!("{what}: `{s}` is not an http:// or https:// URL"),
            );
            None
        }
    }
}

/// A name used as a label value: letters, digits, `-`, `_`, `.`; bounded length.
pub(crate) fn name(v: &str, span: std::ops::Range<usize>, what: &str, sink: &mut Sink<'_>) -> bool {
    match liveops_protocol::name::check(v, what) {
        Ok(()) => true,
        Err(why) => {
            sink.at(span, why);
            false
        }
    }
}

/// A required, non-empty text field.
pub(crate) fn required(
    v: &Option<Spanned<String>>,
    what: &str,
    table_span: std::ops::Range<usize>,
    sink: &mut Sink<'_>,
) -> Option<String> {
    match v {
        Some(s) if !s.get_ref().trim().is_empty() => Some(s.get_ref().trim().to_owned()),
        Some(s) => {
            sink.at(s.span(), format!("{what} must not be empty"));
            None
        }
        None => {
            sink.at(table_span, format!("missing `{what}`"));
            None
        }
    }
}
