//! The recommendation: the highest sampling rate whose upper confidence bound stays within every
//! budget and that delivered its telemetry, or a plain statement that none does.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::metrics::{self, Worse};
use crate::results::{Recommendation, VariantSummary, Verdict};

/// A configuration that delivered less than this share of the spans it produced lost telemetry:
/// it looks cheap because it does not do the work, so it is never recommended.
pub const MIN_DELIVERED: f64 = 0.99;

/// Chooses among `candidates` (summaries of variants with a sampling ratio, the baseline and the
/// A/A copy excluded) under `budget` (metric -> largest acceptable increase, a fraction);
/// `delivered` holds each variant's spans received / produced where it is known.
pub fn recommend(
    candidates: &[&VariantSummary],
    budget: &BTreeMap<String, f64>,
    delivered: &BTreeMap<String, f64>,
) -> Recommendation {
    let mut ranked: Vec<&VariantSummary> = candidates
        .iter()
        .copied()
        .filter(|s| s.sampling_ratio.is_some())
        .collect();
    // Highest ratio first; the sort is stable, so equal ratios keep scenario order.
    ranked.sort_by(|a, b| {
        b.sampling_ratio
            .unwrap_or(0.0)
            .total_cmp(&a.sampling_ratio.unwrap_or(0.0))
    });
    let mut rejected = String::new();
    for s in &ranked {
        let lost = delivered
            .get(&s.variant)
            .filter(|d| **d < MIN_DELIVERED)
            .map(|d| {
                format!(
                    "it delivered only {:.1}% of its spans (at least {:.0}% needed)",
                    d * 100.0,
                    MIN_DELIVERED * 100.0
                )
            });
        match lost.or_else(|| excess(s, budget)) {
            None => {
                let mut reason = format!(
                    "{} is the highest sampling rate whose worst case (its confidence interval's \
                     bound on the worse side) stays within every budget: {}",
                    s.variant,
                    bounds(s, budget)
                );
                if !rejected.is_empty() {
                    let _ = write!(reason, ". Higher rates exceed it: {rejected}");
                }
                return Recommendation {
                    budget: budget.clone(),
                    chosen_variant: Some(s.variant.clone()),
                    sampling_ratio: s.sampling_ratio,
                    reason,
                };
            }
            Some(why) => {
                if !rejected.is_empty() {
                    rejected.push_str("; ");
                }
                let _ = write!(rejected, "{} ({why})", s.variant);
            }
        }
    }
    let reason = if ranked.is_empty() {
        "no variant has a known sampling ratio to choose from".to_string()
    } else {
        format!("no sampling rate fits the budget: {rejected}")
    };
    Recommendation {
        budget: budget.clone(),
        chosen_variant: None,
        sampling_ratio: None,
        reason,
    }
}

/// The worst-case increase of `metric` in `s` (upper bound of the change in the worse
/// direction), as a fraction; `Err` with the reason when it cannot be judged.
fn upper_increase(s: &VariantSummary, metric: &str) -> Result<f64, String> {
    let m = s
        .metrics
        .get(metric)
        .ok_or_else(|| format!("{metric} was not measured"))?;
    if m.verdict == Verdict::TooFewRuns {
        return Err(format!("{metric}: too few valid runs"));
    }
    let (Some(lo), Some(hi)) = (m.ci_low, m.ci_high) else {
        return Err(format!("{metric}: no interval"));
    };
    Ok(
        match metrics::lookup(metric).map_or(Worse::Higher, |d| d.worse) {
            Worse::Higher => hi - 1.0,
            Worse::Lower => 1.0 - lo,
        },
    )
}

/// Why `s` exceeds the budget, or `None` when it fits.
fn excess(s: &VariantSummary, budget: &BTreeMap<String, f64>) -> Option<String> {
    let problems: Vec<String> = budget
        .iter()
        .filter_map(|(metric, &limit)| match upper_increase(s, metric) {
            Ok(up) if up <= limit => None,
            Ok(up) => Some(format!(
                "{metric} worst case {} beyond the budget of {:.1}%",
                signed(metric, up),
                limit * 100.0
            )),
            Err(why) => Some(why),
        })
        .collect();
    (!problems.is_empty()).then(|| problems.join(", "))
}

/// A worst-case change in its own direction: "+12.0%" for CPU, "-3.0%" for throughput.
fn signed(metric: &str, increase: f64) -> String {
    match metrics::lookup(metric).map_or(Worse::Higher, |d| d.worse) {
        Worse::Higher => format!("{:+.1}%", increase * 100.0),
        Worse::Lower => format!("{:+.1}%", -increase * 100.0),
    }
}

fn bounds(s: &VariantSummary, budget: &BTreeMap<String, f64>) -> String {
    budget
        .iter()
        .filter_map(|(metric, &limit)| {
            let up = upper_increase(s, metric).ok()?;
            Some(format!(
                "{metric} worst case {} (budget {:.1}%)",
                signed(metric, up),
                limit * 100.0
            ))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::MetricSummary;

    fn summary(name: &str, ratio: f64, cpu_hi: f64, p99_hi: f64) -> VariantSummary {
        let metric = |hi: f64| MetricSummary {
            median: 1.0,
            median_ci: None,
            median_ci_level: None,
            baseline_median: 1.0,
            ratio: Some(hi - 0.01),
            ci_low: Some(hi - 0.02),
            ci_high: Some(hi),
            ci_level: Some(0.95),
            threshold: 0.05,
            verdict: Verdict::Inconclusive,
            note: None,
        };
        VariantSummary {
            variant: name.into(),
            baseline: "off".into(),
            valid_runs: 3,
            invalid_runs: 0,
            latency_only_runs: 0,
            sampling_ratio: Some(ratio),
            metrics: [
                ("cpu_per_request".to_string(), metric(cpu_hi)),
                ("p99".to_string(), metric(p99_hi)),
            ]
            .into(),
        }
    }

    fn budget() -> BTreeMap<String, f64> {
        [
            ("cpu_per_request".to_string(), 0.10),
            ("p99".to_string(), 0.05),
        ]
        .into()
    }

    #[test]
    fn picks_the_highest_rate_within_every_budget() {
        let s = [
            summary("1%", 0.01, 1.02, 1.01),
            summary("100%", 1.0, 1.30, 1.20),
            summary("25%", 0.25, 1.08, 1.04),
            summary("50%", 0.5, 1.12, 1.03),
        ];
        let refs: Vec<&VariantSummary> = s.iter().collect();
        let r = recommend(&refs, &budget(), &BTreeMap::new());
        assert_eq!(r.chosen_variant.as_deref(), Some("25%"));
        assert_eq!(r.sampling_ratio, Some(0.25));
        assert!(
            r.reason
                .contains("50% (cpu_per_request worst case +12.0% beyond the budget of 10.0%)"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn says_so_when_none_fits() {
        let s = [summary("10%", 0.1, 1.2, 1.2)];
        let refs: Vec<&VariantSummary> = s.iter().collect();
        let r = recommend(&refs, &budget(), &BTreeMap::new());
        assert_eq!(r.chosen_variant, None);
        assert!(
            r.reason
                .starts_with("no sampling rate fits the budget: 10%")
        );
    }

    #[test]
    fn too_few_runs_never_fit() {
        let mut s = summary("10%", 0.1, 1.0, 1.0);
        s.metrics.get_mut("p99").unwrap().verdict = Verdict::TooFewRuns;
        let r = recommend(&[&s], &budget(), &BTreeMap::new());
        assert_eq!(r.chosen_variant, None);
        assert!(r.reason.contains("too few valid runs"));
    }

    #[test]
    fn a_configuration_that_lost_telemetry_is_never_recommended() {
        // Regression for issue 19: the cheapest-looking setting may be one that dropped spans.
        let s = [
            summary("25%", 0.25, 1.02, 1.01),
            summary("10%", 0.1, 1.02, 1.01),
        ];
        let refs: Vec<&VariantSummary> = s.iter().collect();
        let delivered = [("25%".to_string(), 0.62), ("10%".to_string(), 1.0)].into();
        let r = recommend(&refs, &budget(), &delivered);
        assert_eq!(r.chosen_variant.as_deref(), Some("10%"));
        assert!(
            r.reason
                .contains("25% (it delivered only 62.0% of its spans"),
            "{}",
            r.reason
        );
    }
}
