//! Medians and percentile-bootstrap confidence intervals. Pure and deterministic: the resampling
//! is driven by a seeded generator, so the same results give the same intervals every time.

use rand::{Rng as _, SeedableRng as _};

/// Resamples per interval: enough that the 2.5% and 97.5% quantiles are stable to well under the
/// resolution anyone reads them at.
pub const RESAMPLES: usize = 4_000;

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    })
}

/// The `q` quantile (0..=1) of sorted `v`, by linear interpolation.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn resample_median(values: &[f64], rng: &mut rand::rngs::StdRng, buf: &mut Vec<f64>) -> f64 {
    buf.clear();
    buf.extend((0..values.len()).map(|_| values[rng.random_range(0..values.len())]));
    median(buf).unwrap_or(f64::NAN)
}

/// A seed derived from a label, so that each (variant, metric) gets its own reproducible stream.
pub fn seed(label: &str) -> u64 {
    // FNV-1a: stable across platforms and releases, unlike `DefaultHasher`.
    label.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// 95% percentile-bootstrap interval of `median(a) / median(b)`, resampling each sample's values
/// with replacement independently. `None` when either sample has fewer than two values or a
/// resampled median of `b` is 0.
pub fn ratio_ci(a: &[f64], b: &[f64], seed: u64) -> Option<(f64, f64)> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut buf = Vec::with_capacity(a.len().max(b.len()));
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        let ma = resample_median(a, &mut rng, &mut buf);
        let mb = resample_median(b, &mut rng, &mut buf);
        if mb == 0.0 {
            return None;
        }
        ratios.push(ma / mb);
    }
    ratios.sort_by(f64::total_cmp);
    Some((
        quantile_sorted(&ratios, 0.025),
        quantile_sorted(&ratios, 0.975),
    ))
}

/// 95% percentile-bootstrap interval of `median(values)`; `None` for fewer than two values.
pub fn median_ci(values: &[f64], seed: u64) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut buf = Vec::with_capacity(values.len());
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| resample_median(values, &mut rng, &mut buf))
        .collect();
    medians.sort_by(f64::total_cmp);
    Some((
        quantile_sorted(&medians, 0.025),
        quantile_sorted(&medians, 0.975),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn ratio_interval_contains_the_ratio_of_medians_and_is_reproducible() {
        let a = [110.0, 112.0, 108.0, 111.0, 109.0];
        let b = [100.0, 101.0, 99.0, 100.5, 99.5];
        let (lo, hi) = ratio_ci(&a, &b, 7).unwrap();
        let r = median(&a).unwrap() / median(&b).unwrap();
        assert!(lo <= r && r <= hi, "{lo} {r} {hi}");
        assert!(lo > 1.05 && hi < 1.15, "{lo} {hi}");
        assert_eq!(ratio_ci(&a, &b, 7), Some((lo, hi)));
    }

    #[test]
    fn identical_samples_give_an_interval_around_one() {
        let a = [100.0, 103.0, 97.0];
        let (lo, hi) = ratio_ci(&a, &a, 1).unwrap();
        assert!(lo < 1.0 && hi > 1.0);
        // With three values the interval spans the extreme cross-ratios, no further.
        assert!(lo >= 97.0 / 103.0 - 1e-12 && hi <= 103.0 / 97.0 + 1e-12);
    }

    #[test]
    fn too_few_values_or_zero_baseline_give_no_interval() {
        assert_eq!(ratio_ci(&[1.0], &[1.0, 2.0], 0), None);
        assert_eq!(ratio_ci(&[1.0, 2.0], &[0.0, 0.0], 0), None);
        assert_eq!(median_ci(&[1.0], 0), None);
    }

    #[test]
    fn median_interval_lies_within_the_sample() {
        let v = [10.0, 12.0, 11.0, 30.0, 9.0];
        let (lo, hi) = median_ci(&v, 3).unwrap();
        assert!(lo >= 9.0 && hi <= 30.0 && lo <= 11.0 && hi >= 11.0);
    }

    #[test]
    fn seeds_differ_by_label() {
        assert_ne!(seed("a/p99"), seed("b/p99"));
        assert_eq!(seed("x"), seed("x"));
    }

    /// Property: for random positive samples the interval is ordered, finite, and lies within
    /// the extreme cross-ratios of the two samples.
    #[test]
    fn property_interval_bounds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        for _ in 0..200 {
            let n = rng.random_range(2..8);
            let m = rng.random_range(2..8);
            let a: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..1000.0)).collect();
            let b: Vec<f64> = (0..m).map(|_| rng.random_range(1.0..1000.0)).collect();
            let (lo, hi) = ratio_ci(&a, &b, rng.random()).unwrap();
            let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
            let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
            assert!(lo.is_finite() && hi.is_finite() && lo <= hi);
            assert!(lo >= min(&a) / max(&b) - 1e-9 && hi <= max(&a) / min(&b) + 1e-9);
        }
    }
}
