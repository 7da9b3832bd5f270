//! The seed's own stack as a target: `scenarios/flask-celery.toml`, shortened, against
//! `examples/flask-celery/` (Flask + Celery + Redis under `opentelemetry-instrument`), with one
//! service name for both processes. Needs the example's venv (`examples/flask-celery/setup.sh`;
//! `.ci/run` makes it and sets `OTELBENCH_REQUIRE_EXAMPLES=1`, so that a missing venv fails
//! here instead of skipping).

mod common;

use std::path::{Path, PathBuf};

use harness::results::writer::read;

/// `scenarios/flask-celery.toml` with absolute example paths, one short repetition, and `edit`
/// applied to its text; `None` when the example is not set up (and not required).
fn scenario(dir: &Path, edit: impl Fn(String) -> String) -> Option<PathBuf> {
    let root = common::root();
    let venv = root.join("examples/flask-celery/.venv");
    if !venv.is_dir() {
        assert!(
            std::env::var("OTELBENCH_REQUIRE_EXAMPLES").as_deref() != Ok("1"),
            "{} is missing; fix: run examples/flask-celery/setup.sh",
            venv.display()
        );
        eprintln!("examples/flask-celery is not set up: skipped (run its setup.sh)");
        return None;
    }
    let text = std::fs::read_to_string(root.join("scenarios/flask-celery.toml")).unwrap();
    let text = text
        .replace("\"examples/", &format!("\"{}/examples/", root.display()))
        .replace("repetitions = 3", "repetitions = 1")
        .replace("rate = 50 ", "rate = 40 ")
        .replace("warmup_s = 3", "warmup_s = 2")
        .replace("duration_s = 8", "duration_s = 4");
    let path = dir.join("flask-celery.toml");
    std::fs::write(&path, edit(text)).unwrap();
    Some(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_celery_joins_web_and_worker_under_one_service_name() {
    let dir = tempfile::tempdir().unwrap();
    let Some(scenario) = scenario(dir.path(), |t| t) else {
        return;
    };
    let out = dir.path().join("out");
    common::run_cli(&scenario, &out).await;
    let results = read(&out.join("results.json")).unwrap();
    let kept: Vec<_> = results.kept_runs().collect();
    assert_eq!(kept.len(), 3);
    for run in &kept {
        assert!(run.invalid_reason.is_none() || run.latency_only, "{run:?}");
        assert_eq!(run.load.errors, 0, "{:?}", run.load);
        assert!(run.jobs.is_none(), "a command target reports no jobs");
        let t = &run.telemetry;
        match run.variant.as_str() {
            "off" => assert_eq!(t.spans_received, 0, "off exports nothing"),
            "100%" => {
                // Every create and new favorite enqueues a Celery task: its trace must hold the
                // web's and the worker's spans although both report service.name flask-celery.
                assert!(t.producer_spans > 0, "{t:?}");
                assert!(
                    t.traces_complete as f64 >= 0.95 * t.producer_spans as f64,
                    "joined traces {} of {} enqueued",
                    t.traces_complete,
                    t.producer_spans
                );
                assert!(
                    (0.97..=1.03).contains(&t.observed_sampling_ratio),
                    "observed sampling {} at 100%: the worker's own traces must not count",
                    t.observed_sampling_ratio
                );
            }
            _ => assert!(t.observed_sampling_ratio < 0.5, "{t:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_celery_without_redis_fails_readiness_with_the_reason_and_the_plan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let Some(scenario) = scenario(dir.path(), |t| {
        t.replace(
            "env = { OTEL_SERVICE_NAME = \"flask-celery\" }",
            "env = { OTEL_SERVICE_NAME = \"flask-celery\", REDIS_URL = \"redis://127.0.0.1:1/0\" }\nready_timeout_s = 20",
        )
        // Two variants are enough to see the plan go on after the first failure.
        .replace(
            "[[variants]]\nname = \"10%\"\nenv = { OTEL_TRACES_SAMPLER = \"parentbased_traceidratio\", OTEL_TRACES_SAMPLER_ARG = \"0.1\" }\n",
            "",
        )
    }) else {
        return;
    };
    let out = dir.path().join("out");
    let code = common::run_cli(&scenario, &out).await;
    assert_eq!(code, std::process::ExitCode::from(1));
    let results = read(&out.join("results.json")).unwrap();
    assert_eq!(results.runs.len(), 2, "every variant was tried");
    for run in &results.runs {
        let reason = run.invalid_reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("not ready") && reason.contains("503") && reason.contains("redis"),
            "{reason}"
        );
    }
}
