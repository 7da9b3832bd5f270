//! The verdict on one metric, from the interval of its ratio to the baseline and a decision
//! threshold.

use super::metrics::Worse;
use crate::results::Verdict;

/// Fewest valid runs on each side for a verdict.
pub const MIN_RUNS: usize = 3;

/// What the verdict is computed from.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    /// Valid runs of the variant.
    pub runs: usize,
    /// Valid runs of the baseline.
    pub baseline_runs: usize,
    /// The ratio's confidence interval, when there is a ratio.
    pub ci: Option<(f64, f64)>,
    /// Threshold, as a fraction.
    pub threshold: f64,
    /// Which way is worse.
    pub worse: Worse,
}

/// The verdict and, when there is none, why.
///
/// With the interval `[lo, hi]` of the ratio and threshold `t`: the whole interval beyond
/// `1 + t` on the worse side is a regression, beyond `1 - t` on the better side an improvement,
/// wholly within `[1 - t, 1 + t]` no significant change; anything else (the interval straddles a
/// threshold) is inconclusive.
pub fn judge(e: &Evidence) -> (Verdict, Option<String>) {
    if e.runs < MIN_RUNS || e.baseline_runs < MIN_RUNS {
        return (
            Verdict::TooFewRuns,
            Some(format!(
                "{} valid runs of the variant and {} of the baseline; a verdict needs at least \
                 {MIN_RUNS} of each (raise `repetitions`)",
                e.runs, e.baseline_runs
            )),
        );
    }
    let Some((lo, hi)) = e.ci else {
        return (
            Verdict::NotComparable,
            Some("the baseline has runs where the value is 0, so there is no ratio".into()),
        );
    };
    let t = e.threshold;
    let (worse_all, better_all) = match e.worse {
        Worse::Higher => (lo > 1.0 + t, hi < 1.0 - t),
        Worse::Lower => (hi < 1.0 - t, lo > 1.0 + t),
    };
    let verdict = if worse_all {
        Verdict::Regression
    } else if better_all {
        Verdict::Improvement
    } else if lo >= 1.0 - t && hi <= 1.0 + t {
        Verdict::NoSignificantChange
    } else {
        Verdict::Inconclusive
    };
    (verdict, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ci: (f64, f64), worse: Worse) -> Evidence {
        Evidence {
            runs: 3,
            baseline_runs: 3,
            ci: Some(ci),
            threshold: 0.05,
            worse,
        }
    }

    #[test]
    fn verdicts_for_a_higher_is_worse_metric() {
        let j = |lo, hi| judge(&ev((lo, hi), Worse::Higher)).0;
        assert_eq!(j(1.10, 1.30), Verdict::Regression);
        assert_eq!(j(0.70, 0.90), Verdict::Improvement);
        assert_eq!(j(0.97, 1.04), Verdict::NoSignificantChange);
        assert_eq!(j(1.02, 1.09), Verdict::Inconclusive);
        assert_eq!(j(0.80, 1.20), Verdict::Inconclusive);
    }

    #[test]
    fn direction_flips_for_throughput() {
        let j = |lo, hi| judge(&ev((lo, hi), Worse::Lower)).0;
        assert_eq!(j(0.70, 0.90), Verdict::Regression);
        assert_eq!(j(1.10, 1.30), Verdict::Improvement);
    }

    #[test]
    fn no_verdict_from_fewer_than_three_runs() {
        let mut e = ev((1.5, 1.6), Worse::Higher);
        e.baseline_runs = 2;
        let (v, note) = judge(&e);
        assert_eq!(v, Verdict::TooFewRuns);
        assert!(note.unwrap().contains("2 of the baseline"));
    }

    #[test]
    fn no_ratio_is_not_comparable() {
        let mut e = ev((1.0, 1.0), Worse::Higher);
        e.ci = None;
        assert_eq!(judge(&e).0, Verdict::NotComparable);
    }
}
