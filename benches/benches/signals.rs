//! The other two signals on the request path: one `http.server.request.duration` record as the
//! app's middleware makes it (`target_app::telemetry::metrics::AppMetrics`, three attributes
//! built per request), and one log record through the OTLP log bridge (`tracing::info!` ->
//! `OpenTelemetryTracingBridge` -> masking logger -> batch log processor -> no-op exporter).
//!
//! Results (2026-11-27 13:40 UTC, one run of `cargo bench -p benches`; criterion's estimate and its 95%
//! interval). Machine: AMD EPYC (KVM guest, 2 vCPUs shared with other work, 1 MiB L2 per core, 32
//! MiB L3), 23 GiB RAM, Debian 12, Linux 6.18, rustc 1.95.0, criterion 0.8.2.
//!
//! | Benchmark                   | Time                          |
//! |-----------------------------|-------------------------------|
//! | log/bridge_info_no_email   | 1.83 µs [1.75 µs, 1.96 µs]   |
//! | log/bridge_info_with_email | 1.35 µs [1.28 µs, 1.42 µs]   |
//! | metric/http_duration_record| 312 ns [296 ns, 336 ns]      |
//!
//! Upstream figures and how to read these: `benches/README.md`.

use std::hint::black_box;

use benches::pipeline::{LogPipeline, meter_provider};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use target_app::telemetry::metrics::AppMetrics;

fn histogram(c: &mut Criterion) {
    let provider = meter_provider();
    let metrics = AppMetrics::new(&provider.meter("target-app"));
    let mut group = c.benchmark_group("metric");
    let routes = ["/api/articles", "/api/articles/{slug}", "/api/users/login"];
    let mut i = 0_usize;
    group.bench_function(BenchmarkId::from_parameter("http_duration_record"), |b| {
        b.iter(|| {
            // As `server_span` does: method and route as owned strings, the status as an int.
            i = (i + 1) % routes.len();
            metrics.http_duration.record(
                black_box(0.0042),
                &[
                    KeyValue::new("http.request.method", "GET".to_string()),
                    KeyValue::new("http.route", routes[i].to_string()),
                    KeyValue::new("http.response.status_code", 200_i64),
                ],
            );
        });
    });
    group.finish();
    let _ = provider.shutdown();
}

fn log_bridge(c: &mut Criterion) {
    let logs = LogPipeline::default();
    let dispatch = logs.dispatch();
    let mut group = c.benchmark_group("log");
    tracing::dispatcher::with_default(&dispatch, || {
        let email = "alice.smith@example.com";
        group.bench_function(BenchmarkId::from_parameter("bridge_info_with_email"), |b| {
            b.iter(|| {
                tracing::event!(
                    target: "target_app::routes::users",
                    tracing::Level::INFO,
                    user.id = 42_i64,
                    "login succeeded for {}",
                    black_box(email)
                );
            });
        });
        group.bench_function(BenchmarkId::from_parameter("bridge_info_no_email"), |b| {
            b.iter(|| {
                tracing::event!(
                    target: "target_app::routes::articles",
                    tracing::Level::INFO,
                    article.slug = "hello-world",
                    user.id = 42_i64,
                    "article created"
                );
            });
        });
    });
    group.finish();
    let totals = logs.finish();
    eprintln!(
        "    [log] records produced {}, exported {}, dropped {}",
        totals.produced, totals.exported, totals.dropped
    );
}

criterion_group! {
    name = benches;
    config = benches::short();
    targets = histogram, log_bridge
}
criterion_main!(benches);
