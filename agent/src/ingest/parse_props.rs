//! Property tests of the DogStatsD parser: any bytes a world (or anything
//! else on the port) sends are handled without a panic, and every line a
//! correct client can write parses to exactly what it says.

use proptest::prelude::*;

use super::*;

/// One valid line and what it must parse to.
#[derive(Clone, Debug)]
pub(crate) struct Valid {
    pub text: String,
    pub name: String,
    pub kind: Kind,
    pub values: Vec<f64>,
    pub rate: f64,
    pub tags: String,
}

/// A value as a client writes it, and the number it means. Display and
/// LowerExp both print the shortest text that reads back as the same f64.
fn value() -> impl Strategy<Value = (String, f64)> {
    prop_oneof![
        (-999_999_999_999_999i64..=999_999_999_999_999).prop_map(|n| (n.to_string(), n as f64)),
        (0u32..1000).prop_map(|n| (format!("{n:05}"), f64::from(n))),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| (x.to_string(), x)),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| (format!("{x:e}"), x)),
        (-1e6..1e6f64).prop_map(|x| (x.to_string(), x)),
    ]
}

fn kind() -> impl Strategy<Value = (&'static str, Kind)> {
    prop::sample::select(vec![
        ("c", Kind::Counter),
        ("g", Kind::Gauge),
        ("ms", Kind::Timing),
        ("h", Kind::Histogram),
        ("d", Kind::Distribution),
    ])
}

/// A sample rate in (0, 1], as text and number.
fn rate() -> impl Strategy<Value = (String, f64)> {
    prop_oneof![
        Just(("1".to_owned(), 1.0)),
        Just(("1.0".to_owned(), 1.0)),
        (1u32..=1_000_000).prop_map(|n| {
            let r = f64::from(n) / 1e6;
            (r.to_string(), r)
        }),
        (f64::MIN_POSITIVE..=1.0).prop_map(|r| (format!("{r:e}"), r)),
    ]
}

/// A tag list as sent after `#`: keys with and without values, values that
/// hold `:` (URLs) or are empty.
fn tags() -> impl Strategy<Value = String> {
    let tag = (
        "[a-z][a-z0-9_.]{0,8}",
        prop::option::of("[a-zA-Z0-9_./:-]{0,10}"),
    )
        .prop_map(|(k, v)| match v {
            Some(v) => format!("{k}:{v}"),
            None => k,
        });
    prop::collection::vec(tag, 1..5).prop_map(|t| t.join(","))
}

/// Fields the parser must skip: container ids, timestamps, external data,
/// fields of protocol versions yet to come, empty fields.
fn extra() -> impl Strategy<Value = String> {
    prop_oneof![
        "c:[0-9a-f]{1,16}",
        "T[0-9]{1,10}",
        "e:[a-z0-9,-]{0,12}",
        "[a-z]{1,3}:[a-z0-9]{0,6}",
        Just(String::new()),
    ]
}

#[derive(Clone, Debug)]
enum Field {
    Rate(String, f64),
    Tags(String),
    Extra(String),
}

pub(crate) fn valid_line() -> impl Strategy<Value = Valid> {
    let name = "[a-zA-Z][a-zA-Z0-9_.-]{0,24}";
    let fields = (
        prop::option::of(rate()),
        prop::collection::vec(tags(), 0..3),
        prop::collection::vec(extra(), 0..3),
    )
        .prop_flat_map(|(rate, tag_fields, extras)| {
            let mut fields: Vec<Field> = Vec::new();
            fields.extend(rate.map(|(t, r)| Field::Rate(t, r)));
            fields.extend(tag_fields.into_iter().map(Field::Tags));
            fields.extend(extras.into_iter().map(Field::Extra));
            Just(fields).prop_shuffle()
        });
    (name, prop::collection::vec(value(), 1..5), kind(), fields).prop_map(
        |(name, values, (ty, kind), fields)| {
            let texts: Vec<&str> = values.iter().map(|(t, _)| t.as_str()).collect();
            let mut text = format!("{name}:{}|{ty}", texts.join(":"));
            let (mut rate, mut tags) = (1.0, String::new());
            for f in fields {
                text.push('|');
                match f {
                    Field::Rate(t, r) => {
                        text.push('@');
                        text.push_str(&t);
                        rate = r;
                    }
                    // The last tag field wins, as in the Datadog agent.
                    Field::Tags(t) => {
                        text.push('#');
                        text.push_str(&t);
                        tags = t;
                    }
                    Field::Extra(e) => text.push_str(&e),
                }
            }
            Valid {
                text,
                name,
                kind,
                values: values.into_iter().map(|(_, v)| v).collect(),
                rate,
                tags,
            }
        },
    )
}

/// Bytes close to the grammar, so that arbitrary input reaches past the
/// first `:` and `|` rather than stopping at `NoValue`.
fn near_grammar() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..128),
        "[a-c0-9:|@#,.eE+_{}\n\r-]{0,80}".prop_map(String::into_bytes),
        "(([a-c]{1,3}|_e\\{|_sc)(:[-0-9.eE]{0,6}){1,3}(\\|(c|g|ms|h|d|s|x|@[0-9.e-]{0,8}|#[a-c:,]{0,8}|T[0-9]{0,4})){0,4}\n?){1,4}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(datagram in near_grammar()) {
        for line in lines(&datagram) {
            prop_assert!(!line.is_empty() && !line.contains(&b'\n'));
            if let Ok(Line::Metric(m)) = parse_line(line) {
                let values: Vec<f64> = m.values().collect();
                prop_assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
                prop_assert_eq!(values.len(), m.value_count() as usize);
                prop_assert!(m.rate > 0.0 && m.rate <= 1.0);
                prop_assert!(!m.name.is_empty() && !m.name.contains(&b':'));
                prop_assert!(!m.tags.contains(&b'|'));
            }
        }
    }

    #[test]
    fn every_valid_line_parses_to_what_was_written(v in valid_line()) {
        let m = match parse_line(v.text.as_bytes()) {
            Ok(Line::Metric(m)) => m,
            other => return Err(TestCaseError::fail(format!("{}: {other:?}", v.text))),
        };
        prop_assert_eq!(m.name, v.name.as_bytes());
        prop_assert_eq!(m.kind, v.kind);
        prop_assert_eq!(m.values().collect::<Vec<_>>(), v.values.clone());
        prop_assert_eq!(m.value_count() as usize, v.values.len());
        prop_assert_eq!(m.rate, v.rate);
        prop_assert_eq!(m.tags, v.tags.as_bytes());
    }

    #[test]
    fn a_datagram_splits_into_its_lines(
        ls in prop::collection::vec(valid_line(), 0..6),
        crlf in any::<bool>(),
        blank in any::<bool>(),
    ) {
        let sep = if crlf { "\r\n" } else { "\n" };
        let mut datagram = String::new();
        for l in &ls {
            datagram.push_str(&l.text);
            datagram.push_str(sep);
            if blank {
                datagram.push_str(sep);
            }
        }
        let got: Vec<&[u8]> = lines(datagram.as_bytes()).collect();
        let want: Vec<&[u8]> = ls.iter().map(|l| l.text.as_bytes()).collect();
        prop_assert_eq!(got, want);
    }
}
