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
pub mod redact;
pub mod roles;
pub mod sampler;
mod setup;
pub mod shard;
pub mod storage;
pub mod target;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::watch;

use crate::load::recorder::Recorder;
use crate::load::{self, LoadPlan};
use crate::plan::{PlannedRun, plan};
use crate::results::{
    self, CollectorRun, Cpu, JobLatency, Jobs, Latency, LoadResult, PerRequest, Placement, Results,
    RunResult, ScenarioRef, SpanAccounting, Telemetry,
};
use crate::scenario::{CollectorSpec, Model, Scenario, TargetSpec, Variant};
use crate::stats;

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

/// Resolves the scenario against this machine: CPUs exist, programs can be found.
pub fn resolve(scenario: &Scenario) -> anyhow::Result<ResolvedTarget> {
    if scenario.placement.pin {
        placement::check("generator_cpus", &scenario.placement.generator_cpus)?;
        placement::check("target_cpus", &scenario.placement.target_cpus)?;
        which("taskset").context(
            "placement needs `taskset` (util-linux); install it or set placement.pin = false",
        )?;
    }
    // A service the harness does not start needs nothing on this machine but the generator.
    if scenario.external.is_some() {
        return Ok(ResolvedTarget {
            target_app: None,
            rotel: None,
        });
    }
    let rotel = match &scenario.collector {
        CollectorSpec::Rotel { binary, .. } => Some(collector::find_rotel(binary.as_deref())?),
        _ => None,
    };
    for v in &scenario.variants {
        check_build(&scenario.target, v)?;
    }
    match &scenario.target {
        TargetSpec::Builtin { binary, .. } => {
            let path = match binary {
                Some(p) => p.clone(),
                None => std::env::var_os("OTELBENCH_TARGET_APP")
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::current_exe()
                            .ok()
                            .and_then(|e| e.parent().map(|d| d.join("target-app")))
                    })
                    .unwrap_or_else(|| PathBuf::from("target-app")),
            };
            anyhow::ensure!(
                path.is_file(),
                "the built-in target-app was not found at {}; fix: build it with `cargo build --release -p target-app` (or set target.binary / OTELBENCH_TARGET_APP)",
                path.display()
            );
            Ok(ResolvedTarget {
                target_app: Some(path),
                rotel,
            })
        }
        TargetSpec::Command { command, .. } => {
            // Variants with their own builds were checked above, where their commands run.
            let own_builds = scenario.variants.iter().all(|v| v.build.is_some());
            (if own_builds {
                Ok(PathBuf::new())
            } else {
                which(&command[0])
            })
            .with_context(|| {
                format!(
                    "target.command: {:?} was not found; fix: give a path or put it on PATH",
                    command[0]
                )
            })?;
            Ok(ResolvedTarget {
                target_app: None,
                rotel,
            })
        }
    }
}

/// A variant's own build can be run: its binary exists, its commands are found (relative to
/// its directory).
fn check_build(target: &TargetSpec, v: &crate::scenario::Variant) -> anyhow::Result<()> {
    let Some(build) = &v.build else {
        return Ok(());
    };
    if let Some(bin) = &build.binary {
        anyhow::ensure!(
            bin.is_file(),
            "variant `{}`: binary {} was not found; fix: build it, or correct the path",
            v.name,
            bin.display()
        );
    }
    if let Some(dir) = &build.dir {
        anyhow::ensure!(
            dir.is_dir(),
            "variant `{}`: dir {} is not a directory; fix: give the checkout its commands run in",
            v.name,
            dir.display()
        );
    }
    if let TargetSpec::Command {
        command,
        worker_command,
        ..
    } = target
    {
        let web = build.command.as_ref().unwrap_or(command);
        let worker = build.worker_command.as_ref().or(worker_command.as_ref());
        for argv in std::iter::once(web).chain(worker) {
            let program = &argv[0];
            let found = match &build.dir {
                Some(dir) if program.contains('/') && !program.starts_with('/') => {
                    dir.join(program).is_file()
                }
                _ => which(program).is_ok(),
            };
            anyhow::ensure!(
                found,
                "variant `{}`: {program:?} was not found{}; fix: give a path or put it on PATH",
                v.name,
                build
                    .dir
                    .as_ref()
                    .map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// What [`resolve`] found.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    target_app: Option<PathBuf>,
    rotel: Option<PathBuf>,
}

/// Finds `program` (a path, or a name on PATH).
fn which(program: &str) -> anyhow::Result<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return if p.is_file() {
            Ok(p)
        } else {
            anyhow::bail!("{program} does not exist")
        };
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("{program} is not on PATH"))
}

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
    let scenario_ref = ScenarioRef {
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
    };
    let mut results = Results {
        shard: scenario.shard.as_ref().map(|s| s.record.clone()),
        ..Results::new(
            scenario_ref,
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
    let total = runs.len();
    if let Some(estimate) = capacity::estimate(scenario) {
        eprintln!("otelbench: {estimate}");
    }
    let mut budget = attempts::Budget::new(scenario.retries, total);
    for (i, planned) in runs.into_iter().enumerate() {
        let variant = &scenario.variants[planned.variant];
        // A service the harness does not start is not stopped at rest either.
        if scenario.external.is_none() && !results.idle_shutdown.contains_key(&variant.name) {
            // Only an interrupt stops the control; a failure is recorded in it.
            let Ok(control) = idle_shutdown::idle_shutdown(&ctx, variant, &mut cancel).await else {
                results.interrupted = true;
                break;
            };
            eprintln!("otelbench: {}: {}", variant.name, control.describe());
            results.idle_shutdown.insert(variant.name.clone(), control);
        }
        let idle = results.idle_shutdown.get(&variant.name).cloned();
        // A capacity search starts at the median of this variant's earlier capacities.
        let seed = scenario
            .capacity
            .and_then(|_| stats::capacity::seed(&results.runs, &variant.name));
        let place = attempts::run_place(
            &mut results,
            &mut budget,
            async |attempt| {
                eprintln!(
                    "otelbench: run {}/{total}: {} (repetition {}/{}{})",
                    i + 1,
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
                    capacity::search(&ctx, variant, planned, idle.as_ref(), seed, &mut cancel)
                        .await
                } else {
                    run_one(&ctx, variant, planned, idle.as_ref(), &mut cancel).await
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
                results::writer::write(&options.out_dir, results)
            },
        )
        .await;
        match place {
            Ok(()) => {}
            Err(e) if e.is::<Interrupted>() => {
                results.interrupted = true;
                break;
            }
            Err(e) => return Err(e),
        }
    }
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
        Err(e) => return Ok(failed_run(scenario, variant, planned, &e)),
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
        Err(e) if !e.is::<Interrupted>() => {
            Ok(failed_run(scenario, variant, planned, &format!("{e:#}")))
        }
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
        placement::online_cpus()
    }
}

async fn measure(
    ctx: &Ctx<'_>,
    variant: &Variant,
    planned: PlannedRun,
    mut running: Running,
    idle: Option<&results::IdleShutdown>,
    collector: &mut RunCollector,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<RunResult> {
    let (scenario, progress) = (ctx.scenario, ctx.progress);
    let ready = tokio::select! {
        r = running.wait_ready(ready_timeout(scenario)) => r,
        () = interrupt::interrupted(cancel) => {
            running.stop(STOP_GRACE).await;
            return Err(Interrupted.into());
        }
    };
    if let Err(e) = ready {
        running.stop(STOP_GRACE).await;
        return Err(e);
    }
    let base_url = running
        .base_url()
        .context("the target's address is unknown")?
        .to_string();
    collector.expect_delivery(true);
    let l = &scenario.load;
    let start = shard::start(scenario, planned.repetition);
    let plan = LoadPlan {
        base_url,
        load: l.clone(),
        run_id: format!("{:08x}", rand::random::<u32>()),
        start: start.at,
        first_user: start.first_user,
        phase: start.phase,
    };
    let run_id = plan.run_id.clone();
    let (from, to) = plan.window();
    let plan_start = plan.start;
    let recorder = Recorder::new(from, to);
    let recorder = Arc::new(if shard::keep_raw() {
        recorder.keep_raw()
    } else {
        recorder
    });
    let mut driver = load::runtime::Generator::start(
        plan,
        recorder.clone(),
        generator_threads(&scenario.placement),
    )?;
    let bar = progress_bar(progress, &variant.name, l.warmup_s + l.duration_s);

    // Wait for the window, watching the target and the interrupt.
    let mut target_problem: Option<String> = None;
    let processes = running
        .pids()
        .into_iter()
        .chain(collector.process())
        .collect();
    let window =
        sampler::Sampler::start(processes, from, to).context("starting the sampler thread")?;
    // A profiling run samples the target's stacks over the same window.
    let recording = ctx
        .profile
        .map(|slot| (slot, slot.record(running.pids(), from, to)));
    let mut last = (Instant::now(), 0_u64);
    loop {
        tokio::select! {
            // Wake every 50 ms to watch the target and show progress; the sampler thread reads
            // the CPU counters exactly at the window's edges.
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
            () = interrupt::interrupted(cancel) => {
                driver.abort();
                if let Some(b) = &bar { b.abandon_with_message("interrupted"); }
                running.stop(STOP_GRACE).await;
                return Err(Interrupted.into());
            }
            r = driver.finished() => {
                if let Err(e) = r {
                    target_problem.get_or_insert(format!("load generator failed: {e:#}"));
                }
                break;
            }
        }
        let now = Instant::now();
        if target_problem.is_none() {
            target_problem = running.exited().or_else(|| collector.exited());
            if target_problem.is_some() {
                driver.abort();
            }
        }
        if let Some(b) = &bar {
            if now - last.0 >= Duration::from_millis(500) {
                let snap = recorder.requests_total();
                let rps = (snap - last.1) as f64 / (now - last.0).as_secs_f64();
                b.set_message(format!("{rps:.0} req/s"));
                last = (now, snap);
            }
            b.set_position(now.saturating_duration_since(plan_start).as_secs());
        }
    }
    let mut window = window.finish();
    if let Some((slot, recording)) = recording {
        slot.done(recording.finish());
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    collector.expect_delivery(false);
    let stopped = running.stop(STOP_GRACE).await;
    if target_problem.is_none() && !stopped.problems.is_empty() {
        target_problem = Some(stopped.problems.join("; "));
    }
    if let Some(problem) = collector.drain().await {
        target_problem.get_or_insert(problem);
    }

    let measured = recorder.snapshot();
    if let Some(raw) = &measured.raw_latency_us {
        shard::write_raw(&variant.name, planned.repetition, &run_id, raw);
    }
    // The whole harness (generator, sink, sampler) against its CPUs, for the saturation check.
    let (wall, generator_us) = (window.wall_s, window.harness_us);
    // The collector process is measured like the target, and reported on its own.
    let collector_us = window.target_us.remove(collector::PROCESS);
    let collector_rss = window.rss_mb.remove(collector::PROCESS);
    let per_process_us = &window.target_us;
    // Every target process, or none: a partial sum would look like a small figure.
    let after_window_us: Option<BTreeMap<String, f64>> = per_process_us
        .keys()
        .map(|name| {
            after_window::after_window_us(
                window.lifetime_at_end_us.get(name).copied(),
                stopped.whole_life_us.get(name).copied(),
            )
            .map(|us| (name.clone(), us))
        })
        .collect();
    let after_window = after_window_us
        .as_ref()
        .zip(idle)
        .and_then(|(run, idle)| after_window::beyond_idle_us(run, &idle.after_us));
    let target_us: f64 = per_process_us.values().sum();
    let per_request = |us: f64| {
        if measured.requests == 0 {
            0.0
        } else {
            us / measured.requests as f64
        }
    };
    let duration_s = l.duration_s;
    // What happened in the window, not what was scheduled in it (see `LoadResult`).
    let achieved_rps = measured.completed as f64 / duration_s;
    let offered_rps = measured.requests as f64 / duration_s;
    let generator_cores = if wall > 0.0 {
        generator_us / 1e6 / wall
    } else {
        0.0
    };
    let counts = collector.counts().unwrap_or_default();
    let mut collector_run = collector.record();
    collector_run.cpu_us_per_request = collector_us.map(per_request);
    collector_run.cores = collector_us
        .filter(|_| wall > 0.0)
        .map(|us| us / 1e6 / wall);
    collector_run.memory_mb = collector_rss.as_deref().map(sampler::summarize);
    let lag = Latency::from_histogram(&measured.lag);
    let generator_lag = Latency::from_histogram(&measured.generator_lag);
    let generator_cpus = if scenario.placement.pin {
        scenario.placement.generator_cpus.len()
    } else {
        placement::online_cpus()
    };
    let health = health::Health {
        target_rps: if l.model == Model::Rate { l.rate } else { None },
        achieved_rps,
        lag_p99_us: (l.model == Model::Rate).then_some(generator_lag.p99),
        generator_cores,
        generator_cpus,
        error_rate: if measured.requests == 0 {
            0.0
        } else {
            measured.errors as f64 / measured.requests as f64
        },
        max_error_rate: scenario.max_error_rate,
        requests: measured.requests,
        target_problem,
    };
    let transient = health::transient(&health);
    let run_reasons = health::invalid_reasons(&health);
    let latency_reasons = health::latency_reasons(&health);
    let latency_only = run_reasons.is_empty() && !latency_reasons.is_empty();
    let reasons = [run_reasons, latency_reasons].concat();
    let web = stopped.totals.get("web");
    let worker = stopped.totals.get("worker");
    let target_spans = (!stopped.totals.is_empty()).then(|| {
        stopped
            .totals
            .values()
            .fold(SpanAccounting::default(), |mut acc, t| {
                let s = &t["telemetry"]["spans"];
                let get = |k: &str| s[k].as_u64().unwrap_or(0);
                acc.produced += get("produced");
                acc.exported += get("exported");
                acc.failed += get("failed");
                acc.dropped += get("dropped");
                acc.export_calls += get("export_calls");
                acc.failed_calls += get("failed_calls");
                acc
            })
    });
    Ok(RunResult {
        variant: variant.name.clone(),
        repetition: planned.repetition,
        attempt: 1,
        replaced_by: None,
        transient,
        valid: reasons.is_empty(),
        invalid_reason: (!reasons.is_empty()).then(|| redact::credentials(&reasons.join("; "))),
        latency_only,
        env: variant.env.clone(),
        load: LoadResult {
            model: l.model.name().into(),
            target_rps: if l.model == Model::Rate { l.rate } else { None },
            achieved_rps,
            offered_rps,
            completed: measured.completed,
            duration_s,
            requests: measured.requests,
            errors: measured.errors,
            errors_by_kind: measured.errors_by_kind.clone(),
            users: l.users,
            lag_us: lag,
            generator_lag_us: generator_lag,
            held_requests: measured.held,
            requests_total: measured.requests_total,
        },
        latency_us: Latency::from_histogram(&measured.latency),
        per_request: measured
            .per_name
            .iter()
            .map(|(name, s)| {
                (
                    name.clone(),
                    PerRequest {
                        requests: s.requests,
                        errors: s.errors,
                        latency_us: Latency::from_histogram(&s.latency),
                    },
                )
            })
            .collect(),
        cpu: Cpu {
            target_us_per_request: if measured.requests == 0 {
                0.0
            } else {
                target_us / measured.requests as f64
            },
            target_cores: if wall > 0.0 {
                target_us / 1e6 / wall
            } else {
                0.0
            },
            generator_cores,
            generator_us_per_request: per_request(window.generator_us),
            sink_us_per_request: per_request(window.sink_us),
            per_process_us_per_request: per_process_us
                .iter()
                .map(|(name, us)| {
                    let per = if measured.requests == 0 {
                        0.0
                    } else {
                        us / measured.requests as f64
                    };
                    (name.clone(), per)
                })
                .collect(),
            after_window_us_per_request: after_window.map(per_request),
            after_window_us: after_window_us.unwrap_or_default(),
        },
        memory_mb: window
            .rss_mb
            .iter()
            .map(|(name, s)| (name.clone(), sampler::summarize(s)))
            .collect(),
        telemetry: Telemetry {
            spans_received: counts.spans_received,
            metric_points_received: counts.metric_points_received,
            log_records_received: counts.log_records_received,
            export_requests: counts.export_requests,
            bytes_received: counts.bytes_received,
            traces_complete: counts.traces_complete,
            request_traces: counts.request_traces,
            producer_spans: counts.producer_spans,
            consumer_spans: counts.consumer_spans,
            observed_sampling_ratio: stats::delivery::sampling_ratio(
                counts.request_traces,
                counts.traces,
                measured.requests_total,
            ),
            target_spans,
        },
        // Only a target that reports its totals (the built-in one) knows its jobs.
        jobs: web.map(|web| Jobs {
            enqueued: web["jobs"]["enqueued"].as_u64().unwrap_or(0),
            completed: worker
                .and_then(|t| t["jobs"]["completed"].as_u64())
                .unwrap_or(0),
            latency_us: JobLatency {
                p50: worker
                    .and_then(|t| t["jobs"]["queue_latency_us"]["p50"].as_u64())
                    .unwrap_or(0),
                p99: worker
                    .and_then(|t| t["jobs"]["queue_latency_us"]["p99"].as_u64())
                    .unwrap_or(0),
            },
        }),
        placement: ctx.placement.clone(),
        collector: collector_run,
        capacity: None,
        window: Some(shard::window(from, to, &start, l.warmup_s)),
    })
}

/// The record of a run that produced no measurement.
fn failed_run(
    scenario: &Scenario,
    variant: &Variant,
    planned: PlannedRun,
    reason: &str,
) -> RunResult {
    RunResult {
        variant: variant.name.clone(),
        repetition: planned.repetition,
        attempt: 1,
        replaced_by: None,
        transient: false,
        valid: false,
        invalid_reason: Some(redact::credentials(reason)),
        latency_only: false,
        env: variant.env.clone(),
        load: LoadResult {
            model: scenario.load.model.name().into(),
            target_rps: scenario.load.rate,
            achieved_rps: 0.0,
            offered_rps: 0.0,
            completed: 0,
            duration_s: scenario.load.duration_s,
            requests: 0,
            errors: 0,
            errors_by_kind: BTreeMap::new(),
            users: scenario.load.users,
            lag_us: Latency::default(),
            generator_lag_us: Latency::default(),
            held_requests: 0,
            requests_total: 0,
        },
        latency_us: Latency::default(),
        per_request: BTreeMap::new(),
        cpu: Cpu::default(),
        memory_mb: BTreeMap::new(),
        telemetry: Telemetry::default(),
        jobs: None,
        placement: Placement::default(),
        collector: CollectorRun {
            fault: variant.fault.map(|f| f.to_string()),
            ..CollectorRun::default()
        },
        capacity: None,
        window: None,
    }
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
