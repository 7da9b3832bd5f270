//! Distribution-free confidence intervals with their exact level. Pure.
//!
//! The percentile bootstrap of a median, used before, does not reach the level it was said to
//! have with few repetitions: with 3 runs against 3 its interval of the ratio of medians is the
//! range of the cross-ratios, `[min a / max b, max a / min b]`, which holds the true ratio in
//! exactly 90% of experiments (1 - 2/C(6,3)), whatever the distribution; its interval of a
//! median of 3 is `[min, max]`, 75%. No interval free of distributional assumptions can do
//! better at those sizes. So the intervals here are the classic order-statistic ones, and each
//! carries its exact level: 95% or more when the sample sizes allow it, else the most they
//! allow, stated beside the interval.
//!
//! - Ratio of two samples (variant against baseline): the Mann-Whitney (Hodges-Lehmann)
//!   interval for a scale change, the k-th smallest and k-th largest of the n x m ratios
//!   `a_i / b_j`; exact under the model that the variant's values are the baseline's times a
//!   constant (a shift of their logarithms).
//! - Median of one sample: the k-th smallest and k-th largest value, from the binomial
//!   distribution of how many values fall below the median.

/// The level aimed at.
pub const TARGET_LEVEL: f64 = 0.95;

/// Sizes up to which the Mann-Whitney distribution is counted exactly (beyond: the normal
/// approximation, which is very close there).
const EXACT_PRODUCT: usize = 2_500;

/// An interval and the probability that intervals made this way hold the true value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Its confidence level (0.95 = 95%).
    pub level: f64,
}

/// Number of the n·m+1 values of the Mann-Whitney statistic `U` for samples of `n` and `m`,
/// counted over the C(n+m, n) equally likely orders: `counts[u]`.
fn mann_whitney_counts(n: usize, m: usize) -> Vec<f64> {
    // f[j][u]: orders of i values of the first sample and j of the second with U = u, built up
    // one value of the first sample at a time (a new largest first-sample value adds the
    // number of second-sample values below it).
    let mut f: Vec<Vec<f64>> = (0..=m).map(|_| vec![1.0]).collect();
    for i in 1..=n {
        let mut g: Vec<Vec<f64>> = Vec::with_capacity(m + 1);
        for j in 0..=m {
            let mut row = vec![0.0; i * j + 1];
            // The largest of all i + j values is from the first sample (adds j) or the second.
            for (u, c) in f[j].iter().enumerate() {
                row[u + j] += c;
            }
            if j > 0 {
                for (u, c) in g[j - 1].iter().enumerate() {
                    row[u] += c;
                }
            }
            g.push(row);
        }
        f = g;
    }
    f.swap_remove(m)
}

/// P(U <= u) for every u, samples of `n` and `m`.
fn mann_whitney_cdf(n: usize, m: usize) -> Vec<f64> {
    let counts = mann_whitney_counts(n, m);
    let total: f64 = counts.iter().sum();
    let mut acc = 0.0;
    counts
        .iter()
        .map(|c| {
            acc += c;
            acc / total
        })
        .collect()
}

/// The standard normal CDF (Abramowitz and Stegun 7.1.26 through erf; error under 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Picks the order statistic `k` (1-based, from each end) of the largest interval whose level,
/// `1 - 2 P(X <= k - 1)`, is at least [`TARGET_LEVEL`]; when even `k = 1` falls short, `k = 1`.
/// `tail(j)` is `P(X <= j)`.
fn choose_k(max_k: usize, tail: impl Fn(usize) -> f64) -> (usize, f64) {
    let level = |k: usize| 1.0 - 2.0 * if k == 0 { 0.0 } else { tail(k - 1) };
    let mut best = (1, level(1).max(0.0));
    for k in 2..=max_k {
        let l = level(k);
        if l < TARGET_LEVEL {
            break;
        }
        best = (k, l);
    }
    best
}

/// The interval of the ratio of `variant`'s level to `baseline`'s (values > 0 in `baseline`):
/// order statistics of the n·m ratios `variant_i / baseline_j`. `None` for fewer than two
/// values on a side or a baseline value that is not positive.
pub fn ratio(variant: &[f64], baseline: &[f64]) -> Option<Interval> {
    if variant.len() < 2
        || baseline.len() < 2
        || baseline.iter().any(|v| *v <= 0.0 || !v.is_finite())
    {
        return None;
    }
    let (n, m) = (variant.len(), baseline.len());
    let mut ratios: Vec<f64> = variant
        .iter()
        .flat_map(|x| baseline.iter().map(move |y| x / y))
        .collect();
    if ratios.iter().any(|r| !r.is_finite()) {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let half = n * m / 2;
    let (k, level) = if n * m <= EXACT_PRODUCT {
        let cdf = mann_whitney_cdf(n, m);
        choose_k(half.max(1), |j| cdf[j.min(cdf.len() - 1)])
    } else {
        let (nf, mf) = (n as f64, m as f64);
        let mean = nf * mf / 2.0;
        let sd = (nf * mf * (nf + mf + 1.0) / 12.0).sqrt();
        choose_k(half.max(1), |j| normal_cdf((j as f64 + 0.5 - mean) / sd))
    };
    Some(Interval {
        low: ratios[k - 1],
        high: ratios[ratios.len() - k],
        level,
    })
}

/// P(Bin(n, 1/2) <= j).
fn binomial_half_cdf(n: usize, j: usize) -> f64 {
    let mut term = 0.5_f64.powi(i32::try_from(n).unwrap_or(i32::MAX)); // C(n, 0) / 2^n
    let mut acc = term;
    for i in 1..=j.min(n) {
        term *= (n + 1 - i) as f64 / i as f64;
        acc += term;
    }
    acc.min(1.0)
}

/// The interval of the median of `values`: its k-th smallest and k-th largest value. `None`
/// for fewer than two values.
pub fn median(values: &[f64]) -> Option<Interval> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let (k, level) = choose_k(n / 2, |j| binomial_half_cdf(n, j));
    Some(Interval {
        low: v[k - 1],
        high: v[n - k],
        level,
    })
}

/// The two-sided standard normal quantile `z` with `P(|Z| <= z) = level` (bisection on the
/// CDF: enough for turning an interval's level into a multiple of its half-width).
pub fn z_two_sided(level: f64) -> f64 {
    let target = 0.5 + level.clamp(0.0, 0.999_999) / 2.0;
    let (mut lo, mut hi) = (0.0_f64, 10.0_f64);
    for _ in 0..80 {
        let mid = f64::midpoint(lo, hi);
        if normal_cdf(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f64::midpoint(lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng as _, SeedableRng as _};

    #[test]
    fn the_mann_whitney_counts_are_exact() {
        // 3 against 3: 20 orders, U = 0 and U = 9 once each, the distribution symmetric.
        let c = mann_whitney_counts(3, 3);
        assert_eq!(c, [1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 2.0, 1.0, 1.0]);
        let c = mann_whitney_counts(4, 4);
        assert!((c.iter().sum::<f64>() - 70.0).abs() < 1e-9);
        assert_eq!(c.len(), 17);
        assert!((mann_whitney_counts(2, 5).iter().sum::<f64>() - 21.0).abs() < 1e-9);
    }

    #[test]
    fn levels_are_the_exact_ones_for_small_samples() {
        let three = [1.0, 2.0, 3.0];
        let r = ratio(&three, &three).unwrap();
        assert!((r.level - 0.9).abs() < 1e-12, "3 v 3: {r:?}");
        assert!((r.low - 1.0 / 3.0).abs() < 1e-12 && (r.high - 3.0).abs() < 1e-12);
        let four = [1.0, 2.0, 3.0, 4.0];
        assert!((ratio(&four, &four).unwrap().level - (1.0 - 2.0 / 70.0)).abs() < 1e-12);
        let five = [1.0, 2.0, 3.0, 4.0, 5.0];
        // k = 3: 1 - 2 * 4/252.
        assert!((ratio(&five, &five).unwrap().level - (1.0 - 8.0 / 252.0)).abs() < 1e-12);
        assert!((median(&three).unwrap().level - 0.75).abs() < 1e-12);
        let six = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert!((median(&six).unwrap().level - (1.0 - 2.0 / 64.0)).abs() < 1e-12);
        let twelve: Vec<f64> = (1..=12).map(f64::from).collect();
        let m = median(&twelve).unwrap();
        assert!(m.level >= 0.95 && (m.low, m.high) == (3.0, 10.0), "{m:?}");
    }

    #[test]
    fn no_interval_without_two_values_or_with_a_zero_baseline() {
        assert_eq!(ratio(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(ratio(&[1.0, 2.0], &[0.0, 1.0]), None);
        assert_eq!(median(&[1.0]), None);
        assert!(
            ratio(&[0.0, 0.0], &[1.0, 2.0]).is_some(),
            "a zero numerator is a ratio"
        );
    }

    #[test]
    fn the_normal_helpers_are_right() {
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((z_two_sided(0.95) - 1.959_964).abs() < 1e-4);
        assert!((z_two_sided(0.90) - 1.644_854).abs() < 1e-4);
        // The normal approximation agrees with the exact count where both are used.
        let cdf = mann_whitney_cdf(40, 40);
        let sd = (40.0 * 40.0 * 81.0 / 12.0_f64).sqrt();
        let approx = normal_cdf((600.0 + 0.5 - 800.0) / sd);
        assert!((cdf[600] - approx).abs() < 0.002, "{} {approx}", cdf[600]);
    }

    /// Coverage, simulated: for samples of several sizes from a skewed and a heavy-tailed
    /// distribution, the share of intervals holding the true ratio (and the true median) is
    /// at least the stated level, less three standard errors of the simulation.
    #[test]
    fn simulated_coverage_reaches_the_stated_level() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(19);
        let trials = 2_000;
        for (n, m) in [(3, 3), (4, 4), (5, 5), (6, 6), (12, 12), (6, 12)] {
            for heavy in [false, true] {
                // Baseline values x, variant values 1.1 x: the true ratio is 1.1.
                let draw = |rng: &mut rand::rngs::StdRng| -> f64 {
                    if heavy {
                        // Pareto, shape 1.5: infinite variance.
                        500.0 / (1.0 - rng.random::<f64>()).powf(1.0 / 1.5)
                    } else {
                        // Log-normal around 500 with a 15% spread.
                        let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                        500.0 * (0.15 * z).exp()
                    }
                };
                let (mut held, mut level, mut median_held, mut median_level) = (0, 0.0, 0, 0.0);
                let true_median = if heavy {
                    500.0 * 2_f64.powf(1.0 / 1.5)
                } else {
                    500.0
                };
                for _ in 0..trials {
                    let a: Vec<f64> = (0..n).map(|_| 1.1 * draw(&mut rng)).collect();
                    let b: Vec<f64> = (0..m).map(|_| draw(&mut rng)).collect();
                    let r = ratio(&a, &b).unwrap();
                    held += usize::from(r.low <= 1.1 && 1.1 <= r.high);
                    level = r.level;
                    let md = median(&b).unwrap();
                    median_held += usize::from(md.low <= true_median && true_median <= md.high);
                    median_level = md.level;
                }
                let check = |what: &str, held: usize, level: f64| {
                    let share = held as f64 / f64::from(trials);
                    eprintln!(
                        "{what} {n} v {m} ({}): level {level:.4}, held {share:.4}",
                        if heavy { "Pareto 1.5" } else { "log-normal" }
                    );
                    let se = (level * (1.0 - level) / f64::from(trials)).sqrt();
                    assert!(
                        share >= level - 3.0 * se,
                        "{what} {n} v {m} (heavy {heavy}): {share} held, level {level}"
                    );
                };
                check("ratio", held, level);
                check("median", median_held, median_level);
            }
        }
    }
}
