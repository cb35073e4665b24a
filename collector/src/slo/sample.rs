//! One report's contribution to one SLO: how many events were good, of how
//! many.
//!
//! Every SLO kind reduces to the same pair, so windows, burn rates, budgets
//! and fleet-wide sums are one piece of arithmetic whatever the SLO measures.
//! Reports come from the network: every figure read here is sanitised so a
//! malformed report can make an SLI wrong for one second, never `NaN` for a
//! month.

use std::iter::Sum;
use std::ops::AddAssign;

use liveops_config::{GoodEvents, Selector, Slo, SloKind};
use liveops_protocol::Report;
use liveops_protocol::report::tags_match;
use serde::{Deserialize, Serialize};

/// Good and total events (or seconds, for uptime). `good <= total` whenever
/// the pair came from [`sample`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub good: f64,
    pub total: f64,
}

impl Counts {
    /// A pair with `total` made finite and non-negative and `good` kept
    /// within `0..=total`.
    pub fn clamped(good: f64, total: f64) -> Counts {
        let total = events(total);
        Counts {
            good: events(good).min(total),
            total,
        }
    }

    pub fn bad(self) -> f64 {
        (self.total - self.good).max(0.0)
    }

    /// Both figures multiplied by `factor`: the share of a bucket that lies
    /// inside a window.
    pub fn scaled(self, factor: f64) -> Counts {
        Counts {
            good: self.good * factor,
            total: self.total * factor,
        }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.good += other.good;
        self.total += other.total;
    }
}

impl Sum for Counts {
    fn sum<I: Iterator<Item = Counts>>(iter: I) -> Counts {
        iter.fold(Counts::default(), |mut acc, c| {
            acc += c;
            acc
        })
    }
}

/// What `report` contributes to `slo`.
pub fn sample(slo: &Slo, report: &Report) -> Counts {
    match &slo.kind {
        // Seconds rather than milliseconds only to keep the `events` figure
        // of an uptime SLO readable; the ratio is the same.
        SloKind::Uptime => Counts::clamped(
            report.health.up_ms as f64 / 1000.0,
            report.health.observed_ms as f64 / 1000.0,
        ),
        SloKind::Ratio { total, good, .. } => {
            let total_events = counter_sum(report, total);
            let good_events = match good {
                GoodEvents::Good(sel) => counter_sum(report, sel),
                GoodEvents::Bad(sel) => total_events - counter_sum(report, sel),
            };
            Counts::clamped(good_events, total_events)
        }
        SloKind::Latency {
            metric,
            threshold_ms,
        } => {
            let mut acc = Counts::default();
            for series in report
                .histograms
                .iter()
                .filter(|s| selects(metric, &s.name, &s.tags))
            {
                let h = &series.histogram;
                // A histogram with another bucket layout cannot be read
                // against our bounds; counting it wrongly is worse than not.
                if h.is_well_formed() {
                    let total = events(h.count);
                    acc += Counts {
                        good: h.count_le(*threshold_ms).min(total),
                        total,
                    };
                }
            }
            acc
        }
    }
}

fn counter_sum(report: &Report, sel: &Selector) -> f64 {
    report
        .counters
        .iter()
        .filter(|s| selects(sel, &s.name, &s.tags))
        .map(|s| events(s.value))
        .sum()
}

fn selects(sel: &Selector, name: &str, tags: &liveops_protocol::Tags) -> bool {
    sel.metric == name && tags_match(tags, &sel.tags)
}

/// A count of events is finite and non-negative; anything else in a report is
/// a bug on the sending side and counts as nothing.
fn events(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::test_support::{
        latency_slo, ratio_bad_slo, ratio_good_slo, report, tags, uptime_slo,
    };
    use liveops_protocol::{CounterSeries, Histogram, HistogramSeries};

    fn counter(name: &str, t: &[(&str, &str)], value: f64) -> CounterSeries {
        CounterSeries {
            name: name.into(),
            tags: tags(t),
            value,
        }
    }

    fn requests() -> Vec<CounterSeries> {
        vec![
            counter("request", &[("op", "login"), ("status", "ok")], 90.0),
            counter("request", &[("op", "login"), ("status", "error")], 10.0),
            counter("request", &[("op", "trade"), ("status", "ok")], 50.0),
            counter("request", &[("op", "trade"), ("status", "error")], f64::NAN),
            counter("payment", &[("outcome", "failure")], 7.0),
        ]
    }

    #[test]
    fn uptime_is_up_seconds_over_observed_seconds() {
        let cases = [
            // (up_ms, observed_ms, good, total)
            (1000, 1000, 1.0, 1.0),
            (250, 1000, 0.25, 1.0),
            (0, 0, 0.0, 0.0),
            // A confused agent claiming more up than observed time.
            (5000, 1000, 1.0, 1.0),
        ];
        for (up_ms, observed_ms, good, total) in cases {
            let mut r = report("w1", 0, 1000);
            r.health.up_ms = up_ms;
            r.health.observed_ms = observed_ms;
            assert_eq!(
                sample(&uptime_slo(), &r),
                Counts { good, total },
                "{up_ms}/{observed_ms}"
            );
        }
    }

    #[test]
    fn ratio_sums_every_series_whose_tags_include_the_selector() {
        let mut r = report("w1", 0, 1000);
        r.counters = requests();
        let cases = [
            // (SLO, good, total); the NaN series counts as nothing.
            (ratio_good_slo(&[]), 140.0, 150.0),
            (ratio_good_slo(&[("op", "login")]), 90.0, 100.0),
            (ratio_bad_slo(&[]), 140.0, 150.0),
            (ratio_bad_slo(&[("op", "login")]), 90.0, 100.0),
            (ratio_good_slo(&[("op", "missing")]), 0.0, 0.0),
        ];
        for (slo, good, total) in cases {
            assert_eq!(sample(&slo, &r), Counts { good, total }, "{:?}", slo.kind);
        }
    }

    #[test]
    fn ratio_with_more_bad_than_total_clamps_at_zero_good() {
        let mut r = report("w1", 0, 1000);
        r.counters = vec![
            counter("request", &[("status", "ok")], 2.0),
            counter("request", &[("status", "error")], 1.0),
        ];
        // Bad selector matching more than the total selector: a config the
        // validator cannot catch because it depends on what games send.
        let mut slo = ratio_bad_slo(&[("status", "ok")]);
        if let SloKind::Ratio {
            good: GoodEvents::Bad(sel),
            ..
        } = &mut slo.kind
        {
            sel.tags = tags(&[]);
        }
        assert_eq!(
            sample(&slo, &r),
            Counts {
                good: 0.0,
                total: 2.0
            }
        );
    }

    #[test]
    fn latency_counts_events_at_or_under_the_threshold() {
        let mut fast = Histogram::default();
        for v in [10.0, 100.0, 250.0, 251.0] {
            fast.record(v, 1.0);
        }
        let mut slow = Histogram::default();
        slow.record(900.0, 2.0);
        let malformed = Histogram {
            counts: vec![5.0; 3],
            sum: 0.0,
            count: 15.0,
        };
        let series = |name: &str, t: &[(&str, &str)], h: &Histogram| HistogramSeries {
            name: name.into(),
            tags: tags(t),
            histogram: h.clone(),
        };
        let mut r = report("w1", 0, 1000);
        r.histograms = vec![
            series("auth.latency", &[("region", "eu")], &fast),
            series("auth.latency", &[("region", "us")], &slow),
            series("auth.latency", &[("region", "eu")], &malformed),
            series("tick.duration", &[], &slow),
        ];
        let cases = [
            (latency_slo(250.0, &[]), 3.0, 6.0),
            (latency_slo(1000.0, &[]), 6.0, 6.0),
            (latency_slo(250.0, &[("region", "eu")]), 3.0, 4.0),
            (latency_slo(1.0, &[("region", "us")]), 0.0, 2.0),
        ];
        for (slo, good, total) in cases {
            assert_eq!(sample(&slo, &r), Counts { good, total }, "{:?}", slo.kind);
        }
    }
}
