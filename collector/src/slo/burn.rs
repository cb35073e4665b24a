//! SLI, error ratio, burn rate and remaining error budget of a window.
//!
//! Every function answers `None` when the window holds no events: "no data"
//! is not "100 % good", and an alert or a dashboard must be able to tell the
//! two apart. Burn rates follow the Google SRE workbook: a burn rate of 1
//! spends exactly the whole budget over the SLO period.

use super::Counts;

/// Share of good events.
pub fn sli(c: Counts) -> Option<f64> {
    (c.total > 0.0).then(|| (c.good / c.total).clamp(0.0, 1.0))
}

/// Share of bad events.
pub fn error_ratio(c: Counts) -> Option<f64> {
    sli(c).map(|sli| 1.0 - sli)
}

/// How many times faster than sustainable the budget is being spent.
/// `None` also when the objective leaves no budget at all (100 %), where any
/// error would be an infinite rate that JSON cannot carry.
pub fn burn_rate(c: Counts, objective: f64) -> Option<f64> {
    let budget = 1.0 - objective;
    if budget > 0.0 {
        error_ratio(c).map(|e| e / budget)
    } else {
        None
    }
}

/// Share of the period's budget left, from the counts of the whole period.
/// Negative once the budget is overspent, so "how far over" stays visible.
pub fn budget_remaining(c: Counts, objective: f64) -> Option<f64> {
    burn_rate(c, objective).map(|b| 1.0 - b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(good: f64, total: f64) -> Counts {
        Counts { good, total }
    }

    fn approx(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (a, b) => a == b,
        }
    }

    #[test]
    fn table() {
        // (counts, objective, sli, error ratio, burn rate, budget remaining)
        let cases = [
            (c(0.0, 0.0), 0.999, None, None, None, None),
            (
                c(100.0, 100.0),
                0.999,
                Some(1.0),
                Some(0.0),
                Some(0.0),
                Some(1.0),
            ),
            // Spending at exactly the sustainable rate uses the whole budget.
            (
                c(999.0, 1000.0),
                0.999,
                Some(0.999),
                Some(0.001),
                Some(1.0),
                Some(0.0),
            ),
            (
                c(9995.0, 10000.0),
                0.999,
                Some(0.9995),
                Some(0.0005),
                Some(0.5),
                Some(0.5),
            ),
            // Total outage against 99.9 %: the workbook's 1000× burn.
            (
                c(0.0, 50.0),
                0.999,
                Some(0.0),
                Some(1.0),
                Some(1000.0),
                Some(-999.0),
            ),
            (
                c(98.0, 100.0),
                0.99,
                Some(0.98),
                Some(0.02),
                Some(2.0),
                Some(-1.0),
            ),
            (
                c(90.0, 100.0),
                0.5,
                Some(0.9),
                Some(0.1),
                Some(0.2),
                Some(0.8),
            ),
            // No budget to burn.
            (c(90.0, 100.0), 1.0, Some(0.9), Some(0.1), None, None),
        ];
        for (counts, objective, s, e, b, r) in cases {
            let what = format!("{counts:?} at {objective}");
            assert!(approx(sli(counts), s), "sli {what}");
            assert!(approx(error_ratio(counts), e), "error ratio {what}");
            assert!(approx(burn_rate(counts, objective), b), "burn rate {what}");
            assert!(
                approx(budget_remaining(counts, objective), r),
                "budget {what}"
            );
        }
    }

    #[test]
    fn workbook_one_hour_window_at_14_4_is_two_percent_of_budget() {
        // The workbook's page threshold: 14.4× over 1 h spends 2 % of a
        // 30-day budget (14.4 × 1 h / 720 h).
        let hour = c(3600.0 - 3600.0 * 0.0144, 3600.0);
        let burn = burn_rate(hour, 0.999).expect("events");
        assert!((burn - 14.4).abs() < 1e-9);
        assert!((burn * 1.0 / 720.0 - 0.02).abs() < 1e-12);
    }
}
