//! A zero-allocation DogStatsD line parser.
//!
//! ```text
//! name:value[:value…]|type[|@rate][|#tag:v,tag2,…][|c:container][|T<timestamp>]…
//! ```
//!
//! Everything returned borrows from the datagram: the hot path must not
//! allocate, and names and tags are only validated as UTF-8 when the
//! aggregator creates a new series (see `aggregate.rs`), not per line.
//!
//! Sets, events and service checks are recognised and reported as
//! [`Unsupported`] rather than malformed: a client sending them is correct,
//! liveops just has no use for them, and lumping them with garbage would make
//! the malformed-line count useless for spotting a broken client.

use thiserror::Error;

/// The metric types liveops aggregates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `c`
    Counter,
    /// `g`
    Gauge,
    /// `ms`
    Timing,
    /// `h`
    Histogram,
    /// `d`
    Distribution,
}

/// How a [`Kind`] aggregates. `ms`, `h` and `d` all become the same
/// fixed-bucket histogram, so they are one series class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub fn class(self) -> Class {
        match self {
            Kind::Counter => Class::Counter,
            Kind::Gauge => Class::Gauge,
            Kind::Timing | Kind::Histogram | Kind::Distribution => Class::Histogram,
        }
    }
}

/// One parsed metric line, borrowing from the datagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metric<'a> {
    pub name: &'a [u8],
    pub kind: Kind,
    /// Sample rate in `(0, 1]`; 1 when absent.
    pub rate: f64,
    /// The raw tag list after `#` (`op:march,status:ok`), empty when absent.
    pub tags: &'a [u8],
    first: f64,
    /// Further `:`-separated values, already validated.
    rest: &'a [u8],
}

impl<'a> Metric<'a> {
    /// The line's values; `name:1:2:3|ms` is three samples.
    pub fn values(&self) -> impl Iterator<Item = f64> + 'a {
        let rest = self.rest;
        // `rest` was validated by `parse_line`, so the fallback never applies;
        // it only spares a panic path.
        std::iter::once(self.first).chain(
            rest.split(|b| *b == b':')
                .skip(1)
                .map(|v| parse_f64(v).unwrap_or(0.0)),
        )
    }

    /// Number of values on the line, without parsing them again.
    pub fn value_count(&self) -> u32 {
        1 + self.rest.iter().filter(|b| **b == b':').count() as u32
    }
}

/// A line that is well-formed DogStatsD but not something liveops aggregates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    Set,
    Event,
    ServiceCheck,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Line<'a> {
    Metric(Metric<'a>),
    Unsupported(Unsupported),
}

/// Why a line was skipped as malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum Malformed {
    #[error("no `:` between name and value")]
    NoValue,
    #[error("empty metric name")]
    EmptyName,
    #[error("no `|type` after the value")]
    NoType,
    #[error("unknown metric type")]
    UnknownType,
    #[error("value is not a number")]
    BadValue,
    #[error("value is NaN or infinite")]
    NotFinite,
    #[error("sample rate is not a number in (0, 1]")]
    BadRate,
    #[error("name or tags are not UTF-8")]
    NotUtf8,
    #[error("tag with an empty key")]
    EmptyTagKey,
    #[error("line cut off by a truncated datagram")]
    Truncated,
}

/// The non-empty lines of a datagram: `\n`-separated, `\r\n` tolerated.
pub fn lines(datagram: &[u8]) -> impl Iterator<Item = &[u8]> {
    datagram
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

/// Parses one line (without its newline).
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, Malformed> {
    if line.starts_with(b"_e{") {
        return Ok(Line::Unsupported(Unsupported::Event));
    }
    if line.starts_with(b"_sc|") {
        return Ok(Line::Unsupported(Unsupported::ServiceCheck));
    }
    let mut fields = line.split(|b| *b == b'|');
    // `split` always yields at least one item.
    let head = fields.next().unwrap_or_default();
    let colon = head
        .iter()
        .position(|b| *b == b':')
        .ok_or(Malformed::NoValue)?;
    let (name, values) = (&head[..colon], &head[colon + 1..]);
    if name.is_empty() {
        return Err(Malformed::EmptyName);
    }
    let kind = match fields.next().ok_or(Malformed::NoType)? {
        b"c" => Kind::Counter,
        b"g" => Kind::Gauge,
        b"ms" => Kind::Timing,
        b"h" => Kind::Histogram,
        b"d" => Kind::Distribution,
        // Set members are strings, so the type is checked before the values.
        b"s" => return Ok(Line::Unsupported(Unsupported::Set)),
        b"" => return Err(Malformed::NoType),
        _ => return Err(Malformed::UnknownType),
    };

    let mut rest = values.split(|b| *b == b':');
    let first = parse_value(rest.next().unwrap_or_default())?;
    let mut others = &values[values.len()..];
    if let Some(sep) = values.iter().position(|b| *b == b':') {
        for v in rest {
            parse_value(v)?;
        }
        others = &values[sep..];
    }

    let mut rate = 1.0;
    let mut tags: &[u8] = &[];
    for field in fields {
        match field.split_first() {
            Some((b'@', r)) => {
                rate = parse_f64(r).ok_or(Malformed::BadRate)?;
                if !(rate > 0.0 && rate <= 1.0) {
                    return Err(Malformed::BadRate);
                }
            }
            // A repeated tag field replaces the earlier one, as in the
            // Datadog agent's parser.
            Some((b'#', t)) => tags = t,
            // `c:` container ids, `T` timestamps, `e:` external data and any
            // later extension: liveops aggregates on arrival per world, so
            // none of them changes what is recorded.
            _ => {}
        }
    }
    Ok(Line::Metric(Metric {
        name,
        kind,
        rate,
        tags,
        first,
        rest: others,
    }))
}

fn parse_value(v: &[u8]) -> Result<f64, Malformed> {
    let x = parse_f64(v).ok_or(Malformed::BadValue)?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Malformed::NotFinite)
    }
}

/// Parses a decimal number. Most DogStatsD values are short integers, which
/// are converted exactly without going through `str::parse`.
pub(crate) fn parse_f64(v: &[u8]) -> Option<f64> {
    let (neg, digits) = match v.split_first() {
        Some((b'-', d)) => (true, d),
        _ => (false, v),
    };
    // Up to 15 digits fit in an f64 mantissa exactly.
    if !digits.is_empty() && digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) {
        let n = digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) as f64;
        return Some(if neg { -n } else { n });
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

#[cfg(test)]
#[path = "parse_props.rs"]
pub(crate) mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(line: &str) -> Metric<'_> {
        match parse_line(line.as_bytes()) {
            Ok(Line::Metric(m)) => m,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    /// line, name, kind, values, rate, raw tags
    type Case = (
        &'static str,
        &'static str,
        Kind,
        &'static [f64],
        f64,
        &'static str,
    );

    #[test]
    fn valid_lines() {
        let cases: &[Case] = &[
            ("request:1|c", "request", Kind::Counter, &[1.0], 1.0, ""),
            (
                "request:-2.5|c|@0.1",
                "request",
                Kind::Counter,
                &[-2.5],
                0.1,
                "",
            ),
            (
                "players.online:1200|g",
                "players.online",
                Kind::Gauge,
                &[1200.0],
                1.0,
                "",
            ),
            (
                "tick.duration:48|ms|#shard:3",
                "tick.duration",
                Kind::Timing,
                &[48.0],
                1.0,
                "shard:3",
            ),
            (
                "auth.latency:120|h",
                "auth.latency",
                Kind::Histogram,
                &[120.0],
                1.0,
                "",
            ),
            (
                "auth.latency:1.5e2|d|@1",
                "auth.latency",
                Kind::Distribution,
                &[150.0],
                1.0,
                "",
            ),
            ("x:1:2:3|ms", "x", Kind::Timing, &[1.0, 2.0, 3.0], 1.0, ""),
            ("x:.5|g", "x", Kind::Gauge, &[0.5], 1.0, ""),
            ("x:007|g", "x", Kind::Gauge, &[7.0], 1.0, ""),
            (
                "x:12345678901234567|c",
                "x",
                Kind::Counter,
                &[12345678901234567.0],
                1.0,
                "",
            ),
            (
                "request:1|c|@0.5|#op:march,status:ok",
                "request",
                Kind::Counter,
                &[1.0],
                0.5,
                "op:march,status:ok",
            ),
            (
                "x:1|c|#op:march|@0.25",
                "x",
                Kind::Counter,
                &[1.0],
                0.25,
                "op:march",
            ),
            ("x:1|c|#canary", "x", Kind::Counter, &[1.0], 1.0, "canary"),
            (
                "x:1|c|#url:http://a:80",
                "x",
                Kind::Counter,
                &[1.0],
                1.0,
                "url:http://a:80",
            ),
            ("x:1|c|#a:1|#b:2", "x", Kind::Counter, &[1.0], 1.0, "b:2"),
            // Protocol v1.1–v1.3 extension fields and unknown ones are ignored.
            (
                "x:1|c|#a:b|c:83c0a99c0a54",
                "x",
                Kind::Counter,
                &[1.0],
                1.0,
                "a:b",
            ),
            (
                "x:1|g|T1656581400|#a:b",
                "x",
                Kind::Gauge,
                &[1.0],
                1.0,
                "a:b",
            ),
            (
                "x:1|c|e:it-false,cn-x|zz:future||",
                "x",
                Kind::Counter,
                &[1.0],
                1.0,
                "",
            ),
        ];
        for (line, name, kind, values, rate, tags) in cases {
            let m = metric(line);
            assert_eq!(m.name, name.as_bytes(), "{line}");
            assert_eq!(m.kind, *kind, "{line}");
            assert_eq!(m.values().collect::<Vec<_>>(), *values, "{line}");
            assert_eq!(m.value_count() as usize, values.len(), "{line}");
            assert_eq!(m.rate, *rate, "{line}");
            assert_eq!(m.tags, tags.as_bytes(), "{line}");
        }
    }

    #[test]
    fn sets_events_and_service_checks_are_unsupported() {
        let cases = [
            ("users.unique:alice|s", Unsupported::Set),
            ("users.unique:alice|s|#a:b", Unsupported::Set),
            ("_e{5,4}:title|text|#a:b", Unsupported::Event),
            ("_sc|db.ok|0|#a:b", Unsupported::ServiceCheck),
        ];
        for (line, want) in cases {
            assert_eq!(
                parse_line(line.as_bytes()),
                Ok(Line::Unsupported(want)),
                "{line}"
            );
        }
    }

    #[test]
    fn malformed_lines() {
        let cases = [
            ("request", Malformed::NoValue),
            ("request|c", Malformed::NoValue),
            (":1|c", Malformed::EmptyName),
            ("request:1", Malformed::NoType),
            ("request:1|", Malformed::NoType),
            ("request:1|x", Malformed::UnknownType),
            ("request:1|C", Malformed::UnknownType),
            ("request:|c", Malformed::BadValue),
            ("request:one|c", Malformed::BadValue),
            ("request:1:|ms", Malformed::BadValue),
            ("request:1:x|ms", Malformed::BadValue),
            ("request:1 |c", Malformed::BadValue),
            ("request:-|c", Malformed::BadValue),
            ("request:NaN|g", Malformed::NotFinite),
            ("request:inf|g", Malformed::NotFinite),
            ("request:-infinity|g", Malformed::NotFinite),
            ("request:1e400|g", Malformed::NotFinite),
            ("request:1|c|@0", Malformed::BadRate),
            ("request:1|c|@1.5", Malformed::BadRate),
            ("request:1|c|@-0.5", Malformed::BadRate),
            ("request:1|c|@", Malformed::BadRate),
            ("request:1|c|@NaN", Malformed::BadRate),
            ("request:1|c|@half", Malformed::BadRate),
        ];
        for (line, want) in cases {
            assert_eq!(parse_line(line.as_bytes()), Err(want), "{line}");
        }
    }

    #[test]
    fn datagram_lines_tolerate_crlf_and_blank_lines() {
        let got: Vec<&[u8]> = lines(b"a:1|c\r\n\nb:2|g\n\r\nc:3|ms\n").collect();
        assert_eq!(got, [&b"a:1|c"[..], b"b:2|g", b"c:3|ms"]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"\n\n").count(), 0);
    }
}
