//! Gathers what the charts draw from the analysed results. Figures come from the summary and
//! from `stats`; nothing is computed here beyond picking and unit conversion.

use super::model::{CapacityPoint, ChartModel, Interval, OverheadSeries, VariantChart};
use crate::results::{MetricSummary, Results, VariantSummary};
use crate::stats::{delivery::Delivery, distribution};

fn interval(m: &MetricSummary) -> Interval {
    let [low, high] = m.median_ci.unwrap_or([m.median, m.median]);
    Interval {
        value: m.median,
        low,
        high,
    }
}

/// (metric, label) of the overhead chart's series.
const OVERHEAD: [(&str, &str); 4] = [
    ("cpu_adjusted", "CPU per request, speed-adjusted"),
    ("cpu_per_request", "CPU per request, raw"),
    ("p50", "p50 latency"),
    ("p99", "p99 latency"),
];

/// Every measured capacity step of `variant`, those of its first search marked.
fn capacity_points(results: &Results, variant: &str) -> Vec<CapacityPoint> {
    let searches: Vec<_> = results
        .kept_runs()
        .filter(|r| r.variant == variant)
        .filter_map(|r| Some((r.repetition, r.capacity.as_ref()?)))
        .collect();
    let first = searches.iter().map(|(rep, _)| *rep).min();
    searches
        .iter()
        .flat_map(|(rep, c)| c.steps.iter().map(move |st| (Some(*rep) == first, st)))
        .filter(|(_, st)| st.requests > 0)
        .map(|(first, st)| CapacityPoint {
            rate: st.rate,
            p50_ms: st.p50_us as f64 / 1000.0,
            p99_ms: st.p99_us as f64 / 1000.0,
            pass: st.pass,
            first,
        })
        .collect()
}

/// The chart model of `results` with its `delivery` figures.
pub fn chart_model(results: &Results, delivery: &[Delivery]) -> ChartModel {
    let sc = &results.scenario;
    ChartModel {
        scenario: sc.name.clone(),
        variants: results
            .summary
            .iter()
            .map(|s| variant(results, s, delivery))
            .collect(),
        overhead: overhead(results),
        slo_p99_ms: sc.capacity.map(|c| c.slo.p99_us as f64 / 1000.0),
    }
}

/// The figures of one variant `s`.
fn variant(results: &Results, s: &VariantSummary, delivery: &[Delivery]) -> VariantChart {
    let histograms: Vec<_> = results
        .kept_runs()
        .filter(|r| r.valid && r.variant == s.variant)
        .filter_map(|r| r.latency_us.histogram().ok())
        .collect();
    let merged = distribution::merge(&histograms);
    let d = delivery.iter().find(|d| d.variant == s.variant);
    VariantChart {
        name: s.variant.clone(),
        baseline: s.variant == results.scenario.baseline,
        latency_percentiles: distribution::percentile_curve(&merged),
        cpu_us_per_request: s.metrics.get("cpu_per_request").map(interval),
        rss_mean_mb: s
            .metrics
            .iter()
            .filter_map(|(k, m)| Some((k.strip_prefix("rss_mean.")?.to_string(), interval(m))))
            .collect(),
        throughput_rps: s.metrics.get("throughput").map(interval),
        spans_received: d.map(|d| d.spans_received),
        spans_expected: d.and_then(|d| d.target.map(|t| t[0])),
        capacity_steps: capacity_points(results, &s.variant),
        capacity_rps: s.metrics.get("capacity").map(interval),
    }
}

/// The overhead chart's series: each metric's change against the baseline by sampling ratio,
/// when two or more variants sample at a ratio.
fn overhead(results: &Results) -> Vec<OverheadSeries> {
    let sc = &results.scenario;
    let sampled: Vec<_> = results
        .summary
        .iter()
        .filter(|s| s.variant != sc.baseline && Some(&s.variant) != sc.calibration_variant.as_ref())
        .filter_map(|s| Some((s.sampling_ratio?, s)))
        .collect();
    if sampled.len() < 2 {
        return Vec::new();
    }
    OVERHEAD
        .iter()
        .map(|(metric, label)| OverheadSeries {
            metric: (*label).to_string(),
            points: sampled
                .iter()
                .filter_map(|(r, s)| Some((*r, change(s.metrics.get(*metric)?)?)))
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The change against the baseline in percent, with its interval (the change itself where
/// there is none); `None` without a ratio.
fn change(m: &MetricSummary) -> Option<Interval> {
    let pct = |x: f64| (x - 1.0) * 100.0;
    let ratio = m.ratio?;
    Some(Interval {
        value: pct(ratio),
        low: pct(m.ci_low.unwrap_or(ratio)),
        high: pct(m.ci_high.unwrap_or(ratio)),
    })
}
