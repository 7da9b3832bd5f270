//! What the charts draw: plain figures, already computed by the statistics stage. Chart code
//! reads these and draws; it never computes a statistic.

/// A figure with its confidence interval (`low == high == value` when there is none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The point estimate (a median).
    pub value: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Everything the charts of one report need.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartModel {
    /// Scenario name, for titles.
    pub scenario: String,
    /// Variants in scenario order (the baseline first).
    pub variants: Vec<VariantChart>,
    /// Change vs the baseline as a function of the sampling ratio: one series per metric.
    /// Empty when fewer than two variants have a known sampling ratio.
    pub overhead: Vec<OverheadSeries>,
    /// The capacity search's p99 bound, ms (`load.model = "capacity"`).
    pub slo_p99_ms: Option<f64>,
}

/// One variant's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantChart {
    /// Variant name (legend text).
    pub name: String,
    /// True for the baseline variant.
    pub baseline: bool,
    /// Latency percentile distribution over all valid runs' requests: (percentile in percent,
    /// e.g. 99.9, latency in µs), ascending in percentile, from 0 up to at most 99.999.
    pub latency_percentiles: Vec<(f64, f64)>,
    /// CPU µs per request over repetitions (median and its confidence interval).
    pub cpu_us_per_request: Option<Interval>,
    /// Mean RSS per process, MB (process name, median and interval), processes sorted by name.
    pub rss_mean_mb: Vec<(String, Interval)>,
    /// Achieved requests/s.
    pub throughput_rps: Option<Interval>,
    /// Spans received by the collector (median over repetitions).
    pub spans_received: Option<f64>,
    /// Spans the target says it produced (median), when the target reports it.
    pub spans_expected: Option<f64>,
    /// Every capacity step of the variant's searches, in the order measured.
    pub capacity_steps: Vec<CapacityPoint>,
    /// The variant's capacity, req/s (median and interval).
    pub capacity_rps: Option<Interval>,
}

/// One capacity step: an offered rate and the latency it gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacityPoint {
    /// Offered rate, requests/s.
    pub rate: f64,
    /// p50, ms.
    pub p50_ms: f64,
    /// p99, ms.
    pub p99_ms: f64,
    /// Whether the step held the SLO.
    pub pass: bool,
    /// True for the steps of the variant's first search (a ramp over the whole range: the
    /// chart draws its curve through them; later searches only probe the knee).
    pub first: bool,
}

/// Change vs the baseline of one metric, at each sampling ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct OverheadSeries {
    /// Metric label, e.g. "CPU per request".
    pub metric: String,
    /// (sampling ratio 0..=1, change in percent with its interval, e.g. 12.0 for +12%).
    pub points: Vec<(f64, Interval)>,
}
