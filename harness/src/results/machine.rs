//! The machine check: what this machine took away from the generator's CPUs just before the
//! plan, and whether it can give valid latency at the scenario's rate.

use serde::{Deserialize, Serialize};

/// The whole check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MachineCheck {
    /// The CPU reports a hypervisor (a virtual machine: an idle vCPU halts and may wake late).
    pub hypervisor: bool,
    /// CPUs online.
    pub cpus_online: usize,
    /// The harness could pin a thread to each generator CPU (and `taskset` is there for the
    /// target); false also when the scenario does not pin.
    pub pinned: bool,
    /// The generator's CPUs were kept awake during the timer probe (as they will be in the runs).
    pub keep_awake: bool,
    /// Share of all CPUs' time the hypervisor gave to other guests during the check
    /// (`steal` in /proc/stat), percent; `null` when the kernel does not report it.
    pub steal_pct: Option<f64>,
    /// Requests/s the check judged for (the scenario's rate; a default for a closed model).
    pub rate: f64,
    /// The scheduling-lag p99 a run may have before its latency is invalid, µs.
    pub lag_limit_us: u64,
    /// One probe per generator CPU.
    pub probes: Vec<CpuProbe>,
    /// The conclusion.
    pub verdict: MachineVerdict,
    /// What was detected, in plain words.
    pub findings: Vec<String>,
    /// What to change, when anything should.
    pub advice: Vec<String>,
}

/// What one generator CPU showed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CpuProbe {
    /// The CPU (`null`: not pinned, any CPU).
    pub cpu: Option<usize>,
    /// Seconds a thread spun reading the clock.
    pub spin_s: f64,
    /// Share of that time lost in gaps over 20 µs (the CPU was taken away), percent.
    pub lost_pct: f64,
    /// The longest gap, µs.
    pub longest_gap_us: f64,
    /// The lag p99 those gaps alone force on a send due at a random moment, µs: no generator
    /// on this CPU can do better.
    pub forced_lag_p99_us: f64,
    /// Wake-ups of a precise timer due every `1/rate` s (like the generator's users), counted.
    pub timer_wakeups: u64,
    /// How late those wake-ups came: median, µs.
    pub timer_lag_p50_us: u64,
    /// 99th percentile, µs: what a run's scheduling lag p99 will be at best.
    pub timer_lag_p99_us: u64,
}

/// Can this machine give valid latency at the rate?
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MachineVerdict {
    /// The timer's lag p99 is well under the limit: runs should be valid.
    #[default]
    Good,
    /// Under the limit, but close: expect some runs to be replaced.
    Marginal,
    /// Over the limit: most runs' latency will be invalid as things stand.
    Poor,
}

impl MachineVerdict {
    /// Plain words for reports and the terminal.
    pub fn words(self) -> &'static str {
        match self {
            Self::Good => "yes: valid latency expected",
            Self::Marginal => "probably: close to the limit, some runs may be replaced",
            Self::Poor => "no: most runs' latency would be invalid",
        }
    }
}
