//! `profiles[]` in results.json: the profiling runs of each variant (extra runs after the
//! measured plan, never in the statistics), their sample counts by owner and the files their
//! stacks are in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One variant's profile: its profiling runs, merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantProfile {
    /// The variant.
    pub variant: String,
    /// Profiling runs merged here.
    pub runs: u32,
    /// `dwarf` or `fp`.
    pub call_graph: String,
    /// Samples per second of CPU time.
    pub frequency_hz: u32,
    /// Requests measured in the profiling runs' windows.
    pub requests: u64,
    /// The CPU time the stack samples of the target's processes stand for, ns (the sum of
    /// perf's sample periods: each `cpu-clock` sample carries the CPU time since the last).
    pub sampled_ns: u64,
    /// The target's CPU per request in the profiling runs (from /proc, like a measured run's),
    /// µs: against the measured runs' median it shows what the profiler itself costs.
    pub cpu_us_per_request: f64,
    /// perf's own CPU per request (the `perf record` process, beside what sampling costs the
    /// target), µs.
    #[serde(default)]
    pub perf_us_per_request: f64,
    /// Sampled CPU with at least one named frame of the target's own code (not the kernel, the C
    /// library or an unresolved address), as a share.
    pub resolved_share: f64,
    /// Sampled CPU whose stack was unwound to its thread's start (`clone3`, `_start`), as a
    /// share; the rest was cut short (stack deeper than perf copied, or no unwind
    /// information), and is still charged by its innermost frames.
    #[serde(default)]
    pub complete_share: f64,
    /// Sampled CPU (ns) by owner (the crate, Python package or library that did the work: see
    /// `stats::profile::owner`).
    pub by_owner: BTreeMap<String, u64>,
    /// Sampled CPU (ns) by owning function, the most frequent ones (the rest under one row).
    pub by_function: BTreeMap<String, u64>,
    /// The merged folded stacks, relative to results.json (`profiles/<variant>.folded`).
    pub folded: String,
    /// What went wrong or what the profile cannot show (perf missing, no symbols, a Python
    /// without perf support); the profile may still hold what was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl VariantProfile {
    /// Whether the profile holds any samples.
    pub fn has_samples(&self) -> bool {
        self.sampled_ns > 0
    }
}
