//! Probes of one generator CPU: how much time the machine takes away from a spinning thread,
//! and how late a precise timer (the generator's own, `load::pacing::PreciseTimer`) wakes when
//! due at the scenario's rate.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;

use crate::load::pacing::{PreciseTimer, slot_offset};
use crate::results::CpuProbe;

/// Gaps between two clock reads longer than this count as time taken away.
const LOST_OVER_NS: u64 = 20_000;

/// Spins for `spin`, then waits on a precise timer due every `1/rate` s for `timer`, on a
/// thread of its own pinned to `cpu` (any CPU when `None`).
pub fn cpu(
    cpu: Option<usize>,
    rate: f64,
    spin: Duration,
    timer: Duration,
) -> anyhow::Result<CpuProbe> {
    std::thread::Builder::new()
        .name("otelbench-probe".into())
        .spawn(move || -> anyhow::Result<CpuProbe> {
            if let Some(c) = cpu {
                let mut set = CpuSet::new();
                set.set(c)
                    .with_context(|| format!("CPU {c} is out of range"))?;
                sched_setaffinity(Pid::from_raw(0), &set)
                    .with_context(|| format!("cannot pin the probe to CPU {c}"))?;
            }
            let (gaps, spun) = spin_gaps(spin);
            let total = spun.as_nanos() as f64;
            let mut lags = crate::load::recorder::histogram();
            let wakeups = timer_lags(rate, timer, &mut lags)?;
            Ok(CpuProbe {
                cpu,
                spin_s: spun.as_secs_f64(),
                lost_pct: lost_share(&gaps, total, LOST_OVER_NS) * 100.0,
                longest_gap_us: gaps.iter().copied().max().unwrap_or(0) as f64 / 1e3,
                forced_lag_p99_us: forced_lag_us(&gaps, total, 0.01),
                timer_wakeups: wakeups,
                timer_lag_p50_us: if lags.is_empty() {
                    0
                } else {
                    lags.value_at_quantile(0.5)
                },
                timer_lag_p99_us: if lags.is_empty() {
                    0
                } else {
                    lags.value_at_quantile(0.99)
                },
            })
        })
        .context("starting the probe thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the probe thread panicked"))?
}

/// Every gap over 1 µs between two clock reads while spinning for `length` (a read takes
/// about 20 ns), in ns, and the time actually spun.
fn spin_gaps(length: Duration) -> (Vec<u64>, Duration) {
    let start = Instant::now();
    let end = start + length;
    let mut gaps = Vec::with_capacity(1 << 16);
    let mut prev = start;
    loop {
        let now = Instant::now();
        let gap = u64::try_from((now - prev).as_nanos()).unwrap_or(u64::MAX);
        prev = now;
        if gap > 1_000 {
            gaps.push(gap);
        }
        if now >= end {
            // The last gap (it may run past the end) is counted, and so is its time.
            return (gaps, now - start);
        }
    }
}

/// Waits on one precise timer for each slot due every `1/rate` s over `length`, recording how
/// late each wake-up came (µs) into `lags`; returns the wake-ups.
fn timer_lags(
    rate: f64,
    length: Duration,
    lags: &mut hdrhistogram::Histogram<u64>,
) -> anyhow::Result<u64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the probe's runtime")?;
    runtime.block_on(async {
        let timer = PreciseTimer::new().context("creating a timerfd")?;
        let start = Instant::now() + Duration::from_millis(1);
        let mut n = 0_u64;
        loop {
            let due = start + slot_offset(n, rate);
            if due > start + length {
                return Ok(n);
            }
            timer
                .sleep_until(due)
                .await
                .context("waiting on the timerfd")?;
            let late = Instant::now().saturating_duration_since(due);
            lags.saturating_record(u64::try_from(late.as_micros()).unwrap_or(u64::MAX).max(1));
            n += 1;
        }
    })
}

/// Share of `total_ns` lost in gaps longer than `over_ns`.
pub fn lost_share(gaps_ns: &[u64], total_ns: f64, over_ns: u64) -> f64 {
    if total_ns <= 0.0 {
        return 0.0;
    }
    gaps_ns.iter().filter(|g| **g > over_ns).sum::<u64>() as f64 / total_ns
}

/// The smallest lag `x` (µs) such that at most `share` of sends due at random moments are later
/// than `x`: a send due inside a gap waits for the rest of it, so a share
/// `sum(max(0, gap - x)) / total` of sends is later than `x`.
pub fn forced_lag_us(gaps_ns: &[u64], total_ns: f64, share: f64) -> f64 {
    if total_ns <= 0.0 {
        return 0.0;
    }
    let late_share =
        |x: u64| gaps_ns.iter().map(|g| g.saturating_sub(x)).sum::<u64>() as f64 / total_ns;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_gaps_force_no_lag() {
        assert!(forced_lag_us(&[], 1e9, 0.01).abs() < f64::EPSILON);
        assert!(lost_share(&[], 1e9, LOST_OVER_NS).abs() < f64::EPSILON);
    }

    #[test]
    fn one_long_gap_forces_the_lag_it_leaves_for_the_last_percent() {
        // 1 s with one 50 ms gap: 5% of sends fall in it, waiting 0..50 ms. The 1% latest
        // waited more than 40 ms.
        let gaps = [50_000_000_u64];
        let p99 = forced_lag_us(&gaps, 1e9, 0.01);
        assert!((p99 - 40_000.0).abs() < 1.0, "{p99}");
        assert!((lost_share(&gaps, 1e9, LOST_OVER_NS) - 0.05).abs() < 1e-9);
    }

    #[test]
    fn short_gaps_are_not_time_lost() {
        let gaps = vec![5_000_u64; 1000];
        assert!(lost_share(&gaps, 1e9, LOST_OVER_NS).abs() < f64::EPSILON);
        // 5 ms of 5 µs gaps in 1 s: 0.5% of sends wait at most 5 µs.
        assert!(forced_lag_us(&gaps, 1e9, 0.01).abs() < f64::EPSILON);
    }

    #[test]
    fn a_probe_produces_sane_figures() {
        let p = cpu(
            None,
            2_000.0,
            Duration::from_millis(100),
            Duration::from_millis(100),
        )
        .unwrap();
        assert!(p.spin_s >= 0.1, "spins at least as long as asked: {p:?}");
        assert!((0.0..=100.0).contains(&p.lost_pct), "{p:?}");
        // 200 slots in 100 ms at 2,000/s (the first one 1 ms in).
        assert!((150..=201).contains(&p.timer_wakeups), "{p:?}");
        assert!(
            p.timer_lag_p50_us >= 1 && p.timer_lag_p50_us <= p.timer_lag_p99_us,
            "{p:?}"
        );
    }
}
