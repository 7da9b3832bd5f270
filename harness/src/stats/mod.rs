//! Statistics: pure functions from runs to decisions. Medians over valid repetitions, ratios to
//! the baseline with distribution-free confidence intervals of stated level (95% where the runs
//! allow it; see `interval`), verdicts, the A/A noise floor, the cost model and
//! the recommendation. Nothing here reads a file, a clock or the environment.

pub mod ab;
pub mod capacity;
pub mod compare;
pub mod completeness;
pub mod cost;
pub mod delivery;
pub mod distribution;
pub mod faults;
pub mod interval;
pub mod median;
pub mod metrics;
pub mod profile;
pub mod ratio;
pub mod recommend;
pub mod sampling;
pub mod speed;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet};

use crate::results::{
    Calibration, CostModel, MetricSummary, NoiseFloor, Recommendation, Results, RunResult,
    ScenarioRef, SpeedFit, VariantSummary, Verdict,
};

/// Everything the statistics stage adds to a results file.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// One entry per variant, in scenario order, the baseline first among equals.
    pub summary: Vec<VariantSummary>,
    /// The A/A noise floor.
    pub calibration: Option<Calibration>,
    /// CPU per request against the sampling ratio.
    pub cost_model: Option<CostModel>,
    /// The budget's recommendation.
    pub recommendation: Option<Recommendation>,
    /// The speed adjustment behind `cpu_adjusted`.
    pub speed: Option<SpeedFit>,
}

/// Analyses `results` with the thresholds, budget and calibration variant it records.
pub fn analyze(results: &Results) -> Analysis {
    let sc = &results.scenario;
    let mut groups = group(&results.runs, &sc.variants);
    let speed_model = speed::fit(
        &groups.values().map(|g| g.speed.clone()).collect::<Vec<_>>(),
        None,
    );
    if let Some(m) = &speed_model {
        add_adjusted(groups.values_mut(), m);
    }
    let empty = Group::default();
    let base = groups.get(sc.baseline.as_str()).unwrap_or(&empty);
    let summary: Vec<VariantSummary> = sc
        .variants
        .iter()
        .map(|v| {
            let g = groups.get(v.as_str()).unwrap_or(&empty);
            summarize(v, &sc.baseline, g, base, &sc.thresholds)
        })
        .collect();
    let calibration = sc.calibration_variant.as_ref().and_then(|c| {
        let s = summary.iter().find(|s| &s.variant == c)?;
        Some(noise_floor(s))
    });
    let candidates: Vec<&VariantSummary> = summary.iter().filter(|s| is_candidate(sc, s)).collect();
    let cost_model = cost_model(&candidates, &groups, base);
    let recommendation = (!sc.budget.is_empty()).then(|| {
        let delivered: BTreeMap<String, f64> = delivery::delivery(results)
            .into_iter()
            .filter_map(|d| Some((d.variant, d.delivered?)))
            .collect();
        recommend::recommend(&candidates, &sc.budget, &delivered)
    });
    Analysis {
        summary,
        calibration,
        cost_model,
        recommendation,
        speed: speed_model.map(|m| SpeedFit {
            beta: m.beta,
            reference_generator_us: m.reference_us,
            runs: m.runs as u32,
        }),
    }
}

/// A variant the cost model and the recommendation weigh: neither the baseline nor its A/A
/// copy.
fn is_candidate(sc: &ScenarioRef, s: &VariantSummary) -> bool {
    s.variant != sc.baseline && Some(&s.variant) != sc.calibration_variant.as_ref()
}

/// CPU per request against the sampling ratio of the `candidates`, on speed-adjusted CPU when
/// every baseline run has it: the same µs with far less noise.
fn cost_model(
    candidates: &[&VariantSummary],
    groups: &BTreeMap<&str, Group>,
    base: &Group,
) -> Option<CostModel> {
    let adjusted = !base.valid.is_empty() && base.values("cpu_adjusted").len() == base.valid.len();
    let metric = if adjusted {
        "cpu_adjusted"
    } else {
        "cpu_per_request"
    };
    let points: Vec<(f64, f64)> = candidates
        .iter()
        .filter_map(|s| Some((s.sampling_ratio?, groups.get(s.variant.as_str())?)))
        .flat_map(|(r, g)| g.values(metric).into_iter().map(move |v| (r, v)))
        .collect();
    let ratios: Vec<f64> = candidates.iter().filter_map(|s| s.sampling_ratio).collect();
    cost::model(&points, &base.values(metric), &ratios).map(|mut m| {
        m.speed_adjusted = adjusted;
        m
    })
}

/// Adds `cpu_adjusted` to every valid run of `groups` that has a speed reading.
pub fn add_adjusted<'a>(
    groups: impl IntoIterator<Item = &'a mut Group>,
    model: &speed::SpeedModel,
) {
    for g in groups {
        for (metrics, reading) in g.valid.iter_mut().zip(&g.speed) {
            if let Some(v) = model.adjust(*reading) {
                metrics.insert("cpu_adjusted".into(), v);
            }
        }
    }
}

/// Recomputes the statistics of `results` in place.
pub fn refresh(results: &mut Results) {
    let analysis = analyze(results);
    apply(results, analysis);
}

/// Writes `analysis` into `results`.
pub fn apply(results: &mut Results, analysis: Analysis) {
    results.summary = analysis.summary;
    results.calibration = analysis.calibration;
    results.cost_model = analysis.cost_model;
    results.recommendation = analysis.recommendation;
    results.speed = analysis.speed;
}

/// The runs of one variant, split into the metric values the statistics may use and a count of
/// invalid runs.
#[derive(Debug, Default)]
pub struct Group {
    /// Metrics of each valid run, and of each run invalid for latency only without its latency
    /// metrics.
    pub valid: Vec<BTreeMap<String, f64>>,
    /// (generator, target) CPU µs per request of each valid run, in the order of `valid`
    /// (zeros where the generator's CPU was not measured: `speed::fit` skips them).
    pub speed: Vec<speed::Reading>,
    /// Invalid runs (those invalid for latency only included).
    pub invalid: u32,
    /// Runs invalid for latency only: in `valid` without their latency metrics.
    pub latency_only: u32,
    /// Environment of the variant (from its first run).
    pub env: BTreeMap<String, String>,
}

impl Group {
    /// The values of `metric` over valid runs that have it.
    pub fn values(&self, metric: &str) -> Vec<f64> {
        self.valid
            .iter()
            .filter_map(|m| m.get(metric).copied())
            .collect()
    }

    /// Every metric name any valid run has.
    pub fn metric_names(&self) -> BTreeSet<String> {
        self.valid.iter().flat_map(|m| m.keys().cloned()).collect()
    }
}

/// Groups `runs` by variant (only the named `variants`).
pub fn group<'a>(runs: &[RunResult], variants: &'a [String]) -> BTreeMap<&'a str, Group> {
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    for v in variants {
        let g = groups.entry(v.as_str()).or_default();
        // Replaced attempts stay in the file but not in the statistics.
        for run in runs
            .iter()
            .filter(|r| &r.variant == v && r.replaced_by.is_none())
        {
            if g.env.is_empty() {
                g.env.clone_from(&run.env);
            }
            if run.valid || run.latency_only {
                let mut m = metrics::extract(run);
                if !run.valid {
                    m.retain(|name, _| !metrics::is_latency(name));
                    g.latency_only += 1;
                }
                g.valid.push(m);
                g.speed.push((
                    run.cpu.generator_us_per_request,
                    run.cpu.target_us_per_request,
                ));
            }
            if !run.valid {
                g.invalid += 1;
            }
        }
    }
    groups
}

/// The threshold for `metric`: the explicit one, else the metric's default.
pub fn threshold(metric: &str, thresholds: &BTreeMap<String, f64>) -> f64 {
    let family = metric.split_once('.').map_or(metric, |(f, _)| f);
    thresholds
        .get(metric)
        .or_else(|| thresholds.get(family))
        .copied()
        .or_else(|| metrics::lookup(metric).map(|d| d.threshold))
        .unwrap_or(0.05)
}

/// One metric of `values` against `baseline_values`.
pub fn compare_metric(
    metric: &str,
    values: &[f64],
    baseline_values: &[f64],
    threshold: f64,
) -> MetricSummary {
    let median = median::median(values).unwrap_or(0.0);
    let baseline_median = median::median(baseline_values).unwrap_or(0.0);
    let ratio = (baseline_median != 0.0).then(|| median / baseline_median);
    let interval = ratio.and_then(|_| interval::ratio(values, baseline_values));
    let ci = interval.map(|i| (i.low, i.high));
    let worse = metrics::lookup(metric).map_or(metrics::Worse::Higher, |d| d.worse);
    // No interval means no verdict (a baseline value of 0 defeats the ratio), never a verdict
    // from the point estimate alone.
    let (verdict, note) = verdict::judge(&verdict::Evidence {
        runs: values.len(),
        baseline_runs: baseline_values.len(),
        ci,
        threshold,
        worse,
    });
    let median_interval = interval::median(values);
    MetricSummary {
        median,
        median_ci: median_interval.map(|i| [i.low, i.high]),
        median_ci_level: median_interval.map(|i| i.level),
        baseline_median,
        ratio,
        ci_low: ci.map(|c| c.0),
        ci_high: ci.map(|c| c.1),
        ci_level: interval.map(|i| i.level),
        threshold,
        verdict,
        note,
    }
}

fn summarize(
    variant: &str,
    baseline: &str,
    g: &Group,
    base: &Group,
    thresholds: &BTreeMap<String, f64>,
) -> VariantSummary {
    let is_baseline = variant == baseline;
    let metrics = g
        .metric_names()
        .into_iter()
        .map(|name| {
            let values = g.values(&name);
            let t = threshold(&name, thresholds);
            let mut m = compare_metric(&name, &values, &base.values(&name), t);
            if is_baseline {
                m.ratio = Some(1.0);
                m.ci_low = None;
                m.ci_high = None;
                m.ci_level = None;
                m.verdict = Verdict::Baseline;
                m.note = None;
            }
            (name, m)
        })
        .collect();
    VariantSummary {
        variant: variant.to_string(),
        baseline: baseline.to_string(),
        valid_runs: g.valid.len() as u32 - g.latency_only,
        invalid_runs: g.invalid,
        latency_only_runs: g.latency_only,
        sampling_ratio: sampling::nominal_ratio(&g.env),
        metrics,
    }
}

/// (z + z(0.80)) / z, z the two-sided normal quantile of an interval's `level` (1.96 at 95%):
/// a true change this many half-widths away from 1 lands with its interval clear of 1 in 80%
/// of repetitions of the experiment.
pub fn mde_per_half_width(level: f64) -> f64 {
    let z = interval::z_two_sided(level);
    (z + 0.841_6) / z
}

fn half_width(lo: f64, hi: f64) -> f64 {
    (1.0 - lo).max(hi - 1.0).max(0.0)
}

fn noise_floor(s: &VariantSummary) -> Calibration {
    let metrics = s
        .metrics
        .iter()
        .filter_map(|(name, m)| {
            let (lo, hi) = (m.ci_low?, m.ci_high?);
            Some((
                name.clone(),
                NoiseFloor {
                    ratio: m.ratio?,
                    ci_low: lo,
                    ci_high: hi,
                    half_width: half_width(lo, hi),
                    mde: half_width(lo, hi)
                        * mde_per_half_width(m.ci_level.unwrap_or(interval::TARGET_LEVEL)),
                },
            ))
        })
        .collect();
    Calibration {
        variant: s.variant.clone(),
        metrics,
    }
}

#[cfg(test)]
pub(crate) mod tests;
