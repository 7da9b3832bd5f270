//! W3C trace context on the job path: the web process injects the current span's context into
//! the job's metadata (`target_app::telemetry::propagation::inject_current`); the worker
//! extracts it and parents its job span on it (`set_parent_from_map`). Measured with the app's
//! pipeline at `parentbased_always_on`, batch processor, no-op exporter.
//!
//! Results (2026-11-27 13:40 UTC, one run of `cargo bench -p benches`; criterion's estimate and its 95%
//! interval). Machine: AMD EPYC (KVM guest, 2 vCPUs shared with other work, 1 MiB L2 per core, 32
//! MiB L3), 23 GiB RAM, Debian 12, Linux 6.18, rustc 1.95.0, criterion 0.8.2.
//!
//! | Benchmark                            | Time                          |
//! |--------------------------------------|-------------------------------|
//! | propagation/extract                 | 407 ns [377 ns, 442 ns]      |
//! | propagation/inject_current          | 791 ns [717 ns, 864 ns]      |
//! | propagation/span+set_parent_from_map| 4.5 µs [4.3 µs, 4.73 µs]     |
//! | propagation/span_alone              | 4.56 µs [4.29 µs, 4.88 µs]   |
//!
//! Upstream figures and how to read these: `benches/README.md`.

use std::hint::black_box;

use benches::fixtures::{db_query_span, job_carrier};
use benches::pipeline::{Processor, SpanPipeline, always_on};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use target_app::telemetry::propagation::{inject_current, set_parent_from_map};

fn propagation(c: &mut Criterion) {
    // What `target_app::telemetry::init_global` installs when telemetry is on.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let pipeline = SpanPipeline::new(&always_on(), Processor::Batch);
    let dispatch = pipeline.dispatch();
    let mut group = c.benchmark_group("propagation");
    tracing::dispatcher::with_default(&dispatch, || {
        let span = db_query_span();
        group.bench_function(BenchmarkId::from_parameter("inject_current"), |b| {
            b.iter(|| black_box(inject_current(black_box(&span))));
        });
        drop(span);

        let carrier = job_carrier();
        let propagator = TraceContextPropagator::new();
        group.bench_function(BenchmarkId::from_parameter("extract"), |b| {
            b.iter(|| black_box(propagator.extract(black_box(&carrier))));
        });
        // The worker's step: a new span, parented on the carried context, ended. The span alone
        // is measured next to it so that the difference is the extraction and re-parenting.
        group.bench_function(
            BenchmarkId::from_parameter("span+set_parent_from_map"),
            |b| {
                b.iter(|| {
                    let span = db_query_span();
                    set_parent_from_map(&span, black_box(&carrier));
                    drop(span);
                });
            },
        );
        group.bench_function(BenchmarkId::from_parameter("span_alone"), |b| {
            b.iter(|| drop(black_box(db_query_span())));
        });
    });
    group.finish();
    let _ = pipeline.finish();
}

criterion_group! {
    name = benches;
    config = benches::short();
    targets = propagation
}
criterion_main!(benches);
