//! Command-line parsing and dispatch. Exit codes: 0 success, 1 a variant ended short of valid
//! runs (or the plan was interrupted, or a gate failed), 2 bad input (the message names the
//! file, the field and the fix).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::results::{self, Results};
use crate::runner::{self, RunOptions};
use crate::scenario::{self, ScenarioError};
use crate::sink::{Sink, SinkOptions};
use crate::{report, stats};

/// Telemetry-overhead benchmark harness.
#[derive(Debug, Parser)]
#[command(name = "otelbench", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario: every variant, every repetition; writes DIR/results.json.
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Output directory (default reports/<name>-<timestamp>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the scenario's repetitions.
        #[arg(long)]
        repetitions: Option<u32>,
        /// Override the measured seconds per run.
        #[arg(long)]
        duration: Option<f64>,
        /// A fast look: 1 repetition, 1 s warm-up, 3 s measured.
        #[arg(long)]
        quick: bool,
        /// Add profiling runs per variant after the measured plan: CPU profiles with `perf`,
        /// flame graphs, and where the added CPU per request goes (see `[profiler]`).
        #[arg(long)]
        profile: bool,
        #[command(flatten)]
        ab: AbArgs,
        #[command(flatten)]
        scale: ScaleArgs,
    },
    /// Parse and check scenario files without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Re-render the reports of a results file (statistics recomputed).
    Report {
        /// A results.json written by `run`.
        results: PathBuf,
        /// Output directory (default: the results file's directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compare two results files of one scenario: exit 0 no regression, 1 a regression beyond
    /// the thresholds, 2 unusable input.
    Compare {
        /// The reference results (e.g. from the main branch).
        base: PathBuf,
        /// The results to judge.
        new: PathBuf,
        /// Gated metrics and thresholds.
        #[arg(long, default_value = "cpu_adjusted=5%,p99=10%")]
        max_regression: String,
        /// Also write the summary as Markdown (for a pull-request comment).
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Fail on an inconclusive gated metric too.
        #[arg(long)]
        strict: bool,
    },
    /// Can this machine give valid latency? Probes the generator's CPUs (about 5 s each) and says
    /// what to change: exit 0 yes or probably, 1 no.
    Doctor {
        /// Take the rate and placement from this scenario (default: 400 req/s, generator on
        /// CPU 0, target on CPU 1, keep_awake auto).
        scenario: Option<PathBuf>,
        /// Judge for this rate instead, requests/s.
        #[arg(long)]
        rate: Option<f64>,
    },
    /// Combine the shards of one scaled-out run (`run --shard I/N`) exactly and write its
    /// results.json and reports: exit 0 every variant valid, 1 a shard's run made a variant
    /// short of valid runs, 2 inputs that are not the shards of one run.
    Merge {
        /// Every instance's results.json.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output directory of the merged results.json and reports.
        #[arg(long)]
        out: PathBuf,
        /// Target-side readings (`otelbench sample --out FILE`) to join to the runs' windows:
        /// the target's CPU per request and RSS.
        #[arg(long)]
        samples: Vec<PathBuf>,
    },
    /// Record a target's CPU and RSS from /proc (on its machine) until stopped, for `merge
    /// --samples`: the target-side figures of a service `run --target-url` does not start.
    Sample {
        /// A process tree to sample: `[NAME=]PID` (repeatable).
        #[arg(long)]
        pid: Vec<String>,
        /// A process tree found by its command line: `[NAME=]PATTERN`, the oldest process whose
        /// command line contains PATTERN (repeatable).
        #[arg(long)]
        pgrep: Vec<String>,
        /// Where to write the readings (JSON lines); `-` for stdout.
        #[arg(long)]
        out: String,
        /// Between readings, ms.
        #[arg(long, default_value_t = 100)]
        interval_ms: u64,
        /// Stop after this many seconds (default: on Ctrl-C/SIGTERM, or when every process
        /// has exited).
        #[arg(long)]
        duration: Option<f64>,
    },
    /// Run the OTLP receiver on its own and print what arrives.
    Sink {
        /// gRPC listen address.
        #[arg(long, default_value = "127.0.0.1:4317")]
        grpc: SocketAddr,
        /// HTTP listen address.
        #[arg(long, default_value = "127.0.0.1:4318")]
        http: SocketAddr,
        /// Play a collector fault: down, slow:<duration>, error:<ratio>, reject,
        /// flap:<up>/<down>, blackhole.
        #[arg(long)]
        fault: Option<String>,
    },
}

/// `run`'s A/B of two builds: every variant runs on both, interleaved, and the candidate is
/// judged against the base: exit 1 only on a gated regression (or, with `--strict`, on a
/// verdict that could not be reached).
#[derive(Debug, clap::Args)]
struct AbArgs {
    /// The base build: its target-app binary (built-in target), or the checkout directory a
    /// command target's commands run in.
    #[arg(long, requires = "candidate_target")]
    baseline_target: Option<PathBuf>,
    /// The candidate build, likewise.
    #[arg(long, requires = "baseline_target")]
    candidate_target: Option<PathBuf>,
    /// The A/B's gated metrics and thresholds.
    #[arg(long, requires = "baseline_target")]
    max_regression: Option<String>,
    /// Fail the A/B also when a gated metric is inconclusive or a variant ended short of valid
    /// runs (default: reported, not failed).
    #[arg(long, requires = "baseline_target")]
    strict: bool,
}

/// `run` against a service already running elsewhere, as one instance of N (see
/// `scenario::shard`).
#[derive(Debug, clap::Args)]
struct ScaleArgs {
    /// Drive a service that is already running at this base URL (e.g. http://my-service:8000):
    /// no target, collector or storage is started; the scenario still gives the load and the
    /// readiness path.
    #[arg(long)]
    target_url: Option<String>,
    /// Run only this variant of the scenario (the one the running service is configured as).
    #[arg(long)]
    variant: Option<String>,
    /// Be instance I (0-based) of N, driving 1/N of the rate (or the users) on slots
    /// interleaved with the others'. `--shard N` takes I from JOB_COMPLETION_INDEX (a
    /// Kubernetes Indexed Job). Needs --target-url and --start-at.
    #[arg(long)]
    shard: Option<String>,
    /// When the load starts, the same for every instance: RFC 3339 UTC
    /// (2026-12-03T10:00:00Z) or unix seconds; default: OTELBENCH_START_AT.
    #[arg(long)]
    start_at: Option<String>,
}

impl ScaleArgs {
    /// The options parsed (with JOB_COMPLETION_INDEX and OTELBENCH_START_AT).
    fn parse(&self) -> Result<scenario::shard::ScaleOut, InputError> {
        use scenario::shard::{INDEX_ENV, START_ENV, Shard, parse_start};
        let index = std::env::var(INDEX_ENV).ok();
        let shard = self
            .shard
            .as_deref()
            .map(|s| Shard::parse(s, index.as_deref()))
            .transpose()
            .map_err(InputError)?;
        let start = self
            .start_at
            .clone()
            .or_else(|| shard.and_then(|_| std::env::var(START_ENV).ok()));
        let start_at = start
            .as_deref()
            .map(parse_start)
            .transpose()
            .map_err(InputError)?;
        Ok(scenario::shard::ScaleOut {
            target_url: self.target_url.clone(),
            shard,
            start_at,
            variant: self.variant.clone(),
        })
    }
}

/// An error in what the user gave: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl From<ScenarioError> for InputError {
    fn from(e: ScenarioError) -> Self {
        Self(e.to_string())
    }
}

/// Parses `args` (program name first) and runs the command.
pub async fn run(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Ok(if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            });
        }
    };
    match cli.command {
        Command::Validate { scenarios } => Ok(validate(&scenarios)),
        Command::Run {
            scenario,
            out,
            repetitions,
            duration,
            quick,
            profile,
            ab,
            scale,
        } => {
            let overrides = Overrides {
                repetitions,
                duration,
                quick,
                profile,
                scale: scale.parse()?,
            };
            Box::pin(run_scenario(&args, &scenario, out, &overrides, &ab)).await
        }
        Command::Report { results, out } => report(&results, out),
        Command::Compare {
            base,
            new,
            max_regression,
            markdown,
            strict,
        } => compare(&base, &new, &max_regression, markdown.as_deref(), strict),
        Command::Sink { grpc, http, fault } => sink(grpc, http, fault.as_deref()).await,
        Command::Merge {
            shards,
            out,
            samples,
        } => merge(&args, &shards, &out, &samples),
        Command::Sample {
            pid,
            pgrep,
            out,
            interval_ms,
            duration,
        } => Box::pin(sample(&pid, &pgrep, &out, interval_ms, duration)).await,
        Command::Doctor { scenario, rate } => doctor(scenario.as_deref(), rate).await,
    }
}

/// Reads a results file given on the command line: any problem is bad input.
fn read_results(path: &Path) -> Result<Results, InputError> {
    results::writer::read(path).map_err(|e| {
        InputError(format!(
            "{e:#}; fix: give a results.json written by `otelbench run`"
        ))
    })
}

fn report(file: &Path, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut results = read_results(file)?;
    stats::refresh(&mut results);
    let dir = match out {
        Some(dir) => dir,
        // Reports go beside the file; only a file named results.json is rewritten in place, so
        // `report dir/base.json` cannot overwrite another run's results.json and reports.
        None if file.file_name().is_some_and(|n| n == "results.json") => file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        None => {
            return Err(InputError(format!(
                "{} is not named results.json; fix: give --out DIR for its reports",
                file.display()
            ))
            .into());
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        InputError(format!(
            "--out {}: cannot create the directory: {e}; fix: choose a writable directory",
            dir.display()
        ))
    })?;
    copy_profiles(file, &dir, &mut results)?;
    results::writer::write(&dir, &results)?;
    for path in report::write_all(&dir, &results)? {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Attributes the profiles' folded stacks beside `file` afresh and copies them into `dir`
/// (their flame graphs are drawn from them), unless they are there already.
fn copy_profiles(file: &Path, dir: &Path, results: &mut Results) -> anyhow::Result<()> {
    let source = file.parent().unwrap_or(Path::new("."));
    for p in results.profiles.iter_mut().filter(|p| p.has_samples()) {
        let (from, to) = (source.join(&p.folded), dir.join(&p.folded));
        if let Ok(folded) = std::fs::read_to_string(&from) {
            stats::profile::fill(p, &folded);
        }
        if from == to || !from.is_file() {
            continue;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// `otelbench merge`: the shards checked and combined, the samples joined, the reports written.
fn merge(
    args: &[String],
    files: &[PathBuf],
    out: &Path,
    sample_files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let inputs = files
        .iter()
        .map(|f| Ok((f.display().to_string(), read_results(f)?)))
        .collect::<Result<Vec<_>, InputError>>()?;
    let samples = sample_files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).map_err(|e| {
                InputError(format!("--samples {}: cannot be read: {e}", f.display()))
            })?;
            let parsed = crate::sidecar::file::parse(&text)
                .map_err(|e| InputError(format!("--samples {}: {e}", f.display())))?;
            Ok((f.display().to_string(), parsed))
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    let merged = crate::merge::merge(inputs, &samples, command_line(args)).map_err(InputError)?;
    for w in &merged.warnings {
        eprintln!("otelbench merge: WARNING: {w}");
    }
    let mut results = merged.results;
    stats::refresh(&mut results);
    std::fs::create_dir_all(out).map_err(|e| {
        InputError(format!(
            "--out {}: cannot create the directory: {e}; fix: choose a writable directory",
            out.display()
        ))
    })?;
    results::writer::write(out, &results)?;
    for path in report::write_all(out, &results)? {
        println!("{}", path.display());
    }
    let tally = stats::completeness::completeness(&results);
    eprintln!(
        "otelbench merge: {} shards: {}",
        results.merged_from.len(),
        tally.headline()
    );
    for short in &tally.short {
        eprintln!("otelbench merge: ended short: {short}");
    }
    Ok(if tally.short.is_empty() && !results.interrupted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `otelbench sample`: the sidecar, until stopped.
async fn sample(
    pids: &[String],
    patterns: &[String],
    out: &str,
    interval_ms: u64,
    duration: Option<f64>,
) -> anyhow::Result<ExitCode> {
    use crate::sidecar::{SampleOptions, parse_pgrep, parse_pid, record};
    let mut processes = std::collections::BTreeMap::new();
    let found = pids
        .iter()
        .map(|p| parse_pid(p))
        .chain(patterns.iter().map(|p| parse_pgrep(p)));
    for f in found {
        let (name, pid) = f.map_err(InputError)?;
        if processes.insert(name.clone(), pid).is_some() {
            return Err(InputError(format!(
                "--pid/--pgrep: the name {name:?} is given twice; fix: name each process, e.g. --pid web=PID --pid worker=PID"
            ))
            .into());
        }
    }
    if processes.is_empty() {
        return Err(InputError(
            "otelbench sample: no process given; fix: give --pid [NAME=]PID or --pgrep [NAME=]PATTERN".into(),
        )
        .into());
    }
    if !(1..=60_000).contains(&interval_ms) {
        return Err(InputError(format!("--interval-ms {interval_ms}: give 1 to 60000")).into());
    }
    let duration = match duration {
        Some(d) if d.is_finite() && d > 0.0 && d < 1e7 => Some(Duration::from_secs_f64(d)),
        Some(d) => {
            return Err(
                InputError(format!("--duration {d}: give a positive number of seconds")).into(),
            );
        }
        None => None,
    };
    let options = SampleOptions {
        processes,
        interval: Duration::from_millis(interval_ms),
        duration,
    };
    let mut writer: Box<dyn std::io::Write> = if out == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::fs::File::create(out).map_err(|e| {
            InputError(format!(
                "--out {out}: cannot create: {e}; fix: choose a writable path"
            ))
        })?)
    };
    let n = record(&options, &mut writer).await?;
    eprintln!("otelbench sample: {n} readings written");
    Ok(ExitCode::SUCCESS)
}

fn compare(
    base: &Path,
    new: &Path,
    gate: &str,
    markdown: Option<&Path>,
    strict: bool,
) -> anyhow::Result<ExitCode> {
    let gate = stats::compare::parse_gate(gate)
        .map_err(|e| InputError(format!("--max-regression: {e}")))?;
    let (b, n) = (read_results(base)?, read_results(new)?);
    let comparison = stats::compare::compare(&b, &n, &gate)
        .map_err(|e| InputError(format!("{} vs {}: {e}", base.display(), new.display())))?;
    let doc = report::comparison::document(
        &comparison,
        strict,
        &base.display().to_string(),
        &new.display().to_string(),
    );
    let text = report::markdown::render(&doc);
    print!("{text}");
    if let Some(path) = markdown {
        // Exit 1 means a regression: a path that cannot be written is bad input (2).
        std::fs::write(path, &text).map_err(|e| {
            InputError(format!(
                "--markdown {}: cannot write: {e}; fix: choose a writable path",
                path.display()
            ))
        })?;
    }
    Ok(match comparison.outcome(strict) {
        stats::compare::Outcome::Pass => ExitCode::SUCCESS,
        stats::compare::Outcome::Fail => ExitCode::FAILURE,
    })
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        match scenario::load(file) {
            Ok(s) => println!(
                "{}: ok ({} variants x {} repetitions, {:.0} s of load each)",
                file.display(),
                s.variants.len(),
                s.repetitions,
                s.load.warmup_s + s.load.duration_s
            ),
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `run`'s overrides of the scenario.
struct Overrides {
    repetitions: Option<u32>,
    duration: Option<f64>,
    quick: bool,
    profile: bool,
    scale: scenario::shard::ScaleOut,
}

/// The scenario with `run`'s overrides and A/B applied; any problem is bad input.
fn planned(file: &Path, o: &Overrides, ab: &AbArgs) -> Result<scenario::Scenario, InputError> {
    let (repetitions, duration, quick) = (o.repetitions, o.duration, o.quick);
    let mut scenario = scenario::load(file).map_err(InputError::from)?;
    if quick {
        scenario.repetitions = 1;
        scenario.load.warmup_s = 1.0;
        scenario.load.duration_s = 3.0;
    }
    if let Some(r) = repetitions {
        if r == 0 || r > scenario::limits::MAX_REPETITIONS {
            return Err(InputError(format!(
                "--repetitions {r}: give 1 to {}",
                scenario::limits::MAX_REPETITIONS
            )));
        }
        scenario.repetitions = r;
    }
    if let Some(d) = duration {
        if let Some((message, fix)) = scenario::limits::DURATION_S.check(d) {
            return Err(InputError(format!("--duration: {message}; fix: {fix}")));
        }
        scenario.load.duration_s = d;
    }
    if o.profile {
        scenario.profile = Some(scenario.profiler);
    }
    if let (Some(base), Some(candidate)) = (&ab.baseline_target, &ab.candidate_target) {
        let gate = match &ab.max_regression {
            Some(spec) => stats::compare::parse_gate(spec)
                .map_err(|e| InputError(format!("--max-regression: {e}")))?,
            None => stats::compare::default_gate(),
        };
        scenario::ab::expand(&mut scenario, base, candidate, gate, ab.strict)
            .map_err(InputError)?;
    }
    scenario::shard::apply(&mut scenario, &o.scale).map_err(InputError)?;
    Ok(scenario)
}

async fn run_scenario(
    args: &[String],
    file: &Path,
    out: Option<PathBuf>,
    overrides: &Overrides,
    ab: &AbArgs,
) -> anyhow::Result<ExitCode> {
    let scenario = planned(file, overrides, ab)?;
    let resolved =
        runner::resolve(&scenario).map_err(|e| InputError(format!("{}: {e:#}", file.display())))?;
    let out_dir = out.unwrap_or_else(|| runner::default_out_dir(&scenario));
    // An unusable output directory is bad input, found before the first run.
    std::fs::create_dir_all(&out_dir).map_err(|e| {
        InputError(format!(
            "--out {}: cannot create the directory: {e}; fix: choose a writable directory",
            out_dir.display()
        ))
    })?;
    let options = RunOptions {
        out_dir,
        command_line: command_line(args),
        progress: true,
    };
    let outcome = runner::run(&scenario, &resolved, &options).await?;
    let tally = stats::completeness::completeness(&outcome.results);
    eprintln!(
        "otelbench: {} written to {}",
        tally.headline(),
        outcome.path.display()
    );
    // results.json is complete at this point: a failure to draw a report loses no measurement.
    let written = report::write_all(&options.out_dir, &outcome.results)
        .with_context(|| format!("writing the reports next to {}", outcome.path.display()))?;
    if let Some(md) = written.first() {
        eprintln!("otelbench: report: {}", md.display());
    }
    if let Some(r) = &outcome.results.recommendation {
        eprintln!(
            "otelbench: recommendation: {}",
            r.chosen_variant
                .as_deref()
                .unwrap_or("none fits the budget")
        );
    }
    if outcome.results.interrupted {
        eprintln!("otelbench: interrupted; the finished runs are in results.json");
        return Ok(ExitCode::FAILURE);
    }
    for short in &tally.short {
        eprintln!("otelbench: ended short: {short}");
    }
    if let Some(plan) = &outcome.results.scenario.ab {
        return Ok(ab_exit(plan, &outcome.results, !tally.short.is_empty()));
    }
    Ok(if tally.short.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// An A/B's verdict on the terminal and its exit code: 1 on a gated regression; a verdict that
/// could not be reached (too few valid runs, inconclusive) fails only with `--strict`.
fn ab_exit(plan: &scenario::ab::AbPlan, results: &Results, short: bool) -> ExitCode {
    let Some(judged) = stats::ab::judge(results) else {
        return ExitCode::FAILURE;
    };
    let section = report::comparison::ab_section(plan, &judged);
    let doc = report::document::Document {
        title: format!("otelbench A/B: {}", results.scenario.name),
        sections: vec![section],
    };
    print!("{}", report::markdown::render(&doc));
    let failed = match &judged {
        Ok(c) => c.outcome(plan.strict) == stats::compare::Outcome::Fail,
        Err(_) => plan.strict,
    } || (short && plan.strict);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `otelbench doctor`: the machine check, with and without keep-awake where it matters.
async fn doctor(file: Option<&Path>, rate: Option<f64>) -> anyhow::Result<ExitCode> {
    let scenario = file
        .map(|f| scenario::load(f).map_err(InputError::from))
        .transpose()?;
    let placement = scenario
        .as_ref()
        .map_or_else(scenario::PlacementSpec::default, |s| s.placement.clone());
    let rate = match rate.or_else(|| scenario.as_ref().and_then(|s| s.load.rate)) {
        Some(r) => match scenario::limits::RATE.check(r) {
            None => r,
            Some((message, fix)) => {
                return Err(InputError(format!("--rate: {message}; fix: {fix}")).into());
            }
        },
        None => 400.0,
    };
    if placement.pin {
        runner::placement::check("generator_cpus", &placement.generator_cpus)
            .and_then(|()| runner::placement::check("target_cpus", &placement.target_cpus))
            .map_err(|e| InputError(format!("{e:#}")))?;
    }
    let hypervisor = results::environment::hypervisor();
    let (keep_awake, setting) =
        runner::awake::resolve(placement.keep_awake, placement.pin, hypervisor);
    let cpus = placement.pin.then(|| placement.generator_cpus.clone());
    println!(
        "otelbench doctor: {rate:.0} req/s, generator on CPU {}, keep_awake {setting}",
        cpus.as_ref().map_or_else(
            || "any".to_string(),
            |c| c
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    );
    let probe = |awake: bool| {
        let cpus = cpus.clone();
        let setting = placement.keep_awake;
        async move {
            let spec = crate::machine::CheckSpec {
                spin: Duration::from_secs(2),
                timer: Duration::from_secs(3),
                ..crate::machine::CheckSpec::before_plan(cpus.clone(), rate, setting, awake)
            };
            let spinners = match (&cpus, awake) {
                (Some(c), true) => Some(runner::awake::KeepAwake::start(c)?),
                _ => None,
            };
            let check = tokio::task::spawn_blocking(move || crate::machine::check(&spec)).await?;
            drop(spinners);
            anyhow::Ok(check)
        }
    };
    // What keep-awake buys, where it can matter.
    if placement.pin && (hypervisor || keep_awake) {
        let other = probe(!keep_awake).await?;
        println!(
            "  with keep_awake {}: timer lag p99 {} µs",
            if keep_awake { "off" } else { "on" },
            other
                .probes
                .iter()
                .map(|p| p.timer_lag_p99_us.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let check = probe(keep_awake).await?;
    for line in &check.findings {
        println!("  {line}");
    }
    println!(
        "Can this machine give valid latency at {rate:.0} req/s? {}",
        check.verdict.words()
    );
    for line in &check.advice {
        println!("  to change: {line}");
    }
    Ok(if check.verdict == results::MachineVerdict::Poor {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The command line, quoted for a shell, as results.json records it.
fn command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A warning for each listen address of `otelbench sink` that is not loopback.
fn beyond_loopback(grpc: SocketAddr, http: SocketAddr) -> Vec<String> {
    [("--grpc", grpc), ("--http", http)]
        .into_iter()
        .filter(|(_, addr)| !addr.ip().is_loopback())
        .map(|(name, addr)| {
            format!(
                "{name} {addr} listens beyond this machine: any host that reaches it can send it telemetry; bind 127.0.0.1 unless another machine must export here"
            )
        })
        .collect()
}

async fn sink(grpc: SocketAddr, http: SocketAddr, fault: Option<&str>) -> anyhow::Result<ExitCode> {
    let fault = fault
        .map(str::parse::<crate::sink::Fault>)
        .transpose()
        .map_err(|e| InputError(format!("--fault: {e}")))?;
    for warning in beyond_loopback(grpc, http) {
        eprintln!("otelbench sink: WARNING: {warning}");
    }
    let sink = Sink::start(SinkOptions {
        grpc,
        http,
        keep_spans: false,
        background: false,
        fault,
    })?;
    println!(
        "otelbench sink: OTLP gRPC on {}, HTTP on {}{} (Ctrl-C to stop)",
        sink.grpc_endpoint(),
        sink.http_endpoint(),
        fault.map_or_else(String::new, |f| format!(", playing the fault {f}"))
    );
    let mut cancel = runner::interrupt::install();
    let mut last = sink.stats().counts();
    loop {
        tokio::select! {
            () = runner::interrupt::interrupted(&mut cancel) => break,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                let now = sink.stats().counts();
                if now != last {
                    println!("{}", serde_json::to_string(&now)?);
                    last = now;
                }
            }
        }
    }
    let counts = sink.stats().counts();
    let recovery = sink.stats().recovery();
    sink.stop().await?;
    println!("{}", serde_json::to_string(&counts)?);
    if matches!(fault, Some(crate::sink::Fault::Flap { .. })) {
        println!("{}", serde_json::to_string(&recovery)?);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smoke() -> String {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/smoke.toml")
            .display()
            .to_string()
    }

    #[tokio::test]
    async fn an_unrepresentable_duration_is_bad_input_not_a_panic() {
        // Regression for issue 19: `--duration 1e300` panicked in Duration::from_secs_f64.
        for d in ["1e300", "0", "inf"] {
            let args = ["otelbench", "run", &smoke(), "--duration", d]
                .map(String::from)
                .to_vec();
            let e = run(args).await.unwrap_err();
            assert!(e.downcast_ref::<InputError>().is_some(), "{d}: {e:#}");
            assert!(e.to_string().contains("--duration"), "{e}");
        }
    }

    #[test]
    fn the_sink_warns_for_each_address_beyond_loopback() {
        let local: SocketAddr = "127.0.0.1:4317".parse().unwrap();
        let open: SocketAddr = "0.0.0.0:4318".parse().unwrap();
        assert!(beyond_loopback(local, local).is_empty());
        let w = beyond_loopback(local, open);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("--http 0.0.0.0:4318 listens beyond"),
            "{w:?}"
        );
        assert_eq!(beyond_loopback(open, "[::]:1".parse().unwrap()).len(), 2);
        assert!(beyond_loopback(local, "[::1]:1".parse().unwrap()).is_empty());
    }

    #[tokio::test]
    async fn doctor_refuses_a_rate_it_cannot_schedule() {
        let args = ["otelbench", "doctor", "--rate", "1e-300"]
            .map(String::from)
            .to_vec();
        let e = run(args).await.unwrap_err();
        assert!(e.downcast_ref::<InputError>().is_some(), "{e:#}");
    }
}
