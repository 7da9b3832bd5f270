//! Tests of the whole analysis on the hand-built results.
#![allow(clippy::float_cmp)] // exact values are meant

use super::*;
use crate::results::fixture;

#[test]
fn summary_has_every_variant_with_ratios_and_verdicts() {
    let a = analyze(&fixture::results());
    let names: Vec<_> = a.summary.iter().map(|s| s.variant.as_str()).collect();
    assert_eq!(names, ["off", "10%", "100%"]);
    let off = &a.summary[0];
    assert_eq!(off.metrics["cpu_per_request"].verdict, Verdict::Baseline);
    assert_eq!(off.sampling_ratio, None);
    let full = &a.summary[2];
    assert_eq!(full.sampling_ratio, Some(1.0));
    let cpu = &full.metrics["cpu_per_request"];
    assert_eq!(cpu.median, 262.0);
    assert_eq!(cpu.baseline_median, 200.0);
    assert!((cpu.ratio.unwrap() - 1.31).abs() < 1e-9);
    // Three runs each: the interval spans the extreme cross-ratios.
    assert!(cpu.ci_low.unwrap() >= 258.0 / 204.0 - 1e-9);
    assert!(cpu.ci_high.unwrap() <= 270.0 / 198.0 + 1e-9);
    assert_eq!(cpu.verdict, Verdict::Regression);
    let ten = &a.summary[1].metrics["cpu_per_request"];
    // 10%: +6% with an interval of roughly +2.5% .. +8.6%: straddles the 5% threshold.
    assert_eq!(ten.verdict, Verdict::Inconclusive, "{ten:?}");
    assert!(a.summary[2].metrics.contains_key("rss_mean.web"));
    assert_eq!(
        a.summary[2].metrics["spans_per_request"].verdict,
        Verdict::NotComparable
    );
}

#[test]
fn invalid_runs_are_excluded_and_counted() {
    let mut r = fixture::results();
    r.runs[2].valid = false; // 100%, repetition 1 (262)
    r.runs[2].cpu.target_us_per_request = 10_000.0;
    let a = analyze(&r);
    let full = &a.summary[2];
    assert_eq!((full.valid_runs, full.invalid_runs), (2, 1));
    let cpu = &full.metrics["cpu_per_request"];
    assert_eq!(cpu.median, 264.0);
    assert_eq!(cpu.verdict, Verdict::TooFewRuns);
    assert!(cpu.note.as_deref().unwrap().contains("2 valid runs"));
}

#[test]
fn a_run_invalid_for_latency_only_keeps_its_cpu_and_memory() {
    let mut r = fixture::results();
    r.runs[2].valid = false; // 100%, repetition 1 (262)
    r.runs[2].latency_only = true;
    r.runs[2].latency_us.p99 = 1_000_000;
    let a = analyze(&r);
    let full = &a.summary[2];
    assert_eq!(
        (full.valid_runs, full.invalid_runs, full.latency_only_runs),
        (2, 1, 1)
    );
    // CPU over all three runs (262, 270, 258), latency over the two valid ones.
    let cpu = &full.metrics["cpu_per_request"];
    assert_eq!(cpu.median, 262.0);
    assert_ne!(cpu.verdict, Verdict::TooFewRuns);
    let p99 = &full.metrics["p99"];
    assert!(p99.median < 1_000_000.0);
    assert_eq!(p99.verdict, Verdict::TooFewRuns);
    assert!(full.metrics.contains_key("rss_mean"));
}

#[test]
fn cost_model_fits_cpu_against_sampling_ratio() {
    let a = analyze(&fixture::results());
    let m = a.cost_model.unwrap();
    // Three baseline runs and six candidate runs in one fit.
    assert_eq!(m.points, 9);
    // Group means: baseline 200.67; 212 at 0.1 and 263.33 at 1.0 -> slope 57.04, and the
    // candidates' line meets r = 0 at 206.30, 5.63 µs above the baseline.
    assert!((m.baseline_us_per_request - 200.667).abs() < 0.01, "{m:?}");
    assert!(
        (m.per_sampled_request_us.value - 57.04).abs() < 0.01,
        "{m:?}"
    );
    assert!((m.floor_us.value - 5.63).abs() < 0.01, "{m:?}");
    assert!(m.floor_us.ci_low < 5.63 && m.floor_us.ci_high > 5.63);
    assert_eq!(m.predictions.len(), 2);
}

#[test]
fn recommendation_follows_the_budget() {
    let a = analyze(&fixture::results());
    let r = a.recommendation.unwrap();
    assert_eq!(r.chosen_variant.as_deref(), Some("10%"));
    assert!(
        r.reason.contains("100% (cpu_per_request worst case"),
        "{}",
        r.reason
    );
    let mut results = fixture::results();
    results.scenario.budget.clear();
    assert!(analyze(&results).recommendation.is_none());
}

#[test]
fn calibration_reports_the_noise_floor_of_the_copy() {
    let mut r = fixture::results();
    r.scenario.variants.push("off (A/A)".into());
    r.scenario.calibration_variant = Some("off (A/A)".into());
    for (rep, cpu) in [202.0, 197.0, 205.0].into_iter().enumerate() {
        let mut run = fixture::run("off", rep as u32 + 1, cpu);
        run.variant = "off (A/A)".into();
        r.runs.push(run);
    }
    let a = analyze(&r);
    let c = a.calibration.unwrap();
    let cpu = c.metrics["cpu_per_request"];
    assert!(cpu.ci_low < 1.0 && cpu.ci_high > 1.0);
    assert!(cpu.half_width > 0.01 && cpu.half_width < 0.05, "{cpu:?}");
    let copy = a.summary.iter().find(|s| s.variant == "off (A/A)").unwrap();
    let level = copy.metrics["cpu_per_request"].ci_level.unwrap();
    assert!(
        (level - 0.9).abs() < 1e-12,
        "3 runs against 3: a 90% interval"
    );
    assert!((cpu.mde - cpu.half_width * mde_per_half_width(level)).abs() < 1e-12);
    // The copy is neither fitted nor recommended.
    assert_eq!(a.cost_model.unwrap().points, 9);
}

#[test]
fn thresholds_override_defaults_by_name_or_family() {
    let t: BTreeMap<String, f64> =
        [("rss_mean".to_string(), 0.2), ("p99".to_string(), 0.01)].into();
    assert_eq!(threshold("p99", &t), 0.01);
    assert_eq!(threshold("rss_mean.web", &t), 0.2);
    assert_eq!(threshold("cpu_per_request", &t), 0.05);
}

#[test]
fn analysis_is_deterministic() {
    let r = fixture::results();
    assert_eq!(analyze(&r), analyze(&r));
}

#[test]
fn speed_adjustment_removes_a_drift_that_raw_cpu_keeps() {
    let mut r = fixture::results();
    fixture::vary_speed(&mut r);
    let a = analyze(&r);
    let fit = a.speed.unwrap();
    // Each variant's runs drift by the same factors, so the pooled fit finds the elasticity
    // exactly where the fixture's own variation does not disturb it much.
    assert!((0.3..=1.2).contains(&fit.beta), "{fit:?}");
    assert_eq!(fit.runs, 9);
    let full = &a.summary[2].metrics;
    let width = |m: &MetricSummary| m.ci_high.unwrap() - m.ci_low.unwrap();
    assert!(
        width(&full["cpu_adjusted"]) < width(&full["cpu_per_request"]),
        "{:?} vs {:?}",
        full["cpu_adjusted"],
        full["cpu_per_request"]
    );
    assert!(a.cost_model.unwrap().speed_adjusted);
}

#[test]
fn without_speed_variation_there_is_no_adjusted_cpu() {
    let a = analyze(&fixture::results());
    assert!(a.speed.is_none());
    assert!(!a.summary[2].metrics.contains_key("cpu_adjusted"));
    assert!(!a.cost_model.unwrap().speed_adjusted);
}
