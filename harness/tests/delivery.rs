//! Delivery accounting with the real target-app under collector faults: in every run, the spans
//! the target produced are received by the sink, dropped by its queue, or failed in export
//! (within the documented tolerance), and each fault shows the intended effect.

mod common;

use harness::results::writer::read;
use harness::stats::delivery::{accounting_gap, tolerance};

const EXTRA: &str = r#"
[[variants]]
name = "error 50%"
fault = "error:0.5"
env = { OTEL_TRACES_SAMPLER = "parentbased_always_on", OTEL_BSP_SCHEDULE_DELAY = "200" }

[[variants]]
name = "down"
fault = "down"
env = { OTEL_TRACES_SAMPLER = "parentbased_always_on", OTEL_BSP_SCHEDULE_DELAY = "200" }

[[variants]]
name = "blackhole"
fault = "blackhole"
env = { OTEL_TRACES_SAMPLER = "parentbased_always_on", OTEL_BSP_SCHEDULE_DELAY = "200", OTEL_EXPORTER_OTLP_TIMEOUT = "300" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produced_spans_are_received_dropped_or_failed_under_every_fault() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenario_with_binary("smoke.toml", dir.path(), EXTRA);
    let out = dir.path().join("out");
    common::run_cli(&scenario, &out).await;
    let results = read(&out.join("results.json")).unwrap();
    let kept: Vec<_> = results.kept_runs().collect();
    assert_eq!(
        kept.len(),
        5,
        "one kept run per variant (attempts a slow machine replaced aside)"
    );
    for run in kept {
        let name = run.variant.as_str();
        assert_eq!(
            run.load.errors, 0,
            "{name}: telemetry must not fail requests"
        );
        assert!(run.load.requests > 0, "{name}: {:?}", run.invalid_reason);
        if name == "off" {
            continue;
        }
        let t = run.telemetry.target_spans.unwrap_or_else(|| {
            panic!(
                "{name}: the target reported no totals: {:?}",
                run.invalid_reason
            )
        });
        assert!(t.produced > 0, "{name}: {t:?}");
        let (expected, gap) = accounting_gap(run).unwrap();
        assert!(
            gap.abs() <= tolerance(expected),
            "{name}: produced {expected} but received {} + dropped {} + failed {} (gap {gap})",
            run.telemetry.spans_received,
            t.dropped,
            t.failed
        );
        let received = run.telemetry.spans_received;
        match name {
            "100%" => {
                assert_eq!(run.collector.fault, None);
                assert_eq!((t.dropped, t.failed), (0, 0), "{t:?}");
                assert_eq!(received, t.produced);
            }
            "error 50%" => {
                assert_eq!(run.collector.fault.as_deref(), Some("error:0.5"));
                assert!(run.collector.exports_refused > 0, "{:?}", run.collector);
                assert!(received > 0 && received <= t.produced, "{received} {t:?}");
            }
            "down" => {
                assert_eq!(received, 0);
                assert_eq!(t.dropped + t.failed, t.produced, "{t:?}");
                assert!(t.failed_calls > 0, "{t:?}");
            }
            "blackhole" => {
                assert_eq!(received, 0);
                assert!(
                    run.collector.connections_blackholed > 0,
                    "{:?}",
                    run.collector
                );
                assert_eq!(t.dropped + t.failed, t.produced, "{t:?}");
            }
            other => panic!("unexpected variant {other}"),
        }
    }
    // The report states the faults' effect.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Collector faults"), "{report}");
    assert!(
        report.contains("vs 100%"),
        "faults are compared with 100%: {report}"
    );
    assert!(!report.contains("requests failed"), "{report}");
}
