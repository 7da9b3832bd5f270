//! The one latency histogram of the workspace: HdrHistogram in microseconds, from 1 µs to 60 s,
//! with 3 significant digits (a recorded value is within 0.1% of the true one). The harness
//! records requests and scheduling lag in it, merges shards' blobs into it and bounds the
//! capacity SLO by its range; the built-in target's worker records its jobs' queue latency and
//! duration in it.

use hdrhistogram::Histogram;

/// The lowest value told apart from 0, µs.
pub const LOWEST_US: u64 = 1;

/// The highest value recorded, µs (60 s); a longer latency does not fit.
pub const HIGHEST_US: u64 = 60_000_000;

/// Significant digits kept.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// An empty latency histogram.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        .expect("static histogram bounds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_a_minute_to_a_tenth_of_a_percent() {
        let mut h = histogram();
        h.record(HIGHEST_US).unwrap();
        assert!(h.record(HIGHEST_US * 2).is_err(), "past 60 s does not fit");
        h.record(1_234_567).unwrap();
        let p50 = h.value_at_quantile(0.5);
        assert!(p50.abs_diff(1_234_567) * 1000 <= 1_234_567, "{p50}");
    }
}
