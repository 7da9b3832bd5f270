//! The run pipeline: for each planned run, start the sink and the target, wait until ready,
//! warm up, measure (load, CPU, RSS), stop the target so it flushes, let the sink settle,
//! record, and rewrite results.json before the next run.

pub mod after_window;
pub mod attempts;
pub mod awake;
mod capacity;
pub mod collector;
pub mod cpu;
pub mod health;
mod idle_shutdown;
pub mod interrupt;
pub mod placement;
pub mod ports;
pub mod profile;
mod record;
pub mod redact;
mod resolve;
pub mod roles;
pub mod sampler;
mod setup;
pub mod shard;
pub mod storage;
pub mod target;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::watch;

use crate::load::recorder::Recorder;
use crate::load::{self, LoadPlan};
use crate::plan::{PlannedRun, plan};
use crate::results::{self, Placement, Results, RunResult, ScenarioRef};
use crate::scenario::{Model, Scenario, TargetSpec, Variant};
use crate::stats;

use self::resolve::which;
pub use self::resolve::{ResolvedTarget, resolve};

use self::collector::RunCollector;
use self::setup::Setup;
use self::target::Running;

/// Launches of a command target whose port another process took, before the run fails.
const PORT_TRIES: u32 = 3;

/// How long a target gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// Options of `otelbench run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Output directory (created).
    pub out_dir: PathBuf,
    /// The command line, recorded for reproduction.
    pub command_line: String,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

/// How the plan ended.
#[derive(Debug)]
pub struct Outcome {
    /// The results (also on disk).
    pub results: Results,
    /// Where they are.
    pub path: PathBuf,
}

/// What every run of one plan shares.
#[derive(Clone)]
struct Ctx<'a> {
    scenario: &'a Scenario,
    resolved: &'a ResolvedTarget,
    /// The placement every run records (keep-awake resolved).
    placement: Placement,
    progress: bool,
    /// A profiling run's recording (none in a measured run).
    profile: Option<&'a profile::Slot>,
}

/// Raised when Ctrl-C or SIGTERM stopped the plan.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Runs the whole plan, rewriting `out_dir/results.json` after every run.
pub async fn run(
    scenario: &Scenario,
    resolved: &ResolvedTarget,
    options: &RunOptions,
) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&options.out_dir).with_context(|| {
        format!(
            "creating the output directory {}",
            options.out_dir.display()
        )
    })?;
    let mut results = Results {
        shard: scenario.shard.as_ref().map(|s| s.record.clone()),
        ..Results::new(
            scenario_ref(scenario),
            results::Environment::detect(),
            options.command_line.clone(),
            now_rfc3339(),
        )
    };
    // Written before the first run, so a bad output path fails at once.
    results::writer::write(&options.out_dir, &results)?;
    let mut cancel = interrupt::install();
    let p = &scenario.placement;
    if p.pin {
        placement::pin_self(&p.generator_cpus)?;
    }
    let (keep_awake, keep_awake_setting) =
        awake::resolve(p.keep_awake, p.pin, results.environment.hypervisor);
    // Spins until the plan ends (dropped on every path out of this function).
    let _awake = if keep_awake {
        Some(awake::KeepAwake::start(&p.generator_cpus)?)
    } else {
        None
    };
    results.machine_check = check_machine(scenario, keep_awake).await?;
    let ctx = Ctx {
        scenario,
        resolved,
        placement: recorded_placement(p, keep_awake, keep_awake_setting),
        progress: options.progress,
        profile: None,
    };
    run_plan(&ctx, &mut results, &options.out_dir, &mut cancel).await?;
    // A capacity search interrupted mid-way is recorded with its steps; the plan ends there.
    results.interrupted |= *cancel.borrow();
    if let Some(spec) = scenario.profile.filter(|_| !results.interrupted) {
        stats::refresh(&mut results);
        match profile::profile_all(&ctx, spec, &mut results, &options.out_dir, &mut cancel).await {
            Ok(()) => {}
            Err(e) if e.is::<Interrupted>() => results.interrupted = true,
            // The measured runs are kept whatever befalls the profiles.
            Err(e) => eprintln!("otelbench: profiling stopped: {e:#}"),
        }
    }
    results.finished_at = now_rfc3339();
    stats::refresh(&mut results);
    results::writer::write(&options.out_dir, &results)?;
    Ok(Outcome {
        path: results::writer::results_path(&options.out_dir),
        results,
    })
}

/// The scenario as results.json records it.
fn scenario_ref(scenario: &Scenario) -> ScenarioRef {
    ScenarioRef {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        hash: scenario.hash.clone(),
        file: scenario.file.display().to_string(),
        baseline: scenario.baseline.clone(),
        variants: scenario.variants.iter().map(|v| v.name.clone()).collect(),
        repetitions: scenario.repetitions,
        calibration_variant: scenario.calibration_variant.clone(),
        thresholds: scenario.thresholds.clone(),
        budget: scenario.budget.clone(),
        ab: scenario.ab.clone(),
        capacity: scenario.capacity,
    }
}

/// Every place of the plan in its order, each run (and its retries) appended to `results` and
/// saved as it ends. An interrupt ends the plan early (`results.interrupted`); only a failure
/// to save is an error.
async fn run_plan(
    ctx: &Ctx<'_>,
    results: &mut Results,
    out_dir: &Path,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let scenario = ctx.scenario;
    let order = if scenario.ab.is_some() {
        crate::plan::paired
    } else {
        plan
    };
    let runs = order(
        scenario.variants.len(),
        scenario.repetitions,
        scenario.order,
        scenario.seed,
    );
    if let Some(estimate) = capacity::estimate(scenario) {
        eprintln!("otelbench: {estimate}");
    }
    let mut budget = attempts::Budget::new(scenario.retries, runs.len());
    let total = runs.len();
    for (i, planned) in runs.into_iter().enumerate() {
        let variant = &scenario.variants[planned.variant];
        // A service the harness does not start is not stopped at rest either.
        if scenario.external.is_none() && !results.idle_shutdown.contains_key(&variant.name) {
            // Only an interrupt stops the control; a failure is recorded in it.
            let Ok(control) = idle_shutdown::idle_shutdown(ctx, variant, cancel).await else {
                results.interrupted = true;
                return Ok(());
            };
            eprintln!("otelbench: {}: {}", variant.name, control.describe());
            results.idle_shutdown.insert(variant.name.clone(), control);
        }
        let place = Place {
            number: i + 1,
            total,
            variant,
            planned,
        };
        match run_place(ctx, &place, results, &mut budget, out_dir, cancel).await {
            Ok(()) => {}
            Err(e) if e.is::<Interrupted>() => {
                results.interrupted = true;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One place of the plan.
struct Place<'a> {
    /// Its number (1-based) and the plan's count.
    number: usize,
    total: usize,
    variant: &'a Variant,
    planned: PlannedRun,
}

/// One place of the plan: its run (a capacity search, or one measured run), and again in its
/// place while the retry budget allows a run the generator spoiled.
async fn run_place(
    ctx: &Ctx<'_>,
    place: &Place<'_>,
    results: &mut Results,
    budget: &mut attempts::Budget,
    out_dir: &Path,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (scenario, variant, planned) = (ctx.scenario, place.variant, place.planned);
    let idle = results.idle_shutdown.get(&variant.name).cloned();
    // A capacity search starts at the median of this variant's earlier capacities.
    let seed = scenario
        .capacity
        .and_then(|_| stats::capacity::seed(&results.runs, &variant.name));
    attempts::run_place(
        results,
        budget,
        async |attempt| {
            eprintln!(
                "otelbench: run {}/{}: {} (repetition {}/{}{})",
                place.number,
                place.total,
                variant.name,
                planned.repetition,
                scenario.repetitions,
                if attempt > 1 {
                    format!(", attempt {attempt}")
                } else {
                    String::new()
                }
            );
            if scenario.capacity.is_some() {
                capacity::search(ctx, variant, planned, idle.as_ref(), seed, cancel).await
            } else {
                run_one(ctx, variant, planned, idle.as_ref(), cancel).await
            }
        },
        |results, again| {
            if let Some(run) = results.runs.last() {
                eprintln!("otelbench:   {}", one_line(run));
            }
            if again {
                eprintln!(
                    "otelbench:   transient (the generator's, not the target's): running it again in its place"
                );
            }
            stats::refresh(results);
            results::writer::write(out_dir, results)
        },
    )
    .await
}

/// The machine check before an open-model plan (none for a closed model), printed in plain
/// words and returned for results.json.
async fn check_machine(
    scenario: &Scenario,
    keep_awake: bool,
) -> anyhow::Result<Option<crate::results::MachineCheck>> {
    let rate = match scenario.load.model {
        Model::Rate => scenario.load.rate,
        // Judged at the first step's rate; higher steps are checked as they run.
        Model::Capacity => scenario.capacity.map(|c| c.search.start),
        Model::Users => None,
    };
    let Some(rate) = rate else {
        return Ok(None);
    };
    let p = &scenario.placement;
    let spec = crate::machine::CheckSpec::before_plan(
        p.pin.then(|| p.generator_cpus.clone()),
        rate,
        p.keep_awake,
        keep_awake,
    );
    let check = tokio::task::spawn_blocking(move || crate::machine::check(&spec))
        .await
        .context("the machine check")?;
    eprintln!("otelbench: machine check: {}", check.verdict.words());
    for line in &check.findings {
        eprintln!("otelbench:   {line}");
    }
    for line in &check.advice {
        eprintln!("otelbench:   to change: {line}");
    }
    Ok(Some(check))
}

/// The placement every run of the plan records.
fn recorded_placement(
    p: &crate::scenario::PlacementSpec,
    keep_awake: bool,
    keep_awake_setting: String,
) -> Placement {
    if p.pin {
        Placement {
            generator_cpus: p.generator_cpus.clone(),
            target_cpus: p.target_cpus.clone(),
            keep_awake,
            keep_awake_setting,
        }
    } else {
        Placement {
            keep_awake_setting,
            ..Placement::default()
        }
    }
}

fn one_line(run: &RunResult) -> String {
    let status = match &run.invalid_reason {
        None => "valid".to_string(),
        Some(r) => format!("INVALID: {r}"),
    };
    let cpu = if run.cpu.per_process_us_per_request.is_empty() {
        // A service the harness did not start: `otelbench sample` measures it on its machine.
        "target CPU not measured here".to_string()
    } else {
        format!(
            "target CPU {:.0} µs/request{}",
            run.cpu.target_us_per_request,
            run.cpu
                .after_window_us_per_request
                .map(|us| format!(" ({us:+.1} after the window)"))
                .unwrap_or_default()
        )
    };
    format!(
        "{:.0} req/s, p50 {} µs, p99 {} µs, {cpu}, {} spans received; {status}",
        run.load.achieved_rps, run.latency_us.p50, run.latency_us.p99, run.telemetry.spans_received
    )
}

/// How long a target gets to become ready.
fn ready_timeout(scenario: &Scenario) -> Duration {
    match &scenario.target {
        TargetSpec::Command {
            ready_timeout_s, ..
        } => Duration::from_secs(*ready_timeout_s),
        TargetSpec::Builtin { .. } => Duration::from_secs(60),
    }
}

/// One run. Cleans up (target, sink, storage) on every path, including interruption.
async fn run_one(
    ctx: &Ctx<'_>,
    variant: &Variant,
    planned: PlannedRun,
    idle: Option<&results::IdleShutdown>,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<RunResult> {
    let scenario = ctx.scenario;
    if *cancel.borrow() {
        return Err(Interrupted.into());
    }
    // A collector that cannot start, or storage that cannot be prepared (a database server
    // down, say), fails this run, like a target that cannot start; not the plan.
    let prepared = if scenario.external.is_some() {
        Setup::external().await
    } else {
        Setup::prepare(ctx, variant).await
    };
    let mut setup = match prepared {
        Ok(s) => s,
        Err(e) => return Ok(record::failed_run(scenario, variant, planned, &e)),
    };
    // A command target's port can be taken between choosing it and the target binding it:
    // then the target is started again on another port (a few times at most).
    let mut launches = 0;
    let result = loop {
        launches += 1;
        let launched = match &scenario.external {
            Some(e) => Ok(Running::external(e)),
            None => setup.launch(ctx, variant).and_then(Running::start),
        };
        let result = match launched {
            Ok(running) => {
                measure(
                    ctx,
                    variant,
                    planned,
                    running,
                    idle,
                    &mut setup.collector,
                    cancel,
                )
                .await
            }
            Err(e) => Err(e),
        };
        match result {
            Err(e) if launches < PORT_TRIES && e.downcast_ref::<ports::PortTaken>().is_some() => {
                eprintln!("otelbench:   {e:#}; starting the target on another port");
            }
            other => break other,
        }
    };
    // A run that could not measure (the target would not start or become ready) is recorded
    // as invalid with the reason, and the plan goes on; only an interrupt stops it.
    let result = match result {
        Err(e) if !e.is::<Interrupted>() => Ok(record::failed_run(
            scenario,
            variant,
            planned,
            &format!("{e:#}"),
        )),
        other => other,
    };
    setup.teardown().await;
    result
}

/// Worker threads for the load generator: one per generator CPU when pinned (more would only
/// take turns on them), else one per CPU of the machine.
fn generator_threads(placement: &crate::scenario::PlacementSpec) -> usize {
    if placement.pin {
        placement.generator_cpus.len().max(1)
    } else {
        crate::procfs::online_cpus()
    }
}

/// One measured run of a launched target: wait until it is ready, drive the load through the
/// warm-up and the window while watching the target, stop the target (so it flushes), let the
/// collector drain, and record. The target is stopped on every path.
async fn measure(
    ctx: &Ctx<'_>,
    variant: &Variant,
    planned: PlannedRun,
    mut running: Running,
    idle: Option<&results::IdleShutdown>,
    collector: &mut RunCollector,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<RunResult> {
    let scenario = ctx.scenario;
    let watched = drive(ctx, variant, planned, &mut running, collector, cancel).await;
    let (watched, load) = match watched {
        Ok(w) => w,
        Err(e) => {
            running.stop(STOP_GRACE).await;
            return Err(e);
        }
    };
    collector.expect_delivery(false);
    let stopped = running.stop(STOP_GRACE).await;
    let mut problem = watched.problem;
    if problem.is_none() && !stopped.problems.is_empty() {
        problem = Some(stopped.problems.join("; "));
    }
    if let Some(p) = collector.drain().await {
        problem.get_or_insert(p);
    }
    let measured = load.recorder.snapshot();
    if let Some(raw) = &measured.raw_latency_us {
        shard::write_raw(&variant.name, planned.repetition, &load.run_id, raw);
    }
    let (from, to) = load.window;
    let observed = record::Observed {
        measured,
        window: watched.samples,
        stopped,
        counts: collector.counts().unwrap_or_default(),
        collector: collector.record(),
        target_problem: problem,
        idle,
        run_window: shard::window(from, to, &load.start, scenario.load.warmup_s),
    };
    Ok(record::measured_run(ctx, variant, planned, observed))
}

/// Waits until the target is ready, then drives the load through the warm-up and the window
/// while watching it. The caller stops the target, whatever this returns.
async fn drive(
    ctx: &Ctx<'_>,
    variant: &Variant,
    planned: PlannedRun,
    running: &mut Running,
    collector: &mut RunCollector,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<(Watched, Driving)> {
    let base_url = ready_url(ctx.scenario, running, cancel).await?;
    collector.expect_delivery(true);
    // The schedules start from the moment the target is ready.
    let start = shard::start(ctx.scenario, planned.repetition);
    let mut load = Driving::start(ctx.scenario, base_url, start)?;
    let watched = watch_window(ctx, &variant.name, running, collector, &mut load, cancel).await?;
    Ok((watched, load))
}

/// Waits until the target is ready (or the interrupt): its base URL.
async fn ready_url(
    scenario: &Scenario,
    running: &mut Running,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<String> {
    tokio::select! {
        r = running.wait_ready(ready_timeout(scenario)) => r?,
        () = interrupt::interrupted(cancel) => return Err(Interrupted.into()),
    }
    Ok(running
        .base_url()
        .context("the target's address is unknown")?
        .to_string())
}

/// One run's load, started: the generator and what it records into.
struct Driving {
    driver: load::runtime::Generator,
    recorder: Arc<Recorder>,
    run_id: String,
    /// When the schedules start (the warm-up's start), and a shard's asked start.
    start: shard::Start,
    /// The measured window.
    window: (Instant, Instant),
}

impl Driving {
    fn start(scenario: &Scenario, base_url: String, start: shard::Start) -> anyhow::Result<Self> {
        let plan = LoadPlan {
            base_url,
            load: scenario.load.clone(),
            run_id: format!("{:08x}", rand::random::<u32>()),
            start: start.at,
            first_user: start.first_user,
            phase: start.phase,
        };
        let (run_id, window) = (plan.run_id.clone(), plan.window());
        let recorder = Recorder::new(window.0, window.1);
        let recorder = Arc::new(if shard::keep_raw() {
            recorder.keep_raw()
        } else {
            recorder
        });
        let driver = load::runtime::Generator::start(
            plan,
            recorder.clone(),
            generator_threads(&scenario.placement),
        )?;
        Ok(Self {
            driver,
            recorder,
            run_id,
            start,
            window,
        })
    }
}

/// What watching a run's window saw.
struct Watched {
    /// The sampler's readings over the window.
    samples: sampler::WindowSamples,
    /// Why the run ended early or cannot be trusted: the target or the collector exited, the
    /// generator failed.
    problem: Option<String>,
}

/// Until the generator finishes: the sampler reads CPU and RSS over the window (and a profiling
/// run's recording samples stacks), while this watches the target, the collector and the
/// interrupt and shows progress.
async fn watch_window(
    ctx: &Ctx<'_>,
    name: &str,
    running: &mut Running,
    collector: &mut RunCollector,
    load: &mut Driving,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<Watched> {
    let (from, to) = load.window;
    let processes = running
        .pids()
        .into_iter()
        .chain(collector.process())
        .collect();
    let sampler =
        sampler::Sampler::start(processes, from, to).context("starting the sampler thread")?;
    let recording = ctx
        .profile
        .map(|slot| (slot, slot.record(running.pids(), from, to)));
    let l = &ctx.scenario.load;
    let bar = progress_bar(ctx.progress, name, l.warmup_s + l.duration_s);
    let Ok(problem) = await_generator(running, collector, load, bar.as_ref(), cancel).await else {
        if let Some(b) = &bar {
            b.abandon_with_message("interrupted");
        }
        return Err(Interrupted.into());
    };
    let samples = sampler.finish();
    if let Some((slot, recording)) = recording {
        slot.done(recording.finish());
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(Watched { samples, problem })
}

/// Waits for the generator to finish, waking every 50 ms to watch the target and the collector
/// (a process that exits aborts the load) and to show progress; the sampler thread reads the
/// CPU counters exactly at the window's edges meanwhile. The problem that ended the run, if
/// any; `Err` on an interrupt (the load aborted).
async fn await_generator(
    running: &mut Running,
    collector: &mut RunCollector,
    load: &mut Driving,
    bar: Option<&indicatif::ProgressBar>,
    cancel: &mut watch::Receiver<bool>,
) -> Result<Option<String>, Interrupted> {
    let mut problem: Option<String> = None;
    let mut last = (Instant::now(), 0_u64);
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
            () = interrupt::interrupted(cancel) => {
                load.driver.abort();
                return Err(Interrupted);
            }
            r = load.driver.finished() => {
                if let Err(e) = r {
                    problem.get_or_insert(format!("load generator failed: {e:#}"));
                }
                return Ok(problem);
            }
        }
        if problem.is_none() {
            problem = running.exited().or_else(|| collector.exited());
            if problem.is_some() {
                load.driver.abort();
            }
        }
        if let Some(b) = bar {
            show_progress(b, load, &mut last);
        }
    }
}

/// The progress bar's position (seconds since the load started) and, every half second, the
/// rate of the last interval.
fn show_progress(bar: &indicatif::ProgressBar, load: &Driving, last: &mut (Instant, u64)) {
    let now = Instant::now();
    if now - last.0 >= Duration::from_millis(500) {
        let snap = load.recorder.requests_total();
        let rps = (snap - last.1) as f64 / (now - last.0).as_secs_f64();
        bar.set_message(format!("{rps:.0} req/s"));
        *last = (now, snap);
    }
    bar.set_position(now.saturating_duration_since(load.start.at).as_secs());
}

fn progress_bar(enabled: bool, name: &str, seconds: f64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal as _;
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(seconds.ceil() as u64);
    let style = indicatif::ProgressStyle::with_template(
        "  {prefix} [{elapsed_precise}] {bar:30} {pos}/{len} s  {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(name.to_string());
    Some(bar)
}

/// The default output directory for `scenario`: `reports/<name>-<UTC timestamp>`.
pub fn default_out_dir(scenario: &Scenario) -> PathBuf {
    Path::new("reports").join(format!(
        "{}-{}",
        scenario.name,
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ))
}
