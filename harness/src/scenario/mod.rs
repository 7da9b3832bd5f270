//! Scenario files (`scenarios/*.toml`): what to run, against what, under which variants.
//!
//! Parsing (`parse`) turns TOML into these types, rejecting unknown fields and wrong types with
//! the line they stand on; validation (`validate`) checks meaning without touching the machine;
//! resolving against the machine (CPUs, binaries) happens when a run is planned.

pub mod ab;
pub mod capacity;
pub mod collector;
pub mod decide;
pub mod defaults;
pub mod error;
pub mod limits;
pub mod matrix;
pub mod profile;
pub mod shard;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

pub use error::{Problem, ScenarioError};

use crate::sink::Fault;

/// A parsed scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name, used in reports.
    pub name: String,
    /// What the scenario is for.
    #[serde(default)]
    pub description: String,
    /// Runs per variant (default 3).
    pub repetitions: Option<Spanned<u32>>,
    /// Order of runs: `interleaved` (A B C, A B C, ...; default) or `randomized` (each block
    /// shuffled).
    #[serde(default)]
    pub order: Order,
    /// Seed for `randomized` order.
    #[serde(default)]
    pub seed: u64,
    /// The variant that the others are compared with.
    pub baseline: Spanned<String>,
    /// A run whose share of failed requests exceeds this is invalid (default 0.01).
    pub max_error_rate: Option<Spanned<f64>>,
    /// Times a run invalid for a transient reason (the generator's lag or saturation) is run
    /// again in its place in the plan (default 2). A target's own failure is never retried.
    pub max_retries: Option<Spanned<u32>>,
    /// Retries allowed over the whole plan (default: half the planned runs, at least 1).
    pub max_total_retries: Option<Spanned<u32>>,
    /// The service under test (default: the built-in target-app on SQLite).
    pub target: Option<Spanned<TargetSpec>>,
    /// The load.
    pub load: Spanned<LoadSpec>,
    /// Where telemetry goes.
    #[serde(default)]
    pub collector: CollectorSpec,
    /// CPU placement.
    #[serde(default)]
    pub placement: PlacementSpec,
    /// Explicit variants.
    #[serde(default)]
    pub variants: Vec<Spanned<VariantSpec>>,
    /// Axes whose cartesian product adds variants.
    pub matrix: Option<Spanned<MatrixSpec>>,
    /// Run the baseline twice per block (as `<baseline> (A/A)`), so the report can state the
    /// noise floor and the minimum detectable effect.
    #[serde(default)]
    pub aa_calibration: bool,
    /// Decision thresholds per metric, e.g. `p99 = "10%"` (defaults: see scenarios/README.md).
    pub thresholds: Option<Spanned<BTreeMap<String, String>>>,
    /// The budget: largest acceptable increase per metric, e.g. `p99 = "5%"`; the report then
    /// recommends the highest sampling rate within it.
    pub budget: Option<Spanned<BTreeMap<String, String>>>,
    /// The capacity search's settings (`load.model = "capacity"`).
    pub capacity: Option<Spanned<capacity::SearchSpec>>,
    /// The SLO every capacity step must hold (`load.model = "capacity"`).
    pub slo: Option<Spanned<capacity::SloSpec>>,
    /// Add profiling runs per variant (CPU profiles and flame graphs; `run --profile` too).
    #[serde(default)]
    pub profile: bool,
    /// How the profiling runs sample.
    pub profiler: Option<Spanned<profile::ProfilerSpec>>,
}

/// Run order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// A B C, A B C, ...
    #[default]
    Interleaved,
    /// Each block of one run per variant in a random order.
    Randomized,
}

/// The service under test.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum TargetSpec {
    /// The built-in `target-app` (web + worker).
    Builtin {
        /// `sqlite` (default; a fresh file per run) or `postgres` (a fresh database per run).
        #[serde(default)]
        db: DbKind,
        /// `sqlite`, `postgres` or `redis`; default: the database.
        queue: Option<QueueKind>,
        /// Administrative PostgreSQL URL (a database is created and dropped per run).
        #[serde(default = "defaults::postgres_url")]
        postgres_url: String,
        /// Redis URL for the Redis queue.
        #[serde(default = "defaults::redis_url")]
        redis_url: String,
        /// Path of the `target-app` binary (default: next to `otelbench`).
        binary: Option<PathBuf>,
        /// Extra environment for both roles.
        #[serde(default)]
        env: BTreeMap<String, String>,
    },
    /// Any service started by a command, configured by environment variables.
    Command {
        /// The web process: program and arguments.
        command: Vec<String>,
        /// An optional second (worker) process.
        worker_command: Option<Vec<String>>,
        /// Environment for both processes.
        #[serde(default)]
        env: BTreeMap<String, String>,
        /// URL polled until it answers 2xx; `{port}` is replaced by the chosen port.
        ready_url: String,
        /// Variable through which the port is passed (default `PORT`).
        #[serde(default = "defaults::port_env")]
        port_env: String,
        /// Seconds to wait for readiness (default 60).
        #[serde(default = "defaults::ready_timeout")]
        ready_timeout_s: u64,
    },
}

impl Default for TargetSpec {
    fn default() -> Self {
        Self::Builtin {
            db: DbKind::Sqlite,
            queue: None,
            postgres_url: defaults::postgres_url(),
            redis_url: defaults::redis_url(),
            binary: None,
            env: BTreeMap::new(),
        }
    }
}

/// Storage of the built-in target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DbKind {
    /// SQLite file.
    #[default]
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Queue of the built-in target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueKind {
    /// SQLite table.
    Sqlite,
    /// PostgreSQL table.
    Postgres,
    /// Redis lists.
    Redis,
}

/// Load model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Open model: a fixed arrival rate; latency from each request's intended send time.
    Rate,
    /// Closed model: N users, no think time.
    Users,
    /// Capacity search: open-model steps, ramped then bisected to the highest rate whose
    /// measured window holds the `[slo]`.
    Capacity,
}

impl Model {
    /// The name in scenario files and results.json.
    pub fn name(self) -> &'static str {
        match self {
            Model::Rate => "rate",
            Model::Users => "users",
            Model::Capacity => "capacity",
        }
    }
}

/// The load.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// `rate`, `users` or `capacity`.
    pub model: Model,
    /// Requests per second (rate model).
    pub rate: Option<f64>,
    /// Concurrent users: the most requests in flight (rate model, default 32) or the closed-loop
    /// user count (users model).
    pub users: Option<u32>,
    /// Seconds of load before measuring (discarded).
    #[serde(default = "defaults::warmup")]
    pub warmup_s: f64,
    /// Seconds measured.
    pub duration_s: f64,
    /// Per-request timeout in seconds (default 30).
    #[serde(default = "defaults::timeout")]
    pub timeout_s: f64,
    /// Steps every user runs once before its first request (e.g. register and log in); their
    /// captures (such as a token) are kept for that user. Default for the built-in target:
    /// register, log in, create one article.
    pub setup: Option<Vec<RequestSpec>>,
    /// The weighted request mix. Default for the built-in target: list, get, create, favorite.
    pub requests: Option<Vec<RequestSpec>>,
}

/// One request template. Placeholders `{user}` (user number), `{seq}` (per-user counter),
/// `{run}` (random per run) and any captured variable (`{token}`, `{slug}`) are replaced in the
/// path, body strings and header values.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Name in reports.
    pub name: String,
    /// HTTP method.
    #[serde(default = "defaults::method")]
    pub method: String,
    /// Path (and query) on the target.
    pub path: String,
    /// JSON body.
    pub body: Option<toml::Value>,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Expected status (default: any 2xx).
    pub expect: Option<u16>,
    /// Relative weight in the mix (default 1).
    #[serde(default = "defaults::weight")]
    pub weight: u32,
    /// Variables to capture from the JSON response: name -> JSON pointer (`/slug`).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

/// Where telemetry goes.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum CollectorSpec {
    /// The harness's own OTLP sink (counts what arrives), healthy or playing a fault.
    Embedded {
        /// A collector fault for every variant that does not set its own: `down`,
        /// `slow:<duration>`, `error:<ratio>`, `reject`, `flap:<up>/<down>`, `blackhole`.
        #[serde(default)]
        fault: Option<String>,
    },
    /// A real collector, `rotel-agent` (`pip install rotel`), started for every run on free
    /// loopback ports, pinned beside the target like an agent, measured like a target process.
    Rotel {
        /// Path of `rotel-agent` (default: `OTELBENCH_ROTEL`, then PATH, then the `rotel`
        /// Python package).
        binary: Option<PathBuf>,
        /// `false` (default): rotel's blackhole exporter. `true`: rotel exports to the embedded
        /// sink over OTLP/gRPC, so what passed through the collector is counted.
        #[serde(default)]
        forward: bool,
    },
    /// A collector you run; the target is pointed at `endpoint`.
    External {
        /// OTLP endpoint URL.
        endpoint: String,
    },
}

impl Default for CollectorSpec {
    fn default() -> Self {
        Self::Embedded { fault: None }
    }
}

/// CPU placement.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    /// CPUs of the harness (load generator and sink).
    #[serde(default = "defaults::generator_cpus")]
    pub generator_cpus: Vec<usize>,
    /// CPUs of the target processes.
    #[serde(default = "defaults::target_cpus")]
    pub target_cpus: Vec<usize>,
    /// Set false to leave placement to the OS.
    #[serde(default = "defaults::yes")]
    pub pin: bool,
    /// Keep the generator's CPUs from halting between requests: a thread at idle priority spins
    /// on each (yielding to every other thread), and its CPU time is not counted as the
    /// generator's. On a virtual machine a halted vCPU can take tens of µs to milliseconds to
    /// wake for the next send; this removes that from the scheduling lag at the price of
    /// keeping those CPUs busy. `"auto"` (default): on when the CPU reports a hypervisor and
    /// `pin = true`; `true` forces it on (needs `pin = true`), `false` off.
    #[serde(default)]
    pub keep_awake: KeepAwake,
}

/// `placement.keep_awake`: `"auto"`, `true` or `false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeepAwake {
    /// On under a hypervisor when pinned, else off.
    #[default]
    Auto,
    /// Always on (`true`).
    On,
    /// Always off (`false`).
    Off,
}

impl KeepAwake {
    /// How the scenario spells it: `auto`, `true` or `false`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::On => "true",
            Self::Off => "false",
        }
    }
}

impl Serialize for KeepAwake {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto => s.serialize_str("auto"),
            Self::On => s.serialize_bool(true),
            Self::Off => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for KeepAwake {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = KeepAwake;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"true, false or "auto""#)
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<KeepAwake, E> {
                Ok(if v { KeepAwake::On } else { KeepAwake::Off })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeepAwake, E> {
                match v {
                    "auto" => Ok(KeepAwake::Auto),
                    "true" => Ok(KeepAwake::On),
                    "false" => Ok(KeepAwake::Off),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Default for PlacementSpec {
    fn default() -> Self {
        Self {
            generator_cpus: defaults::generator_cpus(),
            target_cpus: defaults::target_cpus(),
            pin: true,
            keep_awake: KeepAwake::Auto,
        }
    }
}

/// One variant: a name plus environment variables for the target.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Name in reports.
    pub name: String,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A collector fault the embedded sink plays in this variant's runs (overrides the
    /// collector's; `"none"` for a healthy collector).
    pub fault: Option<String>,
    /// This variant's own `target-app` binary (built-in target): another build of the target,
    /// run interleaved with the others (an A/B of two builds in one plan).
    pub binary: Option<PathBuf>,
    /// This variant's own web command (command target), replacing `target.command`.
    pub command: Option<Vec<String>>,
    /// This variant's own worker command (command target), replacing `target.worker_command`.
    pub worker_command: Option<Vec<String>>,
    /// The directory this variant's processes run in (command target), e.g. another checkout:
    /// relative programs and files resolve there.
    pub dir: Option<PathBuf>,
}

impl VariantSpec {
    /// This variant's own build of the target, when it names one.
    pub fn build(&self) -> Option<Build> {
        let b = Build {
            binary: self.binary.clone(),
            command: self.command.clone(),
            worker_command: self.worker_command.clone(),
            dir: self.dir.clone(),
        };
        (b != Build::default()).then_some(b)
    }
}

/// A variant's own build of the target: what it runs instead of the scenario's `[target]`
/// program, so two builds can be measured interleaved in one plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Build {
    /// The built-in target's `target-app` binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<PathBuf>,
    /// The command target's web command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// The command target's worker command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_command: Option<Vec<String>>,
    /// The command target's working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

/// Axes whose cartesian product becomes variants.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixSpec {
    /// The axes, in order; variant names join value names with `/`.
    pub axes: Vec<AxisSpec>,
}

/// One axis of a matrix.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    /// Axis name.
    pub name: String,
    /// Its values.
    pub values: Vec<VariantSpec>,
}

/// A validated scenario, ready to plan.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The file it came from.
    pub file: PathBuf,
    /// SHA-256 of the file's bytes.
    pub hash: String,
    /// Runs per variant.
    pub repetitions: u32,
    /// Order of runs.
    pub order: Order,
    /// Seed for randomized order.
    pub seed: u64,
    /// Baseline variant's name.
    pub baseline: String,
    /// Error-rate limit.
    pub max_error_rate: f64,
    /// How often transient failures are run again.
    pub retries: Retries,
    /// Target.
    pub target: TargetSpec,
    /// Load, with the default mix filled in.
    pub load: Load,
    /// Collector.
    pub collector: CollectorSpec,
    /// Placement.
    pub placement: PlacementSpec,
    /// Variants (explicit ones first, then the matrix, then the A/A copy).
    pub variants: Vec<Variant>,
    /// The baseline's A/A copy, when calibrating.
    pub calibration_variant: Option<String>,
    /// Decision thresholds, as fractions.
    pub thresholds: BTreeMap<String, f64>,
    /// Budget, as fractions.
    pub budget: BTreeMap<String, f64>,
    /// The A/B of two builds, when `run` was given `--baseline-target` and
    /// `--candidate-target` (see `ab`).
    pub ab: Option<ab::AbPlan>,
    /// The capacity search and its SLO (`load.model = "capacity"`).
    pub capacity: Option<capacity::CapacityPlan>,
    /// Profiling runs after the measured plan (`profile = true` or `run --profile`).
    pub profile: Option<profile::Profiler>,
    /// The profiler's settings, whether or not this scenario profiles (`run --profile` uses
    /// them).
    pub profiler: profile::Profiler,
    /// A service already running elsewhere, which the harness only sends load to
    /// (`run --target-url`): no target, collector or storage is started.
    pub external: Option<shard::External>,
    /// This instance of a scaled-out run (`run --shard I/N`).
    pub shard: Option<Sharding>,
}

/// This instance of a scaled-out run, resolved (see `shard`).
#[derive(Debug, Clone, Serialize)]
pub struct Sharding {
    /// Which instance.
    pub shard: shard::Shard,
    /// When run 0 of the plan starts its schedules.
    pub start_at: std::time::SystemTime,
    /// This instance's first user id (`{user}` placeholders start here).
    pub first_user: u32,
    /// What results.json records.
    pub record: shard::ShardRecord,
}

/// How often a run invalid for a transient reason is run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retries {
    /// Further attempts per planned run (`max_retries`, default 2).
    pub per_run: u32,
    /// Further attempts over the whole plan (`max_total_retries`); `None`: half the plan.
    pub total: Option<u32>,
}

impl Retries {
    /// Further attempts allowed over a plan of `runs` runs: the scenario's cap, else half the
    /// plan (at least 1).
    pub fn total_for(&self, runs: usize) -> u32 {
        self.total
            .unwrap_or_else(|| u32::try_from(runs.div_ceil(2).max(1)).unwrap_or(u32::MAX))
    }
}

/// The load with defaults applied.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    /// Model.
    pub model: Model,
    /// Requests per second (rate model).
    pub rate: Option<f64>,
    /// Users.
    pub users: u32,
    /// Warm-up seconds.
    pub warmup_s: f64,
    /// Measured seconds.
    pub duration_s: f64,
    /// Request timeout seconds.
    pub timeout_s: f64,
    /// Once-per-user steps.
    pub setup: Vec<RequestSpec>,
    /// The mix.
    pub requests: Vec<RequestSpec>,
}

impl Load {
    /// The rate the plan asks for: the rate model's; none for the other models.
    pub fn target_rps(&self) -> Option<f64> {
        if self.model == Model::Rate {
            self.rate
        } else {
            None
        }
    }
}

/// A variant with its final environment.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Variant {
    /// Name.
    pub name: String,
    /// Environment for the target.
    pub env: BTreeMap<String, String>,
    /// The collector fault played in this variant's runs (embedded collector only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// The variant's own build of the target (default: the scenario's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
}

/// Reads, parses and validates `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::one(
            path,
            None,
            "(file)",
            format!("cannot be read: {e}"),
            "check the path",
        )
    })?;
    parse(path, &text)
}

/// Parses and validates scenario `text` that came from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| error::line_of(text, s.start));
        let message = e.message().trim().to_string();
        let fix = if message.contains("unknown field") {
            "remove or rename the field (see scenarios/README.md for the fields)"
        } else if message.contains("missing field") {
            "add the field"
        } else if message.contains("invalid type") {
            "give the value the type shown"
        } else {
            "correct the TOML at that line"
        };
        ScenarioError::one(path, line, "(syntax)", message, fix)
    })?;
    validate::validate(path, text, file)
}

/// SHA-256 of `bytes`, as hex.
pub fn hash(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
