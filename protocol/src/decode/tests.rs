use super::*;
use crate::Histogram;
use crate::flags::FlagReload;
use crate::report::{HistogramSeries, Tags};
use serde_json::{Value, json};

const NOW: u64 = 1_764_000_000_000;

fn good() -> Report {
    Report {
        agent: "w1-00ff".into(),
        world: "w1".into(),
        seq: 7,
        start_ms: NOW - 1_000,
        end_ms: NOW,
        urgent: false,
        health: Health {
            up: true,
            probe_ok: true,
            up_ms: 1_000,
            observed_ms: 1_000,
            ..Health::default()
        },
        counters: vec![CounterSeries {
            name: "request".into(),
            tags: [("status".to_owned(), "ok".to_owned())].into(),
            value: 3.0,
        }],
        gauges: vec![GaugeSeries {
            name: "players.online".into(),
            tags: Tags::new(),
            value: 40.0,
        }],
        histograms: vec![HistogramSeries {
            name: "tick.duration".into(),
            tags: Tags::new(),
            histogram: Histogram::default(),
        }],
        losses: Losses::default(),
        flag_reloads: vec![FlagReload {
            at_ms: NOW - 10,
            file: "flags.toml".into(),
            sha256: "ab".into(),
            applied: true,
            error: None,
            changes: vec![],
        }],
    }
}

fn decode(v: &Value) -> Result<Decoded, Refusal> {
    decode_report(&serde_json::to_vec(v).unwrap(), NOW)
}

#[test]
fn a_valid_report_round_trips_whole() {
    let r = good();
    let d = decode_report(&serde_json::to_vec(&r).unwrap(), NOW).unwrap();
    assert_eq!(d.report, r);
    assert!(d.health_ok && d.refused.is_empty());
}

#[test]
fn a_bad_part_costs_only_itself() {
    let base = serde_json::to_value(good()).unwrap();
    let cases: &[(&str, Value, &str)] = &[
        ("/counters/0/value", Value::Null, "counters[0]"),
        ("/gauges/0/value", json!("many"), "gauges[0]"),
        (
            "/histograms/0/histogram/counts",
            json!([1.0]),
            "histograms[0]",
        ),
        ("/flag_reloads/0/at_ms", json!(u64::MAX), "flag_reloads[0]"),
        ("/health/observed_ms", json!(u64::MAX), "health"),
        ("/losses", json!("none"), "losses"),
        ("/counters", json!({"a": 1}), "counters"),
        ("/counters/0/name", json!("x".repeat(300)), "counters[0]"),
    ];
    for (path, value, part) in cases {
        let mut v = base.clone();
        *v.pointer_mut(path).unwrap() = value.clone();
        let d = decode(&v).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(d.refused.len(), 1, "{path}: {:?}", d.refused);
        assert_eq!(d.refused[0].part, *part, "{path}");
        let want = good();
        // Everything else was taken.
        if *part != "health" {
            assert!(d.health_ok);
            assert_eq!(d.report.health, want.health, "{path}");
        }
        if !part.starts_with("gauges") {
            assert_eq!(d.report.gauges, want.gauges, "{path}");
        }
        if !part.starts_with("flag_reloads") {
            assert_eq!(d.report.flag_reloads, want.flag_reloads, "{path}");
        }
    }
}

#[test]
fn a_broken_envelope_refuses_the_report_with_why() {
    let base = serde_json::to_value(good()).unwrap();
    let cases: &[(&str, Value, &str)] = &[
        ("/world", json!("eu 1"), "world `eu 1` must be"),
        ("/seq", json!(-1), "not a report"),
        ("/end_ms", json!(u64::MAX), "ahead of the collector's clock"),
        ("/start_ms", json!(NOW + 1), "end_ms is before start_ms"),
        ("/agent", json!(""), "agent id"),
    ];
    for (path, value, want) in cases {
        let mut v = base.clone();
        *v.pointer_mut(path).unwrap() = value.clone();
        let e = decode(&v).unwrap_err().to_string();
        assert!(e.contains(want), "{path}: {e}");
    }
    assert!(decode_report(b"[]", NOW).is_err());
    assert!(decode_report(b"", NOW).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.0), 0.0..1e12f64, -1e6..0.0f64]
    }

    fn report() -> impl Strategy<Value = Report> {
        (
            "[a-z0-9]{1,16}",
            0u64..NOW - 100_000,
            0u64..100_000,
            prop::collection::vec(("[a-z.]{1,20}", "[a-z]{0,8}", finite()), 0..8),
            prop::collection::vec(("[a-z.]{1,20}", finite()), 0..4),
            any::<bool>(),
        )
            .prop_map(|(world, start, len, counters, gauges, up)| Report {
                agent: format!("{world}-agent"),
                world,
                seq: start,
                start_ms: start,
                end_ms: start + len,
                urgent: up,
                health: Health {
                    up,
                    observed_ms: len,
                    up_ms: if up { len } else { 0 },
                    ..Health::default()
                },
                counters: counters
                    .into_iter()
                    .map(|(name, tag, value)| CounterSeries {
                        name,
                        tags: [("op".to_owned(), tag)].into(),
                        value,
                    })
                    .collect(),
                gauges: gauges
                    .into_iter()
                    .map(|(name, value)| GaugeSeries {
                        name,
                        tags: Tags::new(),
                        value,
                    })
                    .collect(),
                histograms: vec![],
                losses: Losses::default(),
                flag_reloads: vec![],
            })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_report(&body, NOW);
        }

        #[test]
        fn every_valid_report_round_trips_and_is_accepted(r in report()) {
            let d = decode_report(&serde_json::to_vec(&r).unwrap(), NOW).unwrap();
            prop_assert!(d.refused.is_empty(), "{:?}", d.refused);
            prop_assert_eq!(d.report, r);
        }

        #[test]
        fn any_json_value_in_any_part_never_panics(
            path in prop::sample::select(vec![
                "/health", "/counters/0", "/counters/0/tags", "/gauges", "/histograms/0/histogram",
                "/losses", "/flag_reloads/0", "/seq", "/urgent",
            ]),
            v in any_json(),
        ) {
            let mut doc = serde_json::to_value(good()).unwrap();
            if let Some(slot) = doc.pointer_mut(path) {
                *slot = v;
            }
            let _ = decode(&doc);
        }
    }

    proptest! {
        // The fast path must take and refuse exactly what reading part by
        // part does, with the same reasons, for any mix of good and bad.
        #[test]
        fn the_fast_path_takes_and_refuses_what_the_slow_one_does(
            edits in prop::collection::vec((
                prop::sample::select(vec![
                    "/health", "/health/observed_ms", "/health/up_ms", "/health/detail",
                    "/counters/0", "/counters/0/name", "/counters/0/tags", "/gauges/0/value",
                    "/histograms/0/histogram", "/histograms/0/name", "/losses",
                    "/flag_reloads/0/at_ms", "/flag_reloads/0/file", "/start_ms", "/end_ms",
                    "/world", "/agent",
                ]),
                prop_oneof![
                    any_json(),
                    any::<u64>().prop_map(Value::from),
                    (0..NOW + 1_000_000_000).prop_map(Value::from),
                    (0usize..300).prop_map(|n| Value::from("x".repeat(n))),
                ],
            ), 0..4),
        ) {
            let mut doc = serde_json::to_value(good()).unwrap();
            for (path, v) in edits {
                if let Some(slot) = doc.pointer_mut(path) {
                    *slot = v;
                }
            }
            let body = serde_json::to_vec(&doc).unwrap();
            prop_assert_eq!(decode_report(&body, NOW), by_parts(&body, NOW));
        }
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e300..1e300f64).prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
