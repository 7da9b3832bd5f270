//! `otelbench run scenarios/smoke.toml`, in process, against the real target-app: every figure
//! of results.json is present and sane.

mod common;

use std::path::Path;

use harness::results::writer::read;
use harness::results::{Results, RunResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_scenario_produces_sane_figures() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenario_with_binary("smoke.toml", dir.path(), "");
    let out = dir.path().join("out");
    common::run_cli(&scenario, &out).await;
    let results = read(&out.join("results.json")).unwrap();
    let runs: Vec<_> = results.kept_runs().cloned().collect();
    assert_plan(&results, &runs);
    for run in &runs {
        assert_run_figures(&results, run);
    }
    assert_telemetry(&runs);
    assert_harness_cpu(&runs);
    assert_statistics_and_reports(&results, &runs, &out);
}

/// The plan: the file, the machine, one kept run per variant, the machine check.
fn assert_plan(results: &Results, runs: &[RunResult]) {
    assert_eq!(results.schema_version, 1);
    assert!(!results.interrupted);
    assert!(!results.finished_at.is_empty());
    assert_eq!(results.environment.cores, harness::procfs::online_cpus());
    assert!(
        results.environment.cores >= 2,
        "the default placement needs two CPUs"
    );
    assert_eq!(runs.len(), 2, "one kept run per variant");
    for run in &results.runs {
        assert!(
            run.replaced_by.is_none() || run.transient,
            "only transient failures are replaced: {:?}",
            run.invalid_reason
        );
    }
    let check = results
        .machine_check
        .as_ref()
        .expect("the machine check ran");
    assert_eq!(check.probes.len(), 1, "one probe per generator CPU");
    assert!(check.probes[0].timer_wakeups > 0);
}

/// One run's load, latency, CPU, memory and jobs.
fn assert_run_figures(results: &Results, run: &RunResult) {
    // Debug builds on a busy test machine may break the lag bound; the figures must still be
    // there and sane, and the reason must be said.
    if !run.valid {
        eprintln!("{}: invalid: {:?}", run.variant, run.invalid_reason);
    }
    let target = run.load.target_rps.unwrap();
    assert!(
        (run.load.offered_rps - target).abs() / target < 0.01,
        "the schedule offers the target rate: {}",
        run.load.offered_rps
    );
    assert!(run.load.completed <= run.load.requests_total);
    assert!(
        (run.load.achieved_rps - target).abs() / target < 0.05,
        "{}: achieved {} of {target}",
        run.variant,
        run.load.achieved_rps
    );
    assert_eq!(run.load.errors, 0, "{:?}", run.load.errors_by_kind);
    assert!(run.latency_us.p50 > 0 && run.latency_us.p50 <= run.latency_us.p99);
    assert!(run.latency_us.p99 <= run.latency_us.max);
    assert!(!run.latency_us.hdr_base64.is_empty());
    assert_eq!(run.latency_us.histogram().unwrap().len(), run.load.requests);
    assert_eq!(
        run.load.lag_us.histogram().unwrap().len(),
        run.load.requests,
        "one lag sample per request"
    );
    assert!(run.load.lag_us.p50 <= run.load.lag_us.p99);
    for name in [
        "list_articles",
        "get_article",
        "create_article",
        "favorite_article",
    ] {
        assert!(
            run.per_request.contains_key(name),
            "{name} missing in {}",
            run.variant
        );
    }
    assert!(run.cpu.target_us_per_request > 0.0);
    // The target's work after the window (its shutdown, and at 100% its last export) is
    // read, and counted beyond the variant's shutdown at rest.
    let idle = &results.idle_shutdown[&run.variant];
    assert!(idle.error.is_none(), "{:?}", idle.error);
    assert_eq!(
        idle.after_us.keys().collect::<Vec<_>>(),
        ["web", "worker"],
        "both processes' shutdown at rest"
    );
    let whole: f64 = run.cpu.after_window_us.values().sum();
    assert!(whole > 0.0, "{}: no CPU after the window", run.variant);
    let beyond = run
        .cpu
        .after_window_us_per_request
        .expect("the after-window CPU was read");
    let idle_total: f64 = idle.after_us.values().sum();
    assert!(
        (beyond * run.load.requests as f64 - (whole - idle_total)).abs() < 1.0,
        "{}: {beyond} µs/request beyond the shutdown at rest",
        run.variant
    );
    assert!(run.cpu.generator_cores > 0.0);
    assert!(run.memory_mb["web"].mean > 1.0 && run.memory_mb["worker"].mean > 1.0);
    let jobs = run
        .jobs
        .as_ref()
        .expect("the built-in target reports its jobs");
    assert!(jobs.enqueued > 0);
    assert_eq!(jobs.completed, jobs.enqueued, "every job was processed");
    assert_eq!(run.placement.target_cpus, [1]);
}

/// Nothing arrives with the SDK off; at 100% every request and job is traced, and joined.
fn assert_telemetry(runs: &[RunResult]) {
    let off = &runs[0];
    assert_eq!(off.variant, "off");
    assert_eq!(
        off.telemetry.spans_received, 0,
        "nothing arrives with the SDK disabled"
    );
    assert!(off.telemetry.observed_sampling_ratio.abs() < f64::EPSILON);
    let on = &runs[1];
    assert_eq!(on.variant, "100%");
    assert!(
        on.telemetry.spans_received > on.load.requests,
        "several spans per request"
    );
    assert!(
        on.telemetry.traces_complete > 0,
        "web and worker spans joined in traces"
    );
    let enqueued = on.jobs.as_ref().unwrap().enqueued;
    assert_eq!(
        on.telemetry.traces_complete, enqueued,
        "every job's trace is joined"
    );
    assert_eq!(
        (on.telemetry.producer_spans, on.telemetry.consumer_spans),
        (enqueued, enqueued),
        "one producer and one consumer span per job at 100%"
    );
    assert_eq!(
        on.telemetry.request_traces, on.load.requests_total,
        "every request sampled, and only requests"
    );
    assert!(
        (0.95..=1.0).contains(&on.telemetry.observed_sampling_ratio),
        "{}",
        on.telemetry.observed_sampling_ratio
    );
    let spans = on.telemetry.target_spans.unwrap();
    assert_eq!(spans.dropped, 0);
    assert_eq!(
        spans.exported, on.telemetry.spans_received,
        "the sink got what the target exported"
    );
}

/// The harness's CPU is split into generator and sink, and the sink only works at 100%.
fn assert_harness_cpu(runs: &[RunResult]) {
    for run in runs {
        assert!(run.cpu.generator_us_per_request > 0.0);
        let processes: f64 = run.cpu.per_process_us_per_request.values().sum();
        assert!((processes - run.cpu.target_us_per_request).abs() < 1e-6);
    }
    let (off, on) = (&runs[0], &runs[1]);
    assert!(on.cpu.sink_us_per_request > off.cpu.sink_us_per_request);
}

/// Statistics and reports: one repetition gives medians but no verdict; an invalid run is left
/// out of the statistics and counted.
fn assert_statistics_and_reports(results: &Results, runs: &[RunResult], out: &Path) {
    let (off, on) = (&runs[0], &runs[1]);
    assert_eq!(results.summary.len(), 2);
    for (summary, run) in results.summary.iter().zip(runs) {
        assert_eq!(summary.variant, run.variant);
        assert_eq!(
            (summary.valid_runs, summary.invalid_runs),
            if run.valid { (1, 0) } else { (0, 1) }
        );
    }
    if on.valid && off.valid {
        let cpu = &results.summary[1].metrics["cpu_per_request"];
        assert_eq!(cpu.verdict, harness::results::Verdict::TooFewRuns);
        assert!(cpu.ratio.is_some_and(|r| r > 0.0));
    }
    // Charts are drawn from valid runs; a busy machine can make both runs of a debug build
    // invalid (scheduling lag), and the reports must still be written.
    let charts: &[&str] = if runs.iter().any(|r| r.valid) {
        &["charts/latency.png", "charts/cpu.svg"]
    } else {
        &[]
    };
    for file in ["report.md", "report.html", "results.csv", "benchmark.json"]
        .iter()
        .chain(charts)
    {
        let path = out.join(file);
        assert!(
            std::fs::metadata(&path).is_ok_and(|m| m.len() > 0),
            "{}",
            path.display()
        );
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Overhead against `off`"), "{md}");
    assert!(md.contains("## Environment and reproduction"), "{md}");
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + results.runs.len(),
        "a header and one row per attempt"
    );
}
