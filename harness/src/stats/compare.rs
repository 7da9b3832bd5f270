//! Two results files of one scenario, compared per variant and metric with the same statistics
//! as a run's summary: the CI regression gate.

use std::collections::BTreeMap;

use super::metrics;
use crate::results::{MetricSummary, Results, Verdict};

/// Why two files cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// Different scenarios.
    #[error(
        "the files come from different scenarios: BASE ran `{base}`, NEW ran `{new}`; fix: compare \
         two runs of the same scenario"
    )]
    Scenario {
        /// BASE's scenario name.
        base: String,
        /// NEW's scenario name.
        new: String,
    },
    /// A gated metric cannot be judged: absent from a file, or too few valid runs.
    #[error(
        "{file} has {valid} valid run(s) with `{metric}` for variant `{variant}`; the gate needs \
         at least {min}; fix: {fix}"
    )]
    Unjudged {
        /// BASE or NEW.
        file: &'static str,
        /// Variant.
        variant: String,
        /// Gated metric.
        metric: String,
        /// Valid runs that have it.
        valid: usize,
        /// Runs needed.
        min: usize,
        /// What to do.
        fix: &'static str,
    },
    /// A variant of one file is missing from the other.
    #[error(
        "variant `{variant}` is in {present} but not in {missing}; fix: run the same variants in \
         both, or remove it from the scenario"
    )]
    Variant {
        /// The variant.
        variant: String,
        /// The file that has it (BASE or NEW).
        present: &'static str,
        /// The file that lacks it.
        missing: &'static str,
    },
}

/// One metric of one variant: NEW against BASE.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Variant.
    pub variant: String,
    /// Metric.
    pub metric: String,
    /// True when `--max-regression` names this metric (only gated metrics fail the gate).
    pub gated: bool,
    /// `median` is NEW's, `baseline_median` BASE's; the ratio is NEW / BASE.
    pub stats: MetricSummary,
}

/// The comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Rows in variant order, then metric order.
    pub rows: Vec<Row>,
    /// Differences that do not prevent a comparison but weaken it (edited scenario, another
    /// machine, invalid runs).
    pub warnings: Vec<String>,
    /// The speed model fitted over both files, when it could be.
    pub speed: Option<super::speed::SpeedModel>,
}

/// The gate's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No gated regression.
    Pass,
    /// A gated metric regressed beyond its threshold (or, with `strict`, is inconclusive).
    Fail,
}

/// The default gate: `cpu_adjusted=5%,p99=10%` (speed-adjusted CPU: see `speed`).
pub fn default_gate() -> BTreeMap<String, f64> {
    [
        ("cpu_adjusted".to_string(), 0.05),
        ("p99".to_string(), 0.10),
    ]
    .into()
}

/// Parses `cpu_per_request=5%,p99=10%`. The error names the bad item and the fix.
pub fn parse_gate(spec: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut gate = BTreeMap::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item.split_once('=').ok_or_else(|| {
            format!("`{item}` is not METRIC=PERCENT; fix: write e.g. cpu_per_request=5%")
        })?;
        let name = name.trim();
        if metrics::lookup(name).is_none() {
            let known: Vec<&str> = metrics::METRICS.iter().map(|d| d.name).collect();
            return Err(format!(
                "`{name}` is not a metric; fix: use one of {} (or rss_mean.<process>)",
                known.join(", ")
            ));
        }
        let fraction = metrics::parse_percent(value).ok_or_else(|| {
            format!("`{value}` for {name} is not a percentage; fix: write e.g. {name}=5%")
        })?;
        gate.insert(name.to_string(), fraction);
    }
    if gate.is_empty() {
        return Err("no metric given; fix: write e.g. cpu_per_request=5%".into());
    }
    Ok(gate)
}

/// Compares NEW with BASE. Metrics: every metric family both files measured, plus every gated
/// metric.
pub fn compare(
    base: &Results,
    new: &Results,
    gate: &BTreeMap<String, f64>,
) -> Result<Comparison, Mismatch> {
    same_plan(base, new)?;
    let mut warnings = file_warnings(base, new);
    let variants = &base.scenario.variants;
    let mut gb = super::group(&base.runs, variants);
    let mut gn = super::group(&new.runs, variants);
    let speed = fit_speed(&gb, &gn);
    if let Some(m) = &speed {
        super::add_adjusted(gb.values_mut().chain(gn.values_mut()), m);
    }
    let mut rows = Vec::new();
    for v in variants {
        let (Some(b), Some(n)) = (gb.get(v.as_str()), gn.get(v.as_str())) else {
            continue;
        };
        for (label, g) in [("BASE", b), ("NEW", n)] {
            if g.invalid > 0 {
                warnings.push(format!(
                    "{label}: {} invalid run(s) of `{v}` left out",
                    g.invalid
                ));
            }
            judgeable(label, v, g, gate)?;
        }
        let thresholds = &new.scenario.thresholds;
        rows.extend(variant_rows(v, b, n, gate, thresholds));
    }
    Ok(Comparison {
        scenario: base.scenario.name.clone(),
        rows,
        warnings,
        speed,
    })
}

/// The two files ran the same scenario with the same variants.
fn same_plan(base: &Results, new: &Results) -> Result<(), Mismatch> {
    if base.scenario.name != new.scenario.name {
        return Err(Mismatch::Scenario {
            base: base.scenario.name.clone(),
            new: new.scenario.name.clone(),
        });
    }
    for (a, b, present, missing) in [(base, new, "BASE", "NEW"), (new, base, "NEW", "BASE")] {
        if let Some(v) = a
            .scenario
            .variants
            .iter()
            .find(|v| !b.scenario.variants.contains(v))
        {
            return Err(Mismatch::Variant {
                variant: v.clone(),
                present,
                missing,
            });
        }
    }
    Ok(())
}

/// What weakens the comparison of the two files as wholes: an interrupted plan, an edited
/// scenario, another machine, work after the window measured by one side only.
fn file_warnings(base: &Results, new: &Results) -> Vec<String> {
    let mut warnings = Vec::new();
    for (label, r) in [("BASE", base), ("NEW", new)] {
        if r.interrupted {
            warnings.push(format!("{label} was interrupted before its plan finished"));
        }
    }
    if base.scenario.hash != new.scenario.hash {
        warnings.push("the scenario file was edited between the two runs".to_string());
    }
    let (eb, en) = (&base.environment, &new.environment);
    if (eb.cpu_model.as_str(), eb.cores) != (en.cpu_model.as_str(), en.cores) {
        warnings.push(format!(
            "different machines: BASE {} x{}, NEW {} x{}",
            eb.cpu_model, eb.cores, en.cpu_model, en.cores
        ));
    }
    let counts_after = |r: &Results| {
        r.runs
            .iter()
            .any(|run| run.cpu.after_window_us_per_request.is_some())
    };
    if counts_after(base) != counts_after(new) {
        let (with, without) = if counts_after(base) {
            ("BASE", "NEW")
        } else {
            ("NEW", "BASE")
        };
        warnings.push(format!(
            "{with} has the target's work after the window (its shutdown flush), {without} does \
             not (made by an earlier otelbench): `cpu_with_after_window` is compared only where \
             both have it"
        ));
    }
    warnings
}

/// One speed model over both files (each variant of each file its own group), carried to
/// BASE's speed, so that NEW's `cpu_adjusted` is what it would have been on BASE's machine.
fn fit_speed(
    gb: &BTreeMap<&str, super::Group>,
    gn: &BTreeMap<&str, super::Group>,
) -> Option<super::speed::SpeedModel> {
    let base_readings: Vec<f64> = gb
        .values()
        .flat_map(|g| g.speed.iter().map(|r| r.0))
        .filter(|g| *g > 0.0)
        .collect();
    let reference = (!base_readings.is_empty()).then(|| {
        (base_readings.iter().map(|g| g.ln()).sum::<f64>() / base_readings.len() as f64).exp()
    });
    reference.and_then(|r| {
        let groups: Vec<Vec<super::speed::Reading>> = gb
            .values()
            .chain(gn.values())
            .map(|g| g.speed.clone())
            .collect();
        super::speed::fit(&groups, Some(r))
    })
}

/// A gate that cannot judge its metric must not pass silently: every gated metric needs enough
/// valid runs of `variant` in the file `label` names.
fn judgeable(
    label: &'static str,
    variant: &str,
    g: &super::Group,
    gate: &BTreeMap<String, f64>,
) -> Result<(), Mismatch> {
    for metric in gate.keys() {
        let valid = g.values(metric).len();
        if valid < super::verdict::MIN_RUNS {
            let absent = valid == 0 && !g.valid.is_empty();
            return Err(Mismatch::Unjudged {
                file: label,
                variant: variant.to_string(),
                metric: metric.clone(),
                valid,
                min: super::verdict::MIN_RUNS,
                fix: if absent {
                    "the file does not have this metric (made by an older otelbench, or a \
                     process name that does not exist): regenerate it or gate on another metric"
                } else {
                    "its runs were invalid or too few (see its report): rerun with more \
                     repetitions"
                },
            });
        }
    }
    Ok(())
}

/// The metrics compared for one variant: the families both files have (a per-process metric
/// only when gated) and every gated metric, in report order.
fn metric_names(b: &super::Group, n: &super::Group, gate: &BTreeMap<String, f64>) -> Vec<String> {
    let mut names: Vec<String> = b
        .metric_names()
        .intersection(&n.metric_names())
        .filter(|m| !m.contains('.') || gate.contains_key(*m))
        .cloned()
        .collect();
    let extra: Vec<String> = gate
        .keys()
        .filter(|m| !names.contains(m))
        .cloned()
        .collect();
    names.extend(extra);
    names.sort_by_key(|n| metrics::order(n));
    names
}

/// NEW against BASE for every compared metric of `variant`.
fn variant_rows(
    variant: &str,
    b: &super::Group,
    n: &super::Group,
    gate: &BTreeMap<String, f64>,
    thresholds: &BTreeMap<String, f64>,
) -> Vec<Row> {
    metric_names(b, n, gate)
        .into_iter()
        .map(|metric| {
            let threshold = gate
                .get(&metric)
                .copied()
                .unwrap_or_else(|| super::threshold(&metric, thresholds));
            Row {
                gated: gate.contains_key(&metric),
                stats: super::compare_metric(
                    &metric,
                    &n.values(&metric),
                    &b.values(&metric),
                    threshold,
                ),
                variant: variant.to_string(),
                metric,
            }
        })
        .collect()
}

/// The smallest change of `row`'s metric that its gate would have called a regression with the
/// interval's width as measured: the threshold plus the interval's reach on the better side,
/// as a fraction (e.g. 0.08 for "+8%"; a drop for a metric where lower is worse). `None`
/// without an interval.
pub fn detectable(row: &Row) -> Option<f64> {
    let s = &row.stats;
    let (ratio, lo, hi) = (s.ratio?, s.ci_low?, s.ci_high?);
    let worse = metrics::lookup(&row.metric).map_or(metrics::Worse::Higher, |d| d.worse);
    match worse {
        metrics::Worse::Higher if lo > 0.0 => Some((1.0 + s.threshold) * ratio / lo - 1.0),
        metrics::Worse::Lower if hi > 0.0 => Some(1.0 - (1.0 - s.threshold) * ratio / hi),
        _ => None,
    }
}

impl Comparison {
    /// Fail when a gated metric regressed beyond its threshold, or with `strict` when a gated
    /// metric is inconclusive or has too few runs.
    pub fn outcome(&self, strict: bool) -> Outcome {
        let failing = |r: &&Row| {
            r.gated
                && match r.stats.verdict {
                    Verdict::Regression => true,
                    Verdict::Inconclusive | Verdict::TooFewRuns | Verdict::NotComparable => strict,
                    _ => false,
                }
        };
        if self.rows.iter().any(|r| failing(&r)) {
            Outcome::Fail
        } else {
            Outcome::Pass
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use super::*;
    use crate::results::fixture;

    /// The hand-built results with the machine's speed drifting, as it does for real.
    fn speedy() -> Results {
        let mut r = fixture::results();
        fixture::vary_speed(&mut r);
        r
    }

    #[test]
    fn the_detectable_change_is_the_threshold_plus_the_intervals_reach() {
        let mut row = Row {
            variant: "off".into(),
            metric: "cpu_per_request".into(),
            gated: true,
            stats: MetricSummary {
                median: 100.0,
                median_ci: None,
                median_ci_level: None,
                baseline_median: 100.0,
                ratio: Some(1.0),
                ci_low: Some(0.97),
                ci_high: Some(1.03),
                ci_level: Some(0.95),
                threshold: 0.05,
                verdict: Verdict::NoSignificantChange,
                note: None,
            },
        };
        // A true +8.2% would put the interval's low end (3% below) just past +5%.
        assert!((detectable(&row).unwrap() - (1.05 / 0.97 - 1.0)).abs() < 1e-12);
        row.metric = "throughput".into();
        assert!((detectable(&row).unwrap() - (1.0 - 0.95 / 1.03)).abs() < 1e-12);
        row.stats.ci_low = None;
        assert_eq!(detectable(&row), None);
    }

    #[test]
    fn gate_spec_parses_and_names_mistakes() {
        let g = parse_gate("cpu_per_request=5%, p99=10%").unwrap();
        assert_eq!(g["cpu_per_request"], 0.05);
        assert_eq!(g["p99"], 0.10);
        assert!(
            parse_gate("cpu=5%")
                .unwrap_err()
                .contains("`cpu` is not a metric")
        );
        assert!(
            parse_gate("p99=10")
                .unwrap_err()
                .contains("not a percentage")
        );
        assert!(parse_gate("p99").unwrap_err().contains("METRIC=PERCENT"));
        assert!(parse_gate("").is_err());
    }

    #[test]
    fn same_file_passes() {
        let r = speedy();
        let c = compare(&r, &r, &default_gate()).unwrap();
        assert_eq!(c.outcome(false), Outcome::Pass);
        let cpu = c
            .rows
            .iter()
            .find(|r| r.variant == "100%" && r.metric == "cpu_adjusted")
            .unwrap();
        assert!(cpu.gated);
        assert_eq!(cpu.stats.ratio, Some(1.0));
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn a_twenty_percent_cpu_regression_fails() {
        let base = speedy();
        let mut new = speedy();
        for r in new.runs.iter_mut().filter(|r| r.variant == "100%") {
            r.cpu.target_us_per_request *= 1.2;
        }
        let c = compare(&base, &new, &default_gate()).unwrap();
        assert_eq!(c.outcome(false), Outcome::Fail);
        let verdict = |metric: &str| {
            c.rows
                .iter()
                .find(|r| r.variant == "100%" && r.metric == metric)
                .unwrap()
                .stats
                .verdict
        };
        assert_eq!(verdict("cpu_adjusted"), Verdict::Regression);
        // The machine's drift hides it in raw CPU.
        assert_eq!(verdict("cpu_per_request"), Verdict::Inconclusive);
    }

    #[test]
    fn work_after_the_window_has_its_own_metric_and_a_file_without_it_is_named() {
        let base = speedy();
        let mut new = speedy();
        for r in new.runs.iter_mut().filter(|r| r.variant == "100%") {
            // The same window, plus a shutdown flush of a fifth of it.
            r.cpu.after_window_us_per_request = Some(r.cpu.target_us_per_request * 0.2);
        }
        let c = compare(&base, &new, &default_gate()).unwrap();
        // The default gate judges the window's CPU, which did not change.
        assert_eq!(c.outcome(false), Outcome::Pass);
        assert!(
            c.warnings
                .iter()
                .any(|w| w.starts_with("NEW has the target's work after the window")),
            "{:?}",
            c.warnings
        );
        assert!(
            !c.rows.iter().any(|r| r.metric == "cpu_with_after_window"),
            "BASE cannot be judged on it"
        );
        // Both with it (and a steady machine): a fifth more after the window is a regression of
        // that metric.
        let mut before = fixture::results();
        for r in &mut before.runs {
            r.cpu.after_window_us_per_request = Some(0.0);
        }
        let mut after = before.clone();
        for r in after.runs.iter_mut().filter(|r| r.variant == "100%") {
            r.cpu.after_window_us_per_request = Some(r.cpu.target_us_per_request * 0.2);
        }
        let gate = parse_gate("cpu_with_after_window=5%").unwrap();
        let c = compare(&before, &after, &gate).unwrap();
        assert_eq!(c.outcome(false), Outcome::Fail, "{:?}", c.rows);
    }

    #[test]
    fn mismatches_are_named() {
        let base = speedy();
        let mut other = speedy();
        other.scenario.name = "sweep".into();
        assert!(matches!(
            compare(&base, &other, &default_gate()),
            Err(Mismatch::Scenario { .. })
        ));
        let mut fewer = speedy();
        fewer.scenario.variants.pop();
        let e = compare(&base, &fewer, &default_gate()).unwrap_err();
        assert_eq!(
            e,
            Mismatch::Variant {
                variant: "100%".into(),
                present: "BASE",
                missing: "NEW"
            }
        );
    }

    #[test]
    fn a_gate_that_cannot_judge_refuses() {
        let base = speedy();
        let mut new = speedy();
        for r in new.runs.iter_mut().filter(|r| r.variant == "100%").take(1) {
            r.valid = false;
        }
        let e = compare(&base, &new, &default_gate()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("NEW has 2 valid run(s) with `cpu_adjusted` for variant `100%`"),
            "{e}"
        );
        let mut old = speedy();
        for r in &mut old.runs {
            r.cpu.generator_us_per_request = 0.0;
        }
        let e = compare(&old, &new, &default_gate()).unwrap_err();
        assert!(e.to_string().contains("older otelbench"), "{e}");
    }

    #[test]
    fn strict_fails_on_inconclusive() {
        let base = speedy();
        let mut new = speedy();
        // One wild run makes the interval wide: inconclusive, not a regression.
        new.runs[2].cpu.target_us_per_request = 400.0;
        let c = compare(&base, &new, &default_gate()).unwrap();
        let row = c
            .rows
            .iter()
            .find(|r| r.variant == "100%" && r.metric == "cpu_per_request")
            .unwrap();
        assert_eq!(row.stats.verdict, Verdict::Inconclusive, "{row:?}");
        assert_eq!(c.outcome(false), Outcome::Pass);
        assert_eq!(c.outcome(true), Outcome::Fail);
    }
}
