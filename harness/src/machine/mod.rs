//! The machine check, before the plan and as `otelbench doctor`: what this machine takes away
//! from the generator's CPUs (a thread spinning on each, a second or so), how late a precise
//! timer wakes at the scenario's rate, steal, hypervisor, CPUs and pinning, and in plain words
//! whether the runs' latency can be valid and what to change.

pub mod assess;
pub mod probe;

use std::time::Duration;

use crate::results::{MachineCheck, environment};
use crate::runner::health::MAX_LAG_P99_US;
use crate::scenario::KeepAwake;

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// The generator's CPUs (`None`: not pinned).
    pub cpus: Option<Vec<usize>>,
    /// Requests/s of the load.
    pub rate: f64,
    /// The scenario's keep-awake setting.
    pub keep_awake_setting: KeepAwake,
    /// Whether the generator's CPUs are kept awake while probing (the caller keeps them).
    pub keep_awake: bool,
    /// How long to spin on each CPU.
    pub spin: Duration,
    /// How long to wait on the timer on each CPU.
    pub timer: Duration,
}

impl CheckSpec {
    /// The check before a plan: 1 s of spinning and 1.5 s of timer per generator CPU.
    pub fn before_plan(
        cpus: Option<Vec<usize>>,
        rate: f64,
        keep_awake_setting: KeepAwake,
        keep_awake: bool,
    ) -> Self {
        Self {
            cpus,
            rate,
            keep_awake_setting,
            keep_awake,
            spin: Duration::from_secs(1),
            timer: Duration::from_millis(1_500),
        }
    }
}

/// Runs the probes on each generator CPU and judges them.
pub fn check(spec: &CheckSpec) -> MachineCheck {
    let before = steal_counters();
    let cpus: Vec<Option<usize>> = spec
        .cpus
        .as_ref()
        .map_or_else(|| vec![None], |c| c.iter().copied().map(Some).collect());
    let mut pinned = spec.cpus.is_some();
    let mut probes = Vec::new();
    for cpu in cpus {
        let probe = probe::cpu(cpu, spec.rate, spec.spin, spec.timer).or_else(|e| {
            log::warn!("machine check: {e:#}; probing without pinning");
            pinned = false;
            probe::cpu(None, spec.rate, spec.spin, spec.timer)
        });
        match probe {
            Ok(p) => probes.push(p),
            Err(e) => log::warn!("machine check: {e:#}"),
        }
    }
    let steal_pct = before
        .zip(steal_counters())
        .and_then(|(b, a)| steal_share(b, a))
        .map(|s| s * 100.0);
    let hypervisor = environment::hypervisor();
    let cpus_online = crate::procfs::online_cpus();
    let a = assess::assess(&assess::Observed {
        hypervisor,
        cpus_online,
        pinning: match (spec.cpus.is_some(), pinned) {
            (true, true) => assess::Pinning::Pinned,
            (true, false) => assess::Pinning::Refused,
            (false, _) => assess::Pinning::Off,
        },
        keep_awake_setting: spec.keep_awake_setting,
        keep_awake: spec.keep_awake,
        steal_pct,
        rate: spec.rate,
        lag_limit_us: MAX_LAG_P99_US,
        probes: &probes,
    });
    MachineCheck {
        hypervisor,
        cpus_online,
        pinned,
        keep_awake: spec.keep_awake,
        steal_pct,
        rate: spec.rate,
        lag_limit_us: MAX_LAG_P99_US,
        probes,
        verdict: a.verdict,
        findings: a.findings,
        advice: a.advice,
    }
}

/// (steal, total) jiffies of all CPUs from /proc/stat; `None` where the kernel has no steal.
fn steal_counters() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_steal(text.lines().next()?)
}

/// (steal, total) from the `cpu` line of /proc/stat: user nice system idle iowait irq softirq
/// steal ...; the total is the first eight.
fn parse_steal(line: &str) -> Option<(u64, u64)> {
    let fields: Vec<u64> = line
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    (fields.len() >= 8).then(|| (fields[7], fields[..8].iter().sum()))
}

/// Steal's share of the time between two readings.
fn steal_share(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let total = after.1.checked_sub(before.1)?;
    let steal = after.0.checked_sub(before.0)?;
    (total > 0).then(|| steal as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_read_from_the_cpu_line() {
        let b = parse_steal("cpu  100 0 50 800 10 0 5 20 0 0").unwrap();
        assert_eq!(b, (20, 985));
        let a = parse_steal("cpu  200 0 100 1600 20 0 10 60 0 0").unwrap();
        let share = steal_share(b, a).unwrap();
        assert!((share - 40.0 / 1005.0).abs() < 1e-9, "{share}");
        assert_eq!(parse_steal("cpu0 1 2 3"), None);
        assert_eq!(parse_steal("cpu  1 2 3"), None, "no steal column");
    }
}
