//! CPU and RSS of processes, from /proc. CPU is utime+stime (plus reaped children's) in clock
//! ticks; over a window of seconds that resolution (10 ms) is ample for CPU per request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clock ticks per second (Linux's USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;
const PAGE_BYTES: f64 = 4096.0;

/// Total CPU of `pid` (self and reaped children), µs; `None` when it is gone.
pub fn cpu_us(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat).map(|t| t * 1e6 / TICKS_PER_SECOND)
}

/// utime + stime + cutime + cstime from a `/proc/PID/stat` line.
pub fn parse_cpu_ticks(stat: &str) -> Option<f64> {
    // The command name may contain spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the stat line, so utime (14) is index 11 here.
    let sum: f64 = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    Some(sum)
}

/// RSS of `pid`, MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * PAGE_BYTES / 1e6)
}

/// RSS samples per named process, taken every 100 ms by a background task.
#[derive(Debug)]
pub struct RssSampler {
    samples: Arc<Mutex<BTreeMap<String, Vec<f64>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    /// Starts sampling `processes` (name, pid).
    pub fn start(processes: Vec<(String, u32)>) -> Self {
        let samples: Arc<Mutex<BTreeMap<String, Vec<f64>>>> = Arc::default();
        let shared = samples.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let mut s = shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for (name, pid) in &processes {
                    if let Some(mb) = rss_mb(*pid) {
                        s.entry(name.clone()).or_default().push(mb);
                    }
                }
            }
        });
        Self { samples, task }
    }

    /// Stops sampling and returns the samples.
    pub fn stop(self) -> BTreeMap<String, Vec<f64>> {
        self.task.abort();
        std::mem::take(
            &mut *self
                .samples
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Mean, peak and growth (last minus first) of RSS samples.
pub fn summarize(samples: &[f64]) -> crate::results::Memory {
    if samples.is_empty() {
        return crate::results::Memory::default();
    }
    crate::results::Memory {
        mean: samples.iter().sum::<f64>() / samples.len() as f64,
        peak: samples.iter().copied().fold(f64::MIN, f64::max),
        growth: samples[samples.len() - 1] - samples[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_the_name() {
        let line =
            "1234 (my (odd) app) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 7 3 20 0 4 0 100 0 0";
        assert_eq!(parse_cpu_ticks(line), Some(310.0));
    }

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(cpu_us(pid).is_some());
        assert!(rss_mb(pid).unwrap() > 1.0);
    }

    #[test]
    fn summary_of_samples() {
        let m = summarize(&[10.0, 14.0, 12.0]);
        assert!((m.mean - 12.0).abs() < 1e-9);
        assert!((m.peak - 14.0).abs() < 1e-9);
        assert!((m.growth - 2.0).abs() < 1e-9);
    }
}
