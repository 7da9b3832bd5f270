//! Scale-out in results.json: an instance's shard identity, each run's measured window on the
//! wall clock, and, in a merged file, the shards it was merged from.

use serde::{Deserialize, Serialize};

pub use crate::scenario::shard::ShardRecord;

/// A run's measured window on the wall clock (RFC 3339, microseconds).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunWindow {
    /// When the window opened.
    pub start: String,
    /// When it closed.
    pub end: String,
    /// A shard's run: how much later than asked its window opened, ms (the instance was still
    /// busy with its previous run, or started after its start time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_ms: Option<f64>,
    /// A merged run: the latest shard's window start minus the earliest's, ms, by each
    /// instance's own clock (their scheduling lateness plus whatever offset NTP leaves between
    /// their clocks, which no instance can see).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_spread_ms: Option<f64>,
}

/// One shard of a merged file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ShardSource {
    /// The file it was read from, as given to `merge`.
    pub file: String,
    /// Its 0-based index.
    pub index: u32,
    /// The service it drove.
    #[serde(default)]
    pub target_url: String,
    /// The start time it was given (RFC 3339).
    #[serde(default)]
    pub start_at: String,
    /// The machine it ran on.
    pub hostname: String,
    /// Its command line.
    pub command: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// Requests measured over its runs.
    pub requests: u64,
    /// Its runs that were invalid.
    pub invalid_runs: usize,
}

/// The target-side samples `merge --samples` joined, per file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SampleSource {
    /// The file, as given.
    pub file: String,
    /// The machine the sampler ran on.
    pub hostname: String,
    /// The processes sampled: name -> pid.
    pub processes: std::collections::BTreeMap<String, u32>,
    /// Samples read.
    pub samples: usize,
}
