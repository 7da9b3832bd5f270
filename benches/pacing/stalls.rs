//! How often does this machine take the CPU away from a running thread? Spins for the given
//! number of seconds reading the monotonic clock, and prints, as one JSON line:
//! - the share of time lost in gaps between two reads longer than 20 µs and 100 µs;
//! - the number of gaps over 100 µs and over 1 ms, and the longest;
//! - the scheduling lag p99 and p99.9 that these gaps alone force on a send due at a random
//!   moment: a send due inside a gap waits for the rest of it, so the lag exceeds `x` for a
//!   share `sum(max(0, gap - x)) / time` of the sends.
//!
//! A generator on this CPU cannot keep its lag p99 below the forced p99, whatever it does.
//! std only, so `rustc -O stalls.rs` builds it; `taskset -c N` chooses the CPU.

use std::time::{Duration, Instant};

/// The smallest `x` (µs) such that the sends late by more than `x` are at most `share` of all.
fn forced_lag_us(gaps_ns: &[u64], total_ns: f64, share: f64) -> f64 {
    let late_share = |x: u64| -> f64 {
        gaps_ns.iter().map(|g| g.saturating_sub(x)).sum::<u64>() as f64 / total_ns
    };
    let (mut lo, mut hi) = (0_u64, gaps_ns.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if late_share(mid) <= share {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo as f64 / 1e3
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    // Every gap over 1 µs (a clock read takes about 20 ns here).
    let mut gaps: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut prev = start;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let gap = (now - prev).as_nanos() as u64;
        prev = now;
        if gap > 1_000 {
            gaps.push(gap);
        }
    }
    let total = (prev - start).as_nanos() as f64;
    let lost = |over: u64| gaps.iter().filter(|g| **g > over).sum::<u64>() as f64 / total * 100.0;
    let count = |over: u64| gaps.iter().filter(|g| **g > over).count();
    println!(
        "{{\"seconds\": {:.3}, \"lost_over_20us_pct\": {:.3}, \"lost_over_100us_pct\": {:.3}, \"gaps_over_100us\": {}, \"gaps_over_1ms\": {}, \"longest_us\": {:.1}, \"forced_lag_p99_us\": {:.1}, \"forced_lag_p999_us\": {:.1}}}",
        total / 1e9,
        lost(20_000),
        lost(100_000),
        count(100_000),
        count(1_000_000),
        gaps.iter().copied().max().unwrap_or(0) as f64 / 1e3,
        forced_lag_us(&gaps, total, 0.01),
        forced_lag_us(&gaps, total, 0.001),
    );
}
