//! Latency distributions: the runs' HdrHistograms added exactly, read at log-spaced percentiles
//! (the classic HdrHistogram percentile plot). Percentiles are never averaged.

use hdrhistogram::Histogram;

/// Adds `histograms` into one (all must share the harness's 1 µs .. 60 s range).
pub fn merge<'a>(histograms: impl IntoIterator<Item = &'a Histogram<u64>>) -> Histogram<u64> {
    let mut total = crate::load::recorder::histogram();
    for h in histograms {
        // Values beyond the range are impossible: every histogram here was recorded with the
        // same bounds. Should one differ, its values are skipped rather than failing a report.
        let _ = total.add(h);
    }
    total
}

/// Points per decade of 1/(1-q).
const STEPS_PER_DECADE: u32 = 20;

/// (percentile in percent, value) from 0% up to the highest percentile the sample supports
/// (where fewer than one request lies beyond), at most 99.999%.
pub fn percentile_curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let n = h.len() as f64;
    (0..=5 * STEPS_PER_DECADE)
        .map(|j| 10f64.powf(f64::from(j) / f64::from(STEPS_PER_DECADE)))
        .take_while(|&x| x <= n)
        .map(|x| {
            let q = 1.0 - 1.0 / x;
            (q * 100.0, h.value_at_quantile(q) as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_histograms_count_every_value() {
        let mut a = crate::load::recorder::histogram();
        let mut b = crate::load::recorder::histogram();
        for v in 1..=100 {
            a.record(v).unwrap();
            b.record(v + 100).unwrap();
        }
        let m = merge([&a, &b]);
        assert_eq!(m.len(), 200);
        assert_eq!(m.value_at_quantile(0.5), 100);
    }

    #[test]
    fn curve_stops_where_the_sample_runs_out() {
        let mut h = crate::load::recorder::histogram();
        for v in 1..=1_000 {
            h.record(v).unwrap();
        }
        let c = percentile_curve(&h);
        assert_eq!(c[0], (0.0, 1.0));
        let (last_p, last_v) = *c.last().unwrap();
        assert!((last_p - 99.9).abs() < 1e-9, "{last_p}");
        assert!((999.0..=1_000.0).contains(&last_v));
        assert!(c.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        assert!(percentile_curve(&crate::load::recorder::histogram()).is_empty());
    }
}
