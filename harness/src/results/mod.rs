//! `results.json`, schema version 1: the contract other tools rely on (see DESIGN.md).

pub mod analysis;
pub mod capacity;
pub mod environment;
#[cfg(test)]
pub mod fixture;
pub mod machine;
pub mod profile;
pub mod shard;
pub mod writer;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use analysis::{
    Calibration, CostModel, CostPrediction, Estimate, MetricSummary, NoiseFloor, Recommendation,
    SpeedFit, VariantSummary, Verdict,
};
pub use environment::Environment;
pub use machine::{CpuProbe, MachineCheck, MachineVerdict};

/// The current schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Results {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Which scenario produced it.
    pub scenario: ScenarioRef,
    /// Where and with what it ran.
    pub environment: Environment,
    /// The command line that reproduces the run.
    pub command: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339; empty while running.
    pub finished_at: String,
    /// True when the run was interrupted (Ctrl-C, SIGTERM) before the plan finished.
    pub interrupted: bool,
    /// One entry per finished run, in run order.
    pub runs: Vec<RunResult>,
    /// Per-variant statistics against the baseline (filled by the statistics stage).
    #[serde(default)]
    pub summary: Vec<VariantSummary>,
    /// The recommended setting, when the scenario has a budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    /// The A/A noise floor, when the scenario asks for calibration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// CPU per request against the sampling ratio, when variants sample at two or more ratios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_model: Option<CostModel>,
    /// The speed adjustment behind `cpu_adjusted`, when it could be fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<SpeedFit>,
    /// What the machine took away from the generator's CPUs just before the plan, and whether
    /// it can give valid latency at the scenario's rate (`otelbench doctor` runs the same check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_check: Option<MachineCheck>,
    /// Per variant, its target started and stopped at rest: the shutdown cost that a run's work
    /// after the window is counted beyond (`cpu.after_window_us_per_request`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub idle_shutdown: BTreeMap<String, IdleShutdown>,
    /// Profiles per variant, from extra profiling runs after the measured plan
    /// (`profile = true`, `run --profile`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<profile::VariantProfile>,
    /// This file is one instance of a scaled-out run (`run --shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<shard::ShardRecord>,
    /// This file was merged (`otelbench merge`) from these shards, in index order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<shard::ShardSource>,
    /// The target-side samples (`otelbench sample`) the merge joined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<shard::SampleSource>,
}

/// One variant's shutdown at rest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IdleShutdown {
    /// CPU each process used from a second after it was ready until it had exited, µs: the
    /// median of `repeats` starts and stops.
    pub after_us: BTreeMap<String, f64>,
    /// How many times the target was started and stopped at rest.
    #[serde(default)]
    pub repeats: usize,
    /// Why it could not be measured (then the variant's runs have no after-window figure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl IdleShutdown {
    /// One line for the terminal.
    pub fn describe(&self) -> String {
        match &self.error {
            Some(e) => format!("shutdown at rest not measured ({e}): no after-window CPU"),
            None => format!(
                "shutdown at rest (median of {}): {}",
                self.repeats,
                self.after_us
                    .iter()
                    .map(|(p, us)| format!("{p} {:.1} ms", us / 1e3))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl Results {
    /// A file of `scenario` run in `environment` by `command` from `started_at`: no runs and
    /// no analysis yet.
    pub fn new(
        scenario: ScenarioRef,
        environment: Environment,
        command: String,
        started_at: String,
    ) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            scenario,
            environment,
            command,
            started_at,
            finished_at: String::new(),
            interrupted: false,
            runs: Vec::new(),
            summary: Vec::new(),
            recommendation: None,
            calibration: None,
            cost_model: None,
            speed: None,
            machine_check: None,
            idle_shutdown: BTreeMap::new(),
            profiles: Vec::new(),
            shard: None,
            merged_from: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// The runs the statistics use: every run not replaced by a later attempt of its place in
    /// the plan.
    pub fn kept_runs(&self) -> impl Iterator<Item = &RunResult> {
        self.runs.iter().filter(|r| r.replaced_by.is_none())
    }
}

/// The scenario, identified.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioRef {
    /// Its `name`.
    pub name: String,
    /// Its `description`.
    #[serde(default)]
    pub description: String,
    /// SHA-256 of the file.
    pub hash: String,
    /// The path it was read from.
    pub file: String,
    /// The baseline variant.
    pub baseline: String,
    /// Variant names, in scenario order.
    pub variants: Vec<String>,
    /// Valid runs asked for per variant (0 in files written before it was recorded).
    #[serde(default)]
    pub repetitions: u32,
    /// The baseline's A/A copy, when the scenario calibrates (`aa_calibration = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration_variant: Option<String>,
    /// Decision thresholds per metric, as fractions (the scenario's `[thresholds]` over the
    /// defaults).
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// The scenario's `[budget]`: metric -> largest acceptable increase, as a fraction.
    #[serde(default)]
    pub budget: BTreeMap<String, f64>,
    /// The A/B of two builds (`run --baseline-target --candidate-target`): the builds, the
    /// variant pairs and the gate the candidate is judged by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ab: Option<crate::scenario::ab::AbPlan>,
    /// The capacity search and its SLO (`load.model = "capacity"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<crate::scenario::capacity::CapacityPlan>,
}

/// One run of one variant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    /// Variant name.
    pub variant: String,
    /// 1-based repetition.
    pub repetition: u32,
    /// 1-based attempt at this place of the plan: a run invalid for a transient reason is run
    /// again in its place (`max_retries`), and every attempt is kept here.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// The attempt that replaced this one; the statistics leave replaced attempts out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<u32>,
    /// True when every reason the run is invalid is the harness's or the machine's (the
    /// generator's lag or saturation), not the target's: such a run is tried again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transient: bool,
    /// False when a figure of this run cannot be trusted; see `invalid_reason`.
    pub valid: bool,
    /// Why the run is invalid (all reasons, `; `-separated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    /// True when the run is invalid for its latency only: the generator's scheduling lag broke
    /// its bound, which distorts latency (timed from the intended send time) but not what the
    /// target spent on the requests it served at the achieved rate. The statistics then use the
    /// run's CPU, memory and delivery figures and leave out its latency.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub latency_only: bool,
    /// The environment the target got from the variant.
    pub env: BTreeMap<String, String>,
    /// Load delivered.
    pub load: LoadResult,
    /// Latency over all measured requests, µs.
    pub latency_us: Latency,
    /// Per request name.
    pub per_request: BTreeMap<String, PerRequest>,
    /// CPU.
    pub cpu: Cpu,
    /// RSS per target process, its descendants included (a pre-fork server's workers), MB.
    pub memory_mb: BTreeMap<String, Memory>,
    /// What the collector received.
    pub telemetry: Telemetry,
    /// Background jobs, as the target reports them (the built-in target-app); `null` for a
    /// target that does not (a command target): see `telemetry.producer_spans` and
    /// `consumer_spans` for what its sampled traces show.
    #[serde(default)]
    pub jobs: Option<Jobs>,
    /// Placement actually used.
    pub placement: Placement,
    /// The collector: kind, the fault it played, and its own cost when it is a process.
    #[serde(default)]
    pub collector: CollectorRun,
    /// The capacity search this run is (`load.model = "capacity"`): its other figures are
    /// those of its capacity step (the highest that held the SLO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<capacity::CapacityRun>,
    /// The measured window on the wall clock (what a shard's merge and a sidecar's samples
    /// are matched by).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<shard::RunWindow>,
}

fn first_attempt() -> u32 {
    1
}

/// The collector of one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CollectorRun {
    /// `embedded` (the harness's sink), `rotel` (rotel-agent, blackhole exporter), `rotel+sink`
    /// (rotel-agent exporting to the embedded sink) or `external`.
    pub kind: String,
    /// The fault the embedded sink played (`down`, `slow:500ms`, ...), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Whether `telemetry.*_received` were counted (by the embedded sink, directly or behind
    /// rotel). When false only the target's own accounting tells what was delivered.
    #[serde(default)]
    pub counted: bool,
    /// The collector process's CPU / requests measured, µs (rotel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_us_per_request: Option<f64>,
    /// The collector process's CPU / wall time, cores (rotel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<f64>,
    /// The collector process's RSS, MB (rotel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<Memory>,
    /// Exports the fault refused (`error`, `reject`).
    #[serde(default)]
    pub exports_refused: u64,
    /// Connections the `blackhole` fault swallowed.
    #[serde(default)]
    pub connections_blackholed: u64,
    /// Outages of a `flap` fault.
    #[serde(default)]
    pub outages: u64,
    /// How delivery resumed after each return of a flapping collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
}

/// How delivery resumed after each return of a flapping collector.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Recovery {
    /// Times the collector came back after an outage.
    pub returns: u64,
    /// Of those, the ones followed by an accepted export before the next outage or the end.
    pub recovered: u64,
    /// Time from each return to the first accepted export after it, ms.
    pub recovery_ms: Vec<f64>,
}

/// Load delivered in the measured window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LoadResult {
    /// `rate` or `users`.
    pub model: String,
    /// Requests/s asked for (rate model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_rps: Option<f64>,
    /// Requests sent and completed (answered or failed) inside the window / window length:
    /// what really happened. Requests still in flight at the window's end are not counted, so
    /// it reads low by at most `users` requests.
    pub achieved_rps: f64,
    /// Requests scheduled in the window (their intended send time inside it) / window length:
    /// what was offered (rate model: the target rate, by construction).
    #[serde(default)]
    pub offered_rps: f64,
    /// Requests sent and completed inside the window (behind `achieved_rps`).
    #[serde(default)]
    pub completed: u64,
    /// Window length, s.
    pub duration_s: f64,
    /// Requests scheduled in the window (the latency and per-request figures cover these).
    pub requests: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Failures by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Users (concurrency).
    pub users: u32,
    /// Scheduling lag (actual minus intended send time), µs, with its histogram (rate model).
    pub lag_us: Latency,
    /// The generator's part of the lag: actual send time minus the later of the intended time
    /// and the end of the user's previous request, µs (rate model). The validity check reads
    /// this one, so a target that holds its users is not blamed on the generator.
    #[serde(default)]
    pub generator_lag_us: Latency,
    /// Requests whose user was still waiting for its previous response when their slot came
    /// (all `users` in flight: the target held them). Their latency shows the wait.
    #[serde(default)]
    pub held_requests: u64,
    /// Requests over the whole run, set-up and warm-up included.
    pub requests_total: u64,
}

/// A latency distribution, µs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 90th.
    pub p90: u64,
    /// 99th.
    pub p99: u64,
    /// 99.9th.
    pub p999: u64,
    /// Largest.
    pub max: u64,
    /// Mean.
    pub mean: f64,
    /// The HdrHistogram, V2 serialisation, base64: percentiles can be recomputed and histograms
    /// of several instances added exactly.
    pub hdr_base64: String,
}

/// One request name's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PerRequest {
    /// Requests.
    pub requests: u64,
    /// Failures.
    pub errors: u64,
    /// Latency, µs.
    pub latency_us: Latency,
}

/// CPU in the measured window, and the target's after it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cpu {
    /// CPU time of all target processes (and their descendants) in the window / requests
    /// measured, µs. Read per thread in nanoseconds (`/proc/PID/task/TID/schedstat`), not in
    /// 10 ms clock ticks. See [`Cpu::total_us_per_request`] for the figure the statistics use.
    pub target_us_per_request: f64,
    /// Target CPU / wall time (cores).
    pub target_cores: f64,
    /// The harness process (load generator and embedded sink) CPU / wall time (cores).
    pub generator_cores: f64,
    /// CPU of the harness's load generator (the harness without its embedded sink) / requests
    /// measured, µs. Its work per request is the same in every variant, so it tracks the
    /// machine's speed during the run; see `stats::speed` (`cpu_adjusted`).
    #[serde(default)]
    pub generator_us_per_request: f64,
    /// CPU of the embedded sink / requests measured, µs (0 with an external collector).
    #[serde(default)]
    pub sink_us_per_request: f64,
    /// `target_us_per_request` split by target process (`web`, `worker`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_process_us_per_request: BTreeMap<String, f64>,
    /// CPU the target used after the window until it had exited, / requests measured, µs: the
    /// exporters' last batches, the final metric export and the shutdown flush, beyond what the
    /// same variant's processes use to shut down at rest (`idle_shutdown`), so that a fixed
    /// shutdown cost is not divided among the requests. `null` when either could not be read
    /// (see `runner::after_window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_window_us_per_request: Option<f64>,
    /// CPU each target process used after the window until it had exited, µs (all of it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub after_window_us: BTreeMap<String, f64>,
}

impl Cpu {
    /// Whether the target's CPU was measured: not for a service the harness did not start
    /// (`run --target-url`) until `merge --samples` fills it, nor in a run that measured
    /// nothing.
    pub fn measured(&self) -> bool {
        self.target_us_per_request > 0.0 || !self.per_process_us_per_request.is_empty()
    }

    /// The target's CPU per request measured, window and after (`cpu_with_after_window` in the
    /// statistics): the work the window's requests caused, whether the target did it in the
    /// window or flushed it later. Results written before the after-window reading existed count
    /// the window alone.
    pub fn total_us_per_request(&self) -> f64 {
        self.target_us_per_request + self.after_window_us_per_request.unwrap_or(0.0)
    }
}

/// One process's RSS over the window, MB.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Memory {
    /// Mean of the 100 ms samples.
    pub mean: f64,
    /// Largest sample.
    pub peak: f64,
    /// Last sample minus first.
    pub growth: f64,
}

/// What arrived at the collector over the whole run (warm-up included: export batches do not
/// respect window edges), and the target's own delivery accounting.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Telemetry {
    /// Spans received.
    pub spans_received: u64,
    /// Metric data points received.
    pub metric_points_received: u64,
    /// Log records received.
    pub log_records_received: u64,
    /// Export requests received.
    pub export_requests: u64,
    /// Bytes received: over HTTP as sent (compressed when the client compressed); over gRPC
    /// the decoded message size, so gRPC compression does not show here.
    pub bytes_received: u64,
    /// Traces with spans from two processes (web and worker joined), told apart by their
    /// role (`otelbench.role`), else by `service.name`.
    pub traces_complete: u64,
    /// Traces holding a server span of the web role: the sampled requests.
    #[serde(default)]
    pub request_traces: u64,
    /// Producer spans received (jobs enqueued in sampled traces).
    #[serde(default)]
    pub producer_spans: u64,
    /// Consumer spans received (jobs run in sampled traces).
    #[serde(default)]
    pub consumer_spans: u64,
    /// Sampled requests (`request_traces`) / requests sent over the whole run; distinct traces
    /// / requests when the target sent no server span at all.
    pub observed_sampling_ratio: f64,
    /// Spans the target processes produced, exported, failed to export and dropped, from
    /// their shutdown totals (`null` for targets that do not report them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_spans: Option<SpanAccounting>,
}

/// The target's own span accounting, summed over its processes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SpanAccounting {
    /// Spans ended while sampled.
    pub produced: u64,
    /// Spans in successful exports.
    pub exported: u64,
    /// Spans in failed exports.
    pub failed: u64,
    /// Spans dropped by a full queue.
    pub dropped: u64,
    /// Span export calls made.
    #[serde(default)]
    pub export_calls: u64,
    /// Span export calls that failed (after the exporter's own retries).
    #[serde(default)]
    pub failed_calls: u64,
}

/// Background jobs over the whole run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Jobs {
    /// Jobs enqueued by the web process.
    pub enqueued: u64,
    /// Jobs the worker completed.
    pub completed: u64,
    /// Enqueue-to-start latency, µs.
    pub latency_us: JobLatency,
}

/// Enqueue-to-start percentiles.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobLatency {
    /// Median.
    pub p50: u64,
    /// 99th.
    pub p99: u64,
}

/// CPU sets used.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Placement {
    /// CPUs of the harness (generator + sink); empty when not pinned.
    pub generator_cpus: Vec<usize>,
    /// CPUs of the target; empty when not pinned.
    pub target_cpus: Vec<usize>,
    /// The generator's CPUs were kept from halting (`placement.keep_awake`, resolved).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_awake: bool,
    /// The scenario's `keep_awake` setting (`auto`, `true`, `false`) and, for `auto`, what
    /// decided it, e.g. `auto: on (hypervisor)`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keep_awake_setting: String,
}

impl Latency {
    /// Percentiles of `h` (µs) and its V2 serialisation.
    pub fn from_histogram(h: &hdrhistogram::Histogram<u64>) -> Self {
        use base64::Engine as _;
        use hdrhistogram::serialization::Serializer as _;
        let mut bytes = Vec::new();
        let encoded = hdrhistogram::serialization::V2Serializer::new()
            .serialize(h, &mut bytes)
            .map(|_| base64::engine::general_purpose::STANDARD.encode(&bytes))
            .unwrap_or_default();
        if h.is_empty() {
            return Self {
                hdr_base64: encoded,
                ..Self::default()
            };
        }
        Self {
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
            hdr_base64: encoded,
        }
    }

    /// Decodes `hdr_base64` back into a histogram.
    pub fn histogram(&self) -> anyhow::Result<hdrhistogram::Histogram<u64>> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(&self.hdr_base64)?;
        hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| anyhow::anyhow!("histogram does not decode: {e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_round_trips_through_its_histogram() {
        let mut h = crate::load::recorder::histogram();
        for v in 1..=1000_u64 {
            h.record(v * 10).unwrap();
        }
        let l = Latency::from_histogram(&h);
        assert!((4_990..=5_010).contains(&l.p50), "{}", l.p50);
        assert!((9_890..=9_910).contains(&l.p99), "{}", l.p99);
        let back = l.histogram().unwrap();
        assert_eq!(back.len(), 1000);
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
    }
}
