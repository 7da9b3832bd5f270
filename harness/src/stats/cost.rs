//! The cost model: CPU overhead per request as a straight line in the sampling ratio,
//! `overhead(r) = floor + r * per_sampled_request`, by ordinary least squares with 95% intervals
//! (Student's t). The baseline's runs are part of the fit, so its noise is in the intervals.

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

/// Inverse of a symmetric 3x3 matrix; `None` when (nearly) singular.
fn invert3(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c =
        |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let cof = [
        [c(1, 2, 1, 2), -c(1, 2, 0, 2), c(1, 2, 0, 1)],
        [-c(0, 2, 1, 2), c(0, 2, 0, 2), -c(0, 2, 0, 1)],
        [c(0, 1, 1, 2), -c(0, 1, 0, 2), c(0, 1, 0, 1)],
    ];
    let det = m[0][0] * cof[0][0] + m[0][1] * cof[0][1] + m[0][2] * cof[0][2];
    let scale = m.iter().flatten().fold(0.0_f64, |a, v| a.max(v.abs()));
    if det.abs() <= 1e-12 * scale.powi(3) {
        return None;
    }
    // The adjugate is the transposed cofactor matrix.
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = cof[j][i] / det;
        }
    }
    Some(inv)
}

/// Least squares of `y = baseline + floor * sdk + per_sampled * r` over the baseline's runs
/// (`sdk = 0, r = 0`) and the candidates' runs (`sdk = 1`, their ratio `r`), so the baseline's
/// own noise is in every interval. Returns (baseline, floor, per_sampled, R², n).
fn fit_with_baseline(
    candidates: &[(f64, f64)],
    baseline: &[f64],
) -> Option<(Estimate, Estimate, Estimate, f64, usize)> {
    let rows: Vec<([f64; 3], f64)> = baseline
        .iter()
        .map(|&y| ([1.0, 0.0, 0.0], y))
        .chain(candidates.iter().map(|&(r, y)| ([1.0, 1.0, r], y)))
        .collect();
    let n = rows.len();
    if n < 4 || baseline.is_empty() {
        return None;
    }
    let mut xtx = [[0.0; 3]; 3];
    let mut xty = [0.0; 3];
    for (x, y) in &rows {
        for i in 0..3 {
            xty[i] += x[i] * y;
            for j in 0..3 {
                xtx[i][j] += x[i] * x[j];
            }
        }
    }
    let inv = invert3(xtx)?;
    let beta: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| inv[i][j] * xty[j]).sum())
        .collect();
    let predict = |x: &[f64; 3]| (0..3).map(|i| beta[i] * x[i]).sum::<f64>();
    let sse: f64 = rows.iter().map(|(x, y)| (y - predict(x)).powi(2)).sum();
    let my = rows.iter().map(|r| r.1).sum::<f64>() / n as f64;
    let syy: f64 = rows.iter().map(|r| (r.1 - my).powi(2)).sum();
    let s2 = sse / (n - 3) as f64;
    let t = t_975(n - 3);
    let est = |i: usize| {
        let half = t * (s2 * inv[i][i]).max(0.0).sqrt();
        Estimate {
            value: beta[i],
            ci_low: beta[i] - half,
            ci_high: beta[i] + half,
        }
    };
    let r_squared = if syy > 0.0 { 1.0 - sse / syy } else { 1.0 };
    Some((est(0), est(1), est(2), r_squared, n))
}

/// The cost model from (sampling ratio, CPU µs per request) of every valid run of the variants
/// with a known ratio and the CPU µs per request of the baseline's valid runs; read at `ratios`.
/// `None` without at least two distinct ratios and one baseline run.
pub fn model(runs: &[(f64, f64)], baseline: &[f64], ratios: &[f64]) -> Option<CostModel> {
    let (base, floor, slope, r_squared, n) = fit_with_baseline(runs, baseline)?;
    let mut predictions: Vec<CostPrediction> = ratios
        .iter()
        .map(|&r| {
            let us = floor.value + slope.value * r;
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
        baseline_us_per_request: base.value,
        floor_us: floor,
        per_sampled_request_us: slope,
        points: n as u32,
        r_squared,
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
        let m = model(&runs, &[200.0, 200.0], &[1.0, 0.0, 1.0]).unwrap();
        assert!((m.baseline_us_per_request - 200.0).abs() < 1e-9);
        assert!((m.floor_us.value - 10.0).abs() < 1e-9);
        assert!((m.per_sampled_request_us.value - 60.0).abs() < 1e-9);
        assert_eq!(m.points, 6);
        assert_eq!(m.predictions.len(), 2);
        // 70 µs per request at 1,000 req/s is 0.07 cores.
        assert!((m.predictions[1].cores_per_1000_rps - 0.07).abs() < 1e-12);
    }

    #[test]
    fn the_baselines_noise_widens_the_floor() {
        let runs = [
            (0.1, 212.0),
            (0.1, 209.0),
            (0.1, 215.0),
            (1.0, 262.0),
            (1.0, 270.0),
        ];
        let quiet = model(&runs, &[200.0, 200.0, 200.0], &[1.0]).unwrap();
        let noisy = model(&runs, &[180.0, 200.0, 220.0], &[1.0]).unwrap();
        let width = |e: Estimate| e.ci_high - e.ci_low;
        assert!(width(noisy.floor_us) > 1.5 * width(quiet.floor_us));
        assert!((noisy.floor_us.value - quiet.floor_us.value).abs() < 1e-9);
    }

    #[test]
    fn a_single_ratio_gives_no_model() {
        let runs = [(1.0, 260.0), (1.0, 262.0), (1.0, 258.0)];
        assert!(model(&runs, &[200.0, 201.0], &[1.0]).is_none());
        assert!(model(&[(0.1, 1.0), (1.0, 2.0), (0.5, 1.5)], &[], &[1.0]).is_none());
    }

    #[test]
    fn t_quantiles() {
        assert!((t_975(2) - 4.303).abs() < 1e-9);
        assert!((t_975(1000) - 1.9624).abs() < 1e-3);
    }
}
