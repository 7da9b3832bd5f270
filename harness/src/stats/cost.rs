//! The cost model: CPU overhead per request as a straight line in the sampling ratio,
//! `overhead(r) = floor + r * per_sampled_request`, by ordinary least squares with 95% intervals
//! of both coefficients (Student's t on n - 2 degrees of freedom).

use crate::results::{CostModel, CostPrediction, Estimate};

/// A least-squares line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Value at x = 0.
    pub intercept: Estimate,
    /// Change per unit of x.
    pub slope: Estimate,
    /// Coefficient of determination.
    pub r_squared: f64,
    /// Points.
    pub n: usize,
}

/// Fits `y = a + b x` to `points`. `None` with fewer than three points or fewer than two distinct
/// x values.
pub fn fit(points: &[(f64, f64)]) -> Option<Line> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= f64::EPSILON {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let sse: f64 = points.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
    let s2 = sse / (nf - 2.0);
    let se_b = (s2 / sxx).sqrt();
    let se_a = (s2 * (1.0 / nf + mx * mx / sxx)).sqrt();
    let t = t_975(n - 2);
    let r_squared = if syy > 0.0 { 1.0 - sse / syy } else { 1.0 };
    Some(Line {
        intercept: Estimate {
            value: a,
            ci_low: a - t * se_a,
            ci_high: a + t * se_a,
        },
        slope: Estimate {
            value: b,
            ci_low: b - t * se_b,
            ci_high: b + t * se_b,
        },
        r_squared,
        n,
    })
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (table to 30, then the normal
/// approximation's correction).
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => 1.960 + 2.4 / df as f64,
    }
}

/// The cost model from (sampling ratio, CPU µs per request) of every valid run with a known
/// ratio, measured against `baseline_us` (the baseline's median); read at `ratios`.
pub fn model(runs: &[(f64, f64)], baseline_us: f64, ratios: &[f64]) -> Option<CostModel> {
    let overhead: Vec<(f64, f64)> = runs.iter().map(|&(r, us)| (r, us - baseline_us)).collect();
    let line = fit(&overhead)?;
    let mut predictions: Vec<CostPrediction> = ratios
        .iter()
        .map(|&r| {
            let us = line.intercept.value + line.slope.value * r;
            CostPrediction {
                sampling_ratio: r,
                overhead_us_per_request: us,
                // µs per request x 1,000 requests/s = µs of CPU per second / 1e6 = cores.
                cores_per_1000_rps: us * 1_000.0 / 1e6,
            }
        })
        .collect();
    predictions.sort_by(|a, b| a.sampling_ratio.total_cmp(&b.sampling_ratio));
    predictions.dedup_by(|a, b| (a.sampling_ratio - b.sampling_ratio).abs() < 1e-12);
    Some(CostModel {
        baseline_us_per_request: baseline_us,
        floor_us: line.intercept,
        per_sampled_request_us: line.slope,
        points: line.n as u32,
        r_squared: line.r_squared,
        predictions,
        speed_adjusted: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_line() {
        let pts: Vec<(f64, f64)> = [0.0, 0.1, 0.5, 1.0]
            .iter()
            .map(|&x| (x, 12.0 + 60.0 * x))
            .collect();
        let l = fit(&pts).unwrap();
        assert!((l.intercept.value - 12.0).abs() < 1e-9);
        assert!((l.slope.value - 60.0).abs() < 1e-9);
        assert!((l.slope.ci_high - l.slope.ci_low).abs() < 1e-6);
        assert!((l.r_squared - 1.0).abs() < 1e-12);
    }

    #[test]
    fn noisy_line_has_an_interval_around_the_truth() {
        // y = 10 + 50x with a fixed ±3 zig-zag.
        let pts: Vec<(f64, f64)> = (0..12)
            .map(|i| {
                let x = f64::from(i % 4) / 3.0;
                (x, 10.0 + 50.0 * x + if i % 2 == 0 { 3.0 } else { -3.0 })
            })
            .collect();
        let l = fit(&pts).unwrap();
        assert!(l.slope.ci_low < 50.0 && 50.0 < l.slope.ci_high, "{l:?}");
        assert!(
            l.intercept.ci_low < 10.0 && 10.0 < l.intercept.ci_high,
            "{l:?}"
        );
    }

    #[test]
    fn degenerate_inputs() {
        assert!(fit(&[(0.0, 1.0), (1.0, 2.0)]).is_none());
        assert!(fit(&[(0.5, 1.0), (0.5, 2.0), (0.5, 3.0)]).is_none());
    }

    #[test]
    fn model_reads_cores_per_thousand_requests() {
        let runs = [(0.0, 210.0), (0.0, 210.0), (1.0, 270.0), (1.0, 270.0)];
        let m = model(&runs, 200.0, &[1.0, 0.0, 1.0]).unwrap();
        assert!((m.floor_us.value - 10.0).abs() < 1e-9);
        assert!((m.per_sampled_request_us.value - 60.0).abs() < 1e-9);
        assert_eq!(m.predictions.len(), 2);
        // 70 µs per request at 1,000 req/s is 0.07 cores.
        assert!((m.predictions[1].cores_per_1000_rps - 0.07).abs() < 1e-12);
    }

    #[test]
    fn t_quantiles() {
        assert!((t_975(2) - 4.303).abs() < 1e-9);
        assert!((t_975(1000) - 1.9624).abs() < 1e-3);
    }
}
