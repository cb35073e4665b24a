//! The per-interval aggregator: parsed lines in, one [`Interval`] of series out.
//!
//! A series is (name, class, tags), tags compared as a sorted map. Sorting and
//! UTF-8 checks cost allocations, so they happen once per series: the hot path
//! copies the line's raw `class name|tags` bytes into a reused buffer and looks
//! them up in a byte-keyed map. A series first seen with its tags in another
//! order is found through its canonical key (tags sorted) and the raw spelling
//! is remembered as an alias, so the next line with that spelling is a single
//! lookup again.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem;

use liveops_protocol::{CounterSeries, GaugeSeries, Histogram, HistogramSeries, Losses, Tags};
use thiserror::Error;

use super::parse::{Class, Malformed, Metric};

/// Raw spellings kept per series at most, on average, so that a client
/// permuting its tags cannot grow the map without bound. Past it, lines still
/// aggregate correctly, through the slower canonical path.
const ALIASES_PER_SERIES: usize = 4;

/// What one interval aggregated to, in the report's types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interval {
    pub counters: Vec<CounterSeries>,
    pub gauges: Vec<GaugeSeries>,
    pub histograms: Vec<HistogramSeries>,
    /// Lines lost in this interval (malformed, over the series limit).
    pub losses: Losses,
}

/// Why the aggregator did not record a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum Rejected {
    #[error("the interval already holds the maximum number of series")]
    SeriesLimit,
    #[error("malformed line: {0}")]
    Malformed(Malformed),
}

#[derive(Debug)]
pub struct Aggregator {
    max_series: usize,
    index: HashMap<Box<[u8]>, usize, BuildHasherDefault<FoldHasher>>,
    series: Vec<Series>,
    /// Reused buffer for the lookup key, so hits do not allocate.
    key: Vec<u8>,
    losses: Losses,
}

#[derive(Debug)]
struct Series {
    name: String,
    tags: Tags,
    acc: Acc,
}

#[derive(Debug)]
enum Acc {
    Counter(f64),
    Gauge(f64),
    Histogram(Histogram),
}

impl Aggregator {
    pub fn new(max_series: usize) -> Self {
        Self {
            max_series,
            index: HashMap::default(),
            series: Vec::new(),
            key: Vec::with_capacity(256),
            losses: Losses::default(),
        }
    }

    /// Records every value of `m` and returns how many of its values were
    /// dropped as non-finite (see [`add_finite`]). Rejected lines and
    /// dropped values are counted in this interval's losses; the result lets
    /// the caller count them too.
    pub fn record(&mut self, m: &Metric<'_>) -> Result<u64, Rejected> {
        let class = m.kind.class();
        let mut key = mem::take(&mut self.key);
        write_raw_key(&mut key, class, m.name, m.tags);
        let found = self.index.get(key.as_slice()).copied();
        let idx = match found {
            Some(i) => Ok(i),
            None => self.insert(&key, class, m),
        };
        self.key = key;
        let idx = idx.inspect_err(|e| match e {
            Rejected::SeriesLimit => self.losses.series_overflow_lines += 1,
            Rejected::Malformed(_) => self.losses.malformed_lines += 1,
        })?;
        // A tiny rate (`@1e-320`) makes the weight infinite: every value of
        // the line is then dropped below, as non-finite.
        let weight = 1.0 / m.rate;
        let series = &mut self.series[idx];
        let mut nonfinite = 0u64;
        match &mut series.acc {
            Acc::Counter(sum) => {
                for v in m.values() {
                    if !add_finite(sum, v * weight) {
                        nonfinite += 1;
                    }
                }
            }
            // The parser refuses non-finite values, so a gauge is finite.
            Acc::Gauge(last) => *last = m.values().last().unwrap_or(*last),
            Acc::Histogram(h) => {
                for v in m.values() {
                    // Buckets never exceed `count`, so checking the sum and
                    // the count covers every number the histogram holds.
                    if (h.sum + v * weight).is_finite() && (h.count + weight).is_finite() {
                        h.record(v, weight);
                    } else {
                        nonfinite += 1;
                    }
                }
            }
        }
        self.losses.nonfinite_values += nonfinite;
        Ok(nonfinite)
    }

    /// Counts lines the parser already refused, so the interval's losses
    /// include them.
    pub fn count_malformed(&mut self, lines: u64) {
        self.losses.malformed_lines += lines;
    }

    /// Distinct series in the current interval.
    pub fn series(&self) -> usize {
        self.series.len()
    }

    /// Hands over the interval and starts the next one empty. The map keeps
    /// its capacity; the series' names and tags move into the result.
    pub fn take(&mut self) -> Interval {
        let mut out = Interval {
            losses: mem::take(&mut self.losses),
            ..Interval::default()
        };
        self.index.clear();
        for Series { name, tags, acc } in self.series.drain(..) {
            match acc {
                Acc::Counter(value) => out.counters.push(CounterSeries { name, tags, value }),
                Acc::Gauge(value) => out.gauges.push(GaugeSeries { name, tags, value }),
                Acc::Histogram(histogram) => out.histograms.push(HistogramSeries {
                    name,
                    tags,
                    histogram,
                }),
            }
        }
        out
    }

    /// The slow path: a raw spelling not seen this interval.
    fn insert(&mut self, raw: &[u8], class: Class, m: &Metric<'_>) -> Result<usize, Rejected> {
        let malformed = |_| Rejected::Malformed(Malformed::NotUtf8);
        let name = std::str::from_utf8(m.name).map_err(malformed)?;
        let tags = parse_tags(std::str::from_utf8(m.tags).map_err(malformed)?)?;
        let mut canonical = Vec::with_capacity(raw.len() + 1);
        write_key_prefix(&mut canonical, class, m.name);
        for (i, (k, v)) in tags.iter().enumerate() {
            if i > 0 {
                canonical.push(b',');
            }
            canonical.extend_from_slice(k.as_bytes());
            canonical.push(b':');
            canonical.extend_from_slice(v.as_bytes());
        }
        if let Some(&idx) = self.index.get(canonical.as_slice()) {
            if self.index.len() < self.max_series.saturating_mul(ALIASES_PER_SERIES) {
                self.index.insert(raw.into(), idx);
            }
            return Ok(idx);
        }
        if self.series.len() >= self.max_series {
            return Err(Rejected::SeriesLimit);
        }
        let idx = self.series.len();
        let acc = match class {
            Class::Counter => Acc::Counter(0.0),
            Class::Gauge => Acc::Gauge(0.0),
            Class::Histogram => Acc::Histogram(Histogram::default()),
        };
        self.series.push(Series {
            name: name.to_owned(),
            tags,
            acc,
        });
        if canonical != raw {
            self.index.insert(raw.into(), idx);
        }
        self.index.insert(canonical.into_boxed_slice(), idx);
        Ok(idx)
    }
}

/// Adds `delta` to `sum` unless the result would be NaN or infinite
/// (`request:1e308|c` twice): one absurd value must not turn a whole series,
/// and with it the report, unencodable. Returns whether it was added.
fn add_finite(sum: &mut f64, delta: f64) -> bool {
    let next = *sum + delta;
    let ok = next.is_finite();
    if ok {
        *sum = next;
    }
    ok
}

/// `#a:1,b,c:x:y` → {a: 1, b: "", c: "x:y"}; empty items are skipped and a
/// repeated key keeps its last value.
fn parse_tags(raw: &str) -> Result<Tags, Rejected> {
    let mut tags = Tags::new();
    for item in raw.split(',').filter(|t| !t.is_empty()) {
        let (k, v) = item.split_once(':').unwrap_or((item, ""));
        if k.is_empty() {
            return Err(Rejected::Malformed(Malformed::EmptyTagKey));
        }
        tags.insert(k.to_owned(), v.to_owned());
    }
    Ok(tags)
}

// Names cannot hold `|` (the parser splits on it) and tags cannot hold `|`
// either, so `class name|tags` is unambiguous.
fn write_key_prefix(key: &mut Vec<u8>, class: Class, name: &[u8]) {
    key.push(class as u8);
    key.extend_from_slice(name);
    key.push(b'|');
}

fn write_raw_key(key: &mut Vec<u8>, class: Class, name: &[u8], tags: &[u8]) {
    key.clear();
    write_key_prefix(key, class, name);
    key.extend_from_slice(tags);
}

/// A small multiply-fold hasher for short byte keys (the idea of FxHash and
/// foldhash). SipHash was the largest cost of the hot path. It is not
/// DoS-resistant; the keys come from the world beside the agent and the map
/// is bounded by the series limit.
#[derive(Default)]
struct FoldHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl FoldHasher {
    fn mix(&mut self, word: u64) {
        let p = u128::from(self.0 ^ word) * u128::from(K);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }
}

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut w = [0u8; 8];
            w[..tail.len()].copy_from_slice(tail);
            // The length keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(w) ^ ((tail.len() as u64) << 59));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse::{Line, parse_line};

    fn feed(agg: &mut Aggregator, lines: &[&str]) -> Vec<Result<u64, Rejected>> {
        lines
            .iter()
            .map(|l| match parse_line(l.as_bytes()) {
                Ok(Line::Metric(m)) => agg.record(&m),
                other => panic!("{l}: {other:?}"),
            })
            .collect()
    }

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn counters_sum_value_over_rate() {
        let cases: &[(&[&str], f64)] = &[
            (&["request:1|c|@0.1"], 10.0),
            (&["request:1|c", "request:2|c", "request:3|c"], 6.0),
            (&["request:1|c|@0.5", "request:1|c"], 3.0),
            (&["request:1:2|c|@0.5"], 6.0),
            (&["request:-1|c", "request:4|c"], 3.0),
        ];
        for (lines, want) in cases {
            let mut agg = Aggregator::new(10);
            feed(&mut agg, lines);
            let out = agg.take();
            assert_eq!(out.counters.len(), 1, "{lines:?}");
            assert!(
                (out.counters[0].value - want).abs() < 1e-9,
                "{lines:?}: {out:?}"
            );
        }
    }

    #[test]
    fn values_that_would_make_a_series_non_finite_are_dropped_and_counted() {
        // (lines, per-line dropped values, the series' values after, dropped)
        struct Case {
            lines: &'static [&'static str],
            dropped: &'static [u64],
            counter: Option<f64>,
            histogram: Option<(f64, f64)>,
        }
        let cases = [
            Case {
                lines: &["request:1e308|c", "request:1e308|c"],
                dropped: &[0, 1],
                counter: Some(1e308),
                histogram: None,
            },
            Case {
                lines: &["request:1e308:1e308:-1e308|c", "request:5|c"],
                dropped: &[1, 0],
                counter: Some(5.0),
                histogram: None,
            },
            Case {
                lines: &["request:-1e308|c", "request:-1e308|c", "request:1|c"],
                dropped: &[0, 1, 0],
                counter: Some(-1e308 + 1.0),
                histogram: None,
            },
            Case {
                // Weight 2 makes 1e308 infinite on its own.
                lines: &["request:1e308|c|@0.5", "request:2|c"],
                dropped: &[1, 0],
                counter: Some(2.0),
                histogram: None,
            },
            Case {
                // An infinite weight: 1/1e-320 overflows; 0 × inf is NaN.
                lines: &["request:0:1|c|@1e-320", "request:3|c"],
                dropped: &[2, 0],
                counter: Some(3.0),
                histogram: None,
            },
            Case {
                lines: &["lat:1e308|ms", "lat:1e308|ms", "lat:7|ms"],
                dropped: &[0, 1, 0],
                counter: None,
                histogram: Some((2.0, 1e308 + 7.0)),
            },
            Case {
                lines: &["lat:5|ms|@1e-320", "lat:5|ms|@0.5"],
                dropped: &[1, 0],
                counter: None,
                histogram: Some((2.0, 10.0)),
            },
            Case {
                lines: &["request:1|c", "request:2|c"],
                dropped: &[0, 0],
                counter: Some(3.0),
                histogram: None,
            },
        ];
        for c in cases {
            let mut agg = Aggregator::new(10);
            let got = feed(&mut agg, c.lines);
            let want: Vec<_> = c.dropped.iter().map(|d| Ok(*d)).collect();
            assert_eq!(got, want, "{:?}", c.lines);
            let out = agg.take();
            let total: u64 = c.dropped.iter().sum();
            assert_eq!(out.losses.nonfinite_values, total, "{:?}", c.lines);
            if let Some(want) = c.counter {
                assert_eq!(out.counters[0].value, want, "{:?}", c.lines);
            }
            if let Some((count, sum)) = c.histogram {
                let h = &out.histograms[0].histogram;
                assert_eq!((h.count, h.sum), (count, sum), "{:?}", c.lines);
                assert!(h.is_well_formed(), "{:?}", c.lines);
            }
            let report_part = serde_json::to_string(&out.counters).unwrap()
                + &serde_json::to_string(&out.histograms).unwrap();
            assert!(!report_part.contains("null"), "{report_part}");
        }
    }

    #[test]
    fn gauges_keep_the_last_value_and_only_when_set() {
        let mut agg = Aggregator::new(10);
        feed(
            &mut agg,
            &["players:5|g", "players:7|g|@0.5", "players:3:9|g"],
        );
        let out = agg.take();
        assert_eq!(
            out.gauges,
            [GaugeSeries {
                name: "players".into(),
                tags: Tags::new(),
                value: 9.0
            }]
        );
        assert!(
            agg.take().gauges.is_empty(),
            "a gauge not set in the interval is not reported"
        );
    }

    #[test]
    fn histograms_weight_samples_by_one_over_rate() {
        let mut agg = Aggregator::new(10);
        feed(
            &mut agg,
            &["lat:10|ms|@0.25", "lat:100|h", "lat:20:30|d|@0.5"],
        );
        let out = agg.take();
        assert_eq!(out.histograms.len(), 1, "ms, h and d are one series");
        let h = &out.histograms[0].histogram;
        assert_eq!(h.count, 4.0 + 1.0 + 2.0 + 2.0);
        assert_eq!(h.sum, 40.0 + 100.0 + 40.0 + 60.0);
        assert_eq!(h.count_le(10.0), 4.0);
        assert_eq!(h.count_le(30.0), 8.0);
    }

    #[test]
    fn tags_in_another_order_are_the_same_series() {
        let mut agg = Aggregator::new(10);
        feed(
            &mut agg,
            &[
                "request:1|c|#op:march,status:ok",
                "request:1|c|#status:ok,op:march",
                "request:1|c|#status:ok,,op:march",
                "request:1|c|#status:ok,op:march",
                "request:1|c|#op:march,status:error",
                "request:1|g|#op:march,status:ok",
                "request:1|c|#canary",
                "request:1|c|#canary:",
            ],
        );
        assert_eq!(agg.series(), 4);
        let out = agg.take();
        let ok = tags(&[("op", "march"), ("status", "ok")]);
        let c: Vec<_> = out
            .counters
            .iter()
            .map(|s| (s.tags.clone(), s.value))
            .collect();
        assert_eq!(
            c,
            [
                (ok, 4.0),
                (tags(&[("op", "march"), ("status", "error")]), 1.0),
                (tags(&[("canary", "")]), 2.0),
            ]
        );
        assert_eq!(out.gauges.len(), 1, "another type class is another series");
    }

    #[test]
    fn series_beyond_the_limit_are_dropped_and_counted() {
        let mut agg = Aggregator::new(2);
        let got = feed(
            &mut agg,
            &["a:1|c", "b:1|c", "c:1|c", "a:1|c|#x:1", "a:1|c", "c:1|c"],
        );
        let limit = Err(Rejected::SeriesLimit);
        assert_eq!(got, [Ok(0), Ok(0), limit, limit, Ok(0), limit]);
        let out = agg.take();
        assert_eq!(out.counters.len(), 2);
        assert_eq!(out.losses.series_overflow_lines, 3);
        // The limit is per interval.
        assert_eq!(feed(&mut agg, &["c:1|c"]), [Ok(0)]);
    }

    #[test]
    fn invalid_names_and_tags_are_malformed() {
        let mut agg = Aggregator::new(10);
        let cases: [(&[u8], Malformed); 3] = [
            (b"\xff:1|c", Malformed::NotUtf8),
            (b"x:1|c|#a:\xff", Malformed::NotUtf8),
            (b"x:1|c|#a:1,:2", Malformed::EmptyTagKey),
        ];
        for (line, want) in cases {
            let Ok(Line::Metric(m)) = parse_line(line) else {
                panic!("{line:?}")
            };
            assert_eq!(agg.record(&m), Err(Rejected::Malformed(want)), "{line:?}");
        }
        agg.count_malformed(3);
        assert_eq!(agg.series(), 0);
        assert_eq!(agg.take().losses.malformed_lines, 6);
    }

    #[test]
    fn take_resets_the_interval() {
        let mut agg = Aggregator::new(10);
        feed(&mut agg, &["a:1|c", "b:2|g", "c:3|ms"]);
        agg.count_malformed(1);
        let first = agg.take();
        assert_eq!(
            (
                first.counters.len(),
                first.gauges.len(),
                first.histograms.len()
            ),
            (1, 1, 1)
        );
        assert_eq!(agg.series(), 0);
        assert_eq!(agg.take(), Interval::default());
        feed(&mut agg, &["a:5|c"]);
        assert_eq!(
            agg.take().counters[0].value,
            5.0,
            "counters restart from zero"
        );
    }

    #[test]
    fn hasher_separates_keys_that_differ_only_in_padding() {
        let h = |b: &[u8]| {
            let mut s = FoldHasher::default();
            s.write(b);
            s.finish()
        };
        assert_ne!(h(b"a"), h(b"a\0"));
        assert_ne!(h(b"abcdefgh"), h(b"abcdefgh\0"));
        assert_ne!(h(b"request|op:a"), h(b"request|op:b"));
    }
}
