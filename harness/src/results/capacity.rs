//! A capacity search's record in results.json (`load.model = "capacity"`): every step it
//! measured and what it found. The run that holds it carries the figures of its capacity step.

use serde::{Deserialize, Serialize};

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The capacity was found to the scenario's precision.
    Found,
    /// Even the lowest rate tried broke the SLO.
    NoRateMeetsSlo,
    /// A step could not be measured because the generator, not the target, was the limit.
    GeneratorBound,
    /// The highest rate allowed (`capacity.max_rate`) held the SLO.
    Ceiling,
    /// `capacity.max_steps` ran out before the bracket narrowed.
    StepLimit,
    /// A step could not be measured (the target or its storage failed to start).
    StepFailed,
}

/// One search.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CapacityRun {
    /// The highest offered rate whose step held the SLO, with a failing rate within the
    /// precision above it, requests/s; `null` unless the outcome is `found`.
    pub capacity_rps: Option<f64>,
    /// How the search ended.
    pub outcome: Option<Outcome>,
    /// The outcome in words.
    pub summary: String,
    /// The rate the search started at when it was seeded with the variant's earlier capacities
    /// (their median); `null` for a search from `capacity.start`.
    pub seeded_from: Option<f64>,
    /// Every step, in the order measured.
    pub steps: Vec<Step>,
}

/// One measured step: an open-model window at `rate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Step {
    /// Offered rate, requests/s.
    pub rate: f64,
    /// Requests/s sent and completed in the window.
    pub achieved_rps: f64,
    /// Latency p50, µs.
    pub p50_us: u64,
    /// Latency p99, µs.
    pub p99_us: u64,
    /// Requests measured.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Target CPU per request, µs.
    pub cpu_us_per_request: f64,
    /// Target CPU in cores.
    pub target_cores: f64,
    /// The generator's (harness's) CPU per request, µs.
    pub generator_us_per_request: f64,
    /// The generator's CPU in cores.
    pub generator_cores: f64,
    /// Attempts: a step spoiled by the generator (its lag or saturation) is measured again.
    pub attempts: u32,
    /// True when the step held the SLO.
    pub pass: bool,
    /// Why it did not (or why it could not be judged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
