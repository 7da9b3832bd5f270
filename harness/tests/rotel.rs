//! The smoke scenario through a real collector: rotel-agent (`pip install rotel`; `.ci/run`
//! installs it) exporting to the embedded sink, so what passed through the collector is counted
//! and the collector's own CPU and RSS are measured. Where rotel is not installed, the same
//! scenario runs through the embedded sink alone, and the test says so; with
//! `OTELBENCH_REQUIRE_ROTEL=1` (set by `.ci/run`) a missing rotel fails the test instead.

mod common;

use harness::results::writer::read;
use harness::runner::collector::find_rotel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_through_a_real_collector() {
    let rotel = find_rotel(None);
    if let Err(e) = &rotel {
        assert!(
            std::env::var("OTELBENCH_REQUIRE_ROTEL").as_deref() != Ok("1"),
            "rotel-agent is required here but not installed: {e:#}; fix: python3 -m pip install rotel"
        );
        eprintln!("rotel-agent is not installed ({e:#}): running through the embedded sink");
    }
    let collector = if rotel.is_ok() {
        "[collector]\nkind = \"rotel\"\nforward = true\n"
    } else {
        "[collector]\nkind = \"embedded\"\n"
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenario_with_binary("smoke.toml", dir.path(), collector);
    let out = dir.path().join("out");
    common::run_cli(&scenario, &out).await;
    let results = read(&out.join("results.json")).unwrap();
    let kept: Vec<_> = results.kept_runs().collect();
    assert_eq!(kept.len(), 2);
    for run in kept {
        let c = &run.collector;
        assert!(c.counted, "{c:?}");
        assert_eq!(run.load.errors, 0);
        if rotel.is_ok() {
            assert_eq!(c.kind, "rotel+sink");
            let cpu = c.cpu_us_per_request.unwrap();
            assert!(cpu > 0.0 && cpu.is_finite(), "collector CPU {cpu}");
            let rss = c.memory_mb.unwrap();
            assert!(
                rss.mean > 1.0 && rss.peak + 1e-6 >= rss.mean,
                "collector RSS {rss:?}"
            );
            assert!(
                !run.cpu.per_process_us_per_request.contains_key("collector"),
                "the collector is not part of the target's CPU"
            );
        } else {
            assert_eq!(c.kind, "embedded");
        }
        if run.variant == "100%" {
            let t = run.telemetry.target_spans.unwrap();
            assert!(t.exported > 0);
            assert_eq!(
                run.telemetry.spans_received, t.exported,
                "every span the target exported came out of the collector"
            );
            assert!(run.telemetry.traces_complete > 0);
        }
    }
}
