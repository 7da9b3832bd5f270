//! Hand-built chart models for the chart tests: realistic figures and degenerate shapes.

use super::super::model::{CapacityPoint, ChartModel, Interval, OverheadSeries, VariantChart};

/// An interval of `value` ± `half`.
pub fn ci(value: f64, half: f64) -> Interval {
    Interval {
        value,
        low: value - half,
        high: value + half,
    }
}

/// A percentile curve (µs) with p50 ≈ 2 ms and p99 ≈ 8 ms at `scale` 1, up to 99.999%.
pub fn latency(scale: f64) -> Vec<(f64, f64)> {
    // (nines, ms): 0% .. 99.999%, piecewise linear in nines.
    const KNOTS: [(f64, f64); 7] = [
        (0.0, 0.7),
        (0.301, 2.0),
        (1.0, 4.0),
        (2.0, 8.0),
        (3.0, 14.0),
        (4.0, 22.0),
        (5.0, 30.0),
    ];
    let pcts = [
        0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 92.5, 95.0, 97.5,
        99.0, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999,
    ];
    pcts.iter()
        .map(|&p: &f64| {
            let x = -(1.0 - p / 100.0).log10();
            let ms = KNOTS
                .windows(2)
                .find(|w| x <= w[1].0)
                .map_or(KNOTS[6].1, |w| {
                    let t = (x - w[0].0) / (w[1].0 - w[0].0);
                    w[0].1 + t * (w[1].1 - w[0].1)
                });
            (p, ms * 1000.0 * scale)
        })
        .collect()
}

/// A variant with realistic figures; `load` 0 is the baseline, 1 full tracing.
pub fn variant(name: &str, baseline: bool, load: f64) -> VariantChart {
    let spans = if baseline {
        None
    } else {
        Some(20_000.0 * load)
    };
    VariantChart {
        name: name.to_string(),
        baseline,
        latency_percentiles: latency(1.0 + 0.15 * load),
        cpu_us_per_request: Some(ci(250.0 + 80.0 * load, 6.0 + 4.0 * load)),
        rss_mean_mb: vec![
            ("web".to_string(), ci(20.0 + 2.5 * load, 0.3)),
            ("worker".to_string(), ci(15.0 + 1.2 * load, 0.2)),
        ],
        throughput_rps: Some(ci(400.0 - 6.0 * load, 3.0)),
        spans_received: Some(spans.map_or(0.0, |s| s * 0.995)),
        spans_expected: spans,
        capacity_steps: Vec::new(),
        capacity_rps: None,
    }
}

/// Overhead series for the given sampling ratios.
pub fn overhead(ratios: &[f64]) -> Vec<OverheadSeries> {
    let series = |metric: &str, full: f64, half: f64| OverheadSeries {
        metric: metric.to_string(),
        points: ratios
            .iter()
            .map(|&r| (r, ci(full * r.sqrt(), half)))
            .collect(),
    };
    vec![
        series("CPU per request", 32.0, 3.0),
        series("p99 latency", 15.0, 5.0),
        series("Throughput", -1.5, 1.0),
        series("RSS (web)", 12.5, 1.5),
    ]
}

/// Three variants: off (baseline), 10% and 100% sampling.
pub fn realistic() -> ChartModel {
    ChartModel {
        scenario: "checkout-api".to_string(),
        variants: vec![
            variant("off", true, 0.0),
            variant("sampled-10%", false, 0.1),
            variant("sampled-100%", false, 1.0),
        ],
        overhead: overhead(&[0.1, 1.0]),
        slo_p99_ms: None,
    }
}

/// The realistic variants with capacity searches: latency climbs towards each knee (the SLO
/// 10 ms), five repetitions of steps around it.
pub fn capacity() -> ChartModel {
    let mut model = realistic();
    for (v, knee) in model.variants.iter_mut().zip([2_400.0, 2_300.0, 1_900.0]) {
        let mut rates = vec![250.0, 500.0, 1_000.0, 2_000.0, 4_000.0];
        rates.extend((0..5).flat_map(|k| {
            let r = knee * (0.97 + 0.01 * f64::from(k));
            [r, r * 1.04]
        }));
        v.capacity_steps = rates
            .iter()
            .map(|&rate| {
                let load = rate / knee;
                let p50 = 0.6 / (1.05 - load.min(1.0)).max(0.02);
                let p99 = if load > 1.0 {
                    800.0 * load
                } else {
                    3.0 / (1.05 - load).max(0.02)
                };
                CapacityPoint {
                    rate,
                    p50_ms: p50.min(400.0),
                    p99_ms: p99,
                    pass: p99 <= 10.0,
                    first: rate <= 4_000.0 && rate.fract() == 0.0,
                }
            })
            .collect();
        v.capacity_rps = Some(ci(knee, knee * 0.02));
    }
    model.slo_p99_ms = Some(10.0);
    model
}

/// A seven-variant sampling sweep.
pub fn sweep() -> ChartModel {
    let rates = [
        ("always_off", 0.0),
        ("1%", 0.01),
        ("10%", 0.1),
        ("25%", 0.25),
        ("50%", 0.5),
        ("100%", 1.0),
    ];
    let mut variants = vec![variant("off", true, 0.0)];
    variants.extend(rates.iter().map(|(n, r)| variant(n, false, *r)));
    ChartModel {
        scenario: "sampling-sweep".to_string(),
        variants,
        overhead: overhead(&rates.map(|(_, r)| r)),
        slo_p99_ms: None,
    }
}

/// `n` variants with long names and no overhead series.
pub fn many(n: usize) -> ChartModel {
    let protocols = ["grpc", "http-protobuf", "http-json"];
    let compression = ["gzip", "none"];
    let mut variants = vec![variant("baseline-no-telemetry-at-all", true, 0.0)];
    variants.extend((1..n).map(|i| {
        let name = format!(
            "{}/{}/batch-{}/queue-{}",
            protocols[i % 3],
            compression[i % 2],
            128 << (i % 4),
            2048 << (i % 3)
        );
        variant(&name, false, i as f64 / n as f64)
    }));
    ChartModel {
        scenario: "exporter-matrix-with-a-rather-long-scenario-name".to_string(),
        variants,
        overhead: Vec::new(),
        slo_p99_ms: None,
    }
}

/// One variant: the baseline alone, no overhead.
pub fn single() -> ChartModel {
    ChartModel {
        scenario: "solo".to_string(),
        variants: vec![variant("off", true, 0.0)],
        overhead: Vec::new(),
        slo_p99_ms: None,
    }
}

/// Zeros everywhere, intervals without width, one latency point, one overhead point.
pub fn degenerate() -> ChartModel {
    let zero = ci(0.0, 0.0);
    let v = |name: &str, baseline: bool| VariantChart {
        name: name.to_string(),
        baseline,
        latency_percentiles: vec![(50.0, 2000.0)],
        cpu_us_per_request: Some(zero),
        rss_mean_mb: vec![("web".to_string(), ci(20.0, 0.0))],
        throughput_rps: Some(zero),
        spans_received: Some(0.0),
        spans_expected: None,
        capacity_steps: Vec::new(),
        capacity_rps: None,
    };
    ChartModel {
        scenario: String::new(),
        variants: vec![v("off", true), v("on", false)],
        overhead: vec![OverheadSeries {
            metric: "CPU per request".to_string(),
            points: vec![(1.0, zero)],
        }],
        slo_p99_ms: None,
    }
}
