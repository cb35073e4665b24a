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
#[path = "aggregate_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "aggregate_props.rs"]
mod props;
