//! The statistics stored in `results.json` next to the runs: per-variant summaries against the
//! baseline, the A/A noise floor, the cost model and the recommendation. Computed by `stats`,
//! rendered by `report`; stored so that other tools read the same numbers the report shows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One variant against the baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariantSummary {
    /// Variant name.
    pub variant: String,
    /// The variant it is compared with.
    pub baseline: String,
    /// Valid runs of this variant (the statistics use these, and the CPU, memory and delivery
    /// figures of the `latency_only_runs`).
    pub valid_runs: u32,
    /// Runs excluded because they were invalid (those invalid for latency only included).
    pub invalid_runs: u32,
    /// Of the invalid runs, those invalid for latency only (`runs[].latency_only`): their CPU,
    /// memory and delivery figures are in the statistics, their latency is not.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_only_runs: u32,
    /// The sampling ratio its environment asks for (0..=1); `null` when the SDK is disabled or
    /// the sampler is not one of the standard ones.
    pub sampling_ratio: Option<f64>,
    /// Per metric (`cpu_per_request`, `p50`, `p90`, `p99`, `p999`, `throughput`, `rss_mean`,
    /// `rss_peak`, `rss_mean.<process>`, `rss_peak.<process>`, `spans_per_request`).
    pub metrics: BTreeMap<String, MetricSummary>,
}

/// One metric of one variant against the baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricSummary {
    /// Median over the variant's valid runs (the metric's unit: µs, req/s, MB, spans).
    pub median: f64,
    /// Confidence interval of that median, [low, high]: the order statistics around it, at
    /// the level `median_ci_level` (95% or more from 6 runs; 75% at 3, 87.5% at 4, 93.75% at 5:
    /// no distribution-free interval does better with so few).
    pub median_ci: Option<[f64; 2]>,
    /// The level of `median_ci` (0.95 = 95%); absent in files written before it was recorded,
    /// whose intervals came from a percentile bootstrap said to be 95%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_ci_level: Option<f64>,
    /// Median over the baseline's valid runs.
    pub baseline_median: f64,
    /// `median / baseline_median`; `null` when the baseline's median is 0.
    pub ratio: Option<f64>,
    /// Lower bound of the confidence interval of the ratio: the Mann-Whitney (Hodges-Lehmann)
    /// interval of a scale change between the variant's runs and the baseline's, at the level
    /// `ci_level`: 95% or more from 4 runs against 4, 90% at 3 against 3 (the most any
    /// distribution-free interval allows there).
    pub ci_low: Option<f64>,
    /// Upper bound of that interval.
    pub ci_high: Option<f64>,
    /// The level of the interval (0.95 = 95%); absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_level: Option<f64>,
    /// The decision threshold used for the verdict, as a fraction (0.05 = 5%).
    pub threshold: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Why there is no verdict, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a comparison concludes about one metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Verdict {
    /// Worse, and the whole interval lies beyond the threshold.
    #[serde(rename = "regression")]
    Regression,
    /// Better, and the whole interval lies beyond the threshold.
    #[serde(rename = "improvement")]
    Improvement,
    /// The whole interval lies within the threshold.
    #[serde(rename = "no significant change")]
    NoSignificantChange,
    /// The interval reaches past the threshold on one side but not wholly: more runs needed.
    #[serde(rename = "inconclusive")]
    Inconclusive,
    /// Fewer than three valid runs on one side: no verdict.
    #[serde(rename = "too few runs")]
    TooFewRuns,
    /// The baseline's value is 0, so there is no ratio.
    #[serde(rename = "not comparable")]
    NotComparable,
    /// This is the baseline itself.
    #[serde(rename = "baseline")]
    Baseline,
}

impl Verdict {
    /// The verdict as the report prints it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
            Self::NoSignificantChange => "no significant change",
            Self::Inconclusive => "inconclusive",
            Self::TooFewRuns => "too few runs",
            Self::NotComparable => "not comparable",
            Self::Baseline => "baseline",
        }
    }
}

/// How the target's CPU was adjusted for the machine's speed (see `stats::speed`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct SpeedFit {
    /// Elasticity of the target's CPU per request to the load generator's.
    pub beta: f64,
    /// The generator CPU per request (µs) that adjusted figures are carried to.
    pub reference_generator_us: f64,
    /// Runs in the fit.
    pub runs: u32,
}

/// The noise floor, measured by running the baseline twice per block (A/A).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    /// The baseline's copy.
    pub variant: String,
    /// Per metric: the A/A ratio's interval and the minimum detectable effect.
    pub metrics: BTreeMap<String, NoiseFloor>,
}

/// The noise floor of one metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct NoiseFloor {
    /// Median ratio of the copy to the baseline (ideally 1).
    pub ratio: f64,
    /// The A/A ratio's interval (at the level of the summary's `ci_level`).
    pub ci_low: f64,
    /// Upper bound.
    pub ci_high: f64,
    /// The noise, as a fraction: the largest distance of the A/A interval from 1 (its
    /// half-width, taking the wider side).
    #[serde(default)]
    pub half_width: f64,
    /// Minimum detectable effect, as a fraction: the true change that runs of this design show
    /// as significant (interval clear of no change) about 4 times in 5, `(z + 0.84) / z` times
    /// the half-width, z the normal quantile of the interval's level (1.96 at 95%). To be called
    /// a regression beyond a threshold t, a change must exceed about t + mde.
    pub mde: f64,
}

/// CPU per request as a straight line in the sampling ratio:
/// `overhead(r) = floor + r * per_sampled_request`, fitted by least squares on every valid run
/// of every variant with a known sampling ratio, against the baseline's median.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CostModel {
    /// The baseline's median CPU per request, µs (the zero the overhead is measured from).
    pub baseline_us_per_request: f64,
    /// CPU µs per request with the SDK on and nothing sampled.
    pub floor_us: Estimate,
    /// Extra CPU µs per request for each sampled request (the slope at ratio 1).
    pub per_sampled_request_us: Estimate,
    /// Runs in the fit.
    pub points: u32,
    /// Coefficient of determination.
    pub r_squared: f64,
    /// The fit read at the sampling ratios of the scenario's variants.
    pub predictions: Vec<CostPrediction>,
    /// True when fitted on speed-adjusted CPU (`cpu_adjusted`), false when on raw CPU per
    /// request.
    #[serde(default)]
    pub speed_adjusted: bool,
}

/// A fitted value with its 95% interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    /// Value.
    pub value: f64,
    /// Lower bound.
    pub ci_low: f64,
    /// Upper bound.
    pub ci_high: f64,
}

/// The cost model at one sampling ratio.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct CostPrediction {
    /// Sampling ratio, 0..=1.
    pub sampling_ratio: f64,
    /// Overhead, CPU µs per request.
    pub overhead_us_per_request: f64,
    /// The same as cores needed per 1,000 requests/s.
    pub cores_per_1000_rps: f64,
}

/// The highest sampling rate that fits the scenario's budget.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recommendation {
    /// Metric -> largest allowed increase over the baseline, as a fraction.
    pub budget: BTreeMap<String, f64>,
    /// The variant chosen; `null` when none fits.
    pub chosen_variant: Option<String>,
    /// Its sampling ratio.
    pub sampling_ratio: Option<f64>,
    /// Why: the evidence, or why no variant fits.
    pub reason: String,
}

/// For `skip_serializing_if`: a count of zero is left out.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}
