//! A run's record: what the generator, the sampler, the stopped target and the sink saw over
//! one measured window, as the [`RunResult`] results.json keeps; and the record of a run that
//! measured nothing.

use std::collections::BTreeMap;

use super::target::Stopped;
use super::{Ctx, after_window, collector, health, redact, sampler};
use crate::load::recorder::Measured;
use crate::plan::PlannedRun;
use crate::results::shard::RunWindow;
use crate::results::{
    CollectorRun, Cpu, IdleShutdown, JobLatency, Jobs, Latency, LoadResult, PerRequest, Placement,
    RunResult, SpanAccounting, Telemetry,
};
use crate::scenario::{Load, Model, Scenario, Variant};
use crate::sink::SinkCounts;
use crate::stats::{self, ratio};

/// Everything one measured window left behind.
pub(super) struct Observed<'a> {
    /// The generator's measurements.
    pub measured: Measured,
    /// The sampler's readings of the target (and the collector) and of the harness.
    pub window: sampler::WindowSamples,
    /// What the stopped target reported (its totals, its whole-life CPU).
    pub stopped: Stopped,
    /// What the sink received.
    pub counts: SinkCounts,
    /// The collector's record, without its CPU and memory (added here).
    pub collector: CollectorRun,
    /// Why the run cannot be trusted, if the target, the collector or the generator failed.
    pub target_problem: Option<String>,
    /// The variant's idle-shutdown control (what a target costs after a window with no load).
    pub idle: Option<&'a IdleShutdown>,
    /// The window on the wall clock.
    pub run_window: RunWindow,
}

/// The record of a measured run.
pub(super) fn measured_run(
    ctx: &Ctx<'_>,
    variant: &Variant,
    planned: PlannedRun,
    mut o: Observed<'_>,
) -> RunResult {
    let l = &ctx.scenario.load;
    let m = &o.measured;
    // The whole harness (generator, sink, sampler) against its CPUs, for the saturation check.
    let generator_cores = ratio::cores(o.window.harness_us, o.window.wall_s);
    let collector = collector_run(&mut o.window, o.collector, m.requests);
    let load = load(l, m);
    let health = health::Health {
        target_rps: load.target_rps,
        achieved_rps: load.achieved_rps,
        lag_p99_us: (l.model == Model::Rate).then_some(load.generator_lag_us.p99),
        generator_cores,
        generator_cpus: generator_cpus(ctx.scenario),
        error_rate: ratio::share(m.errors, m.requests),
        max_error_rate: ctx.scenario.max_error_rate,
        requests: m.requests,
        target_problem: o.target_problem,
    };
    let run_reasons = health::invalid_reasons(&health);
    let latency_reasons = health::latency_reasons(&health);
    let latency_only = run_reasons.is_empty() && !latency_reasons.is_empty();
    let reasons = [run_reasons, latency_reasons].concat();
    RunResult {
        variant: variant.name.clone(),
        repetition: planned.repetition,
        attempt: 1,
        replaced_by: None,
        transient: health::transient(&health),
        valid: reasons.is_empty(),
        invalid_reason: (!reasons.is_empty()).then(|| redact::credentials(&reasons.join("; "))),
        latency_only,
        env: variant.env.clone(),
        load,
        latency_us: Latency::from_histogram(&m.latency),
        per_request: per_request(m),
        cpu: cpu(&o.window, &o.stopped, o.idle, m.requests, generator_cores),
        memory_mb: o
            .window
            .rss_mb
            .iter()
            .map(|(name, s)| (name.clone(), sampler::summarize(s)))
            .collect(),
        telemetry: telemetry(&o.counts, &o.stopped, m.requests_total),
        jobs: jobs(&o.stopped),
        placement: ctx.placement.clone(),
        collector,
        capacity: None,
        window: Some(o.run_window),
    }
}

/// The record of a run that produced no measurement.
pub(super) fn failed_run(
    scenario: &Scenario,
    variant: &Variant,
    planned: PlannedRun,
    reason: &str,
) -> RunResult {
    let l = &scenario.load;
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
            model: l.model.name().into(),
            target_rps: l.rate,
            duration_s: l.duration_s,
            users: l.users,
            ..LoadResult::default()
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

/// CPUs the generator ran on: its pinned ones, else the machine's.
fn generator_cpus(scenario: &Scenario) -> usize {
    if scenario.placement.pin {
        scenario.placement.generator_cpus.len()
    } else {
        crate::procfs::online_cpus()
    }
}

fn load(l: &Load, m: &Measured) -> LoadResult {
    LoadResult {
        model: l.model.name().into(),
        target_rps: l.target_rps(),
        // What happened in the window, not what was scheduled in it (see `LoadResult`).
        achieved_rps: m.completed as f64 / l.duration_s,
        offered_rps: m.requests as f64 / l.duration_s,
        completed: m.completed,
        duration_s: l.duration_s,
        requests: m.requests,
        errors: m.errors,
        errors_by_kind: m.errors_by_kind.clone(),
        users: l.users,
        lag_us: Latency::from_histogram(&m.lag),
        generator_lag_us: Latency::from_histogram(&m.generator_lag),
        held_requests: m.held,
        requests_total: m.requests_total,
    }
}

fn per_request(m: &Measured) -> BTreeMap<String, PerRequest> {
    m.per_name
        .iter()
        .map(|(name, s)| {
            let per = PerRequest {
                requests: s.requests,
                errors: s.errors,
                latency_us: Latency::from_histogram(&s.latency),
            };
            (name.clone(), per)
        })
        .collect()
}

/// The collector process, measured like the target and reported on its own (taken out of the
/// window's target figures).
fn collector_run(
    window: &mut sampler::WindowSamples,
    mut run: CollectorRun,
    requests: u64,
) -> CollectorRun {
    let us = window.target_us.remove(collector::PROCESS);
    let rss = window.rss_mb.remove(collector::PROCESS);
    run.cpu_us_per_request = us.map(|us| ratio::per(us, requests));
    run.cores = us
        .filter(|_| window.wall_s > 0.0)
        .map(|us| ratio::cores(us, window.wall_s));
    run.memory_mb = rss.as_deref().map(sampler::summarize);
    run
}

/// The target's CPU: per request, as cores, per process, and what it spent after the window.
fn cpu(
    window: &sampler::WindowSamples,
    stopped: &Stopped,
    idle: Option<&IdleShutdown>,
    requests: u64,
    generator_cores: f64,
) -> Cpu {
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
    Cpu {
        target_us_per_request: ratio::per(target_us, requests),
        target_cores: ratio::cores(target_us, window.wall_s),
        generator_cores,
        generator_us_per_request: ratio::per(window.generator_us, requests),
        sink_us_per_request: ratio::per(window.sink_us, requests),
        per_process_us_per_request: per_process_us
            .iter()
            .map(|(name, us)| (name.clone(), ratio::per(*us, requests)))
            .collect(),
        after_window_us_per_request: after_window.map(|us| ratio::per(us, requests)),
        after_window_us: after_window_us.unwrap_or_default(),
    }
}

fn telemetry(counts: &SinkCounts, stopped: &Stopped, requests_total: u64) -> Telemetry {
    Telemetry {
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
            requests_total,
        ),
        target_spans: target_spans(stopped),
    }
}

/// The spans the target's processes say they produced, exported and lost (from their
/// `OTELBENCH_TOTALS`), summed; none where no process reported totals.
fn target_spans(stopped: &Stopped) -> Option<SpanAccounting> {
    (!stopped.totals.is_empty()).then(|| {
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
    })
}

/// Only a target that reports its totals (the built-in one) knows its jobs.
fn jobs(stopped: &Stopped) -> Option<Jobs> {
    let worker = stopped.totals.get("worker");
    let worker_u64 = |path: &[&str]| {
        worker
            .and_then(|t| path.iter().fold(t, |v, k| &v[*k]).as_u64())
            .unwrap_or(0)
    };
    stopped.totals.get("web").map(|web| Jobs {
        enqueued: web["jobs"]["enqueued"].as_u64().unwrap_or(0),
        completed: worker_u64(&["jobs", "completed"]),
        latency_us: JobLatency {
            p50: worker_u64(&["jobs", "queue_latency_us", "p50"]),
            p99: worker_u64(&["jobs", "queue_latency_us", "p99"]),
        },
    })
}
