//! Span start+end: what one span costs the target-app, by sampler, by attribute count, by span
//! processor, through `tracing` + tracing-opentelemetry (the app's path) against the
//! OpenTelemetry API directly, and the upstream opentelemetry-rust benchmark for comparison.
//!
//! Every pipeline is the app's own (`target_app::telemetry::tracer_provider`: the sampler from
//! `OTEL_TRACES_SAMPLER`, counting, masking) with a no-op exporter; see `benches/README.md`.
//!
//! Upstream figures for the `span/upstream/*` rows (opentelemetry-sdk `benches/span.rs` and
//! opentelemetry `benches/trace.rs`, Apple M4 Pro): always-sample 204 ns, never-sample 51 ns,
//! no-op tracer 29 ns.
//!
//! Results (2026-11-27 13:40 UTC, one run of `cargo bench -p benches`; criterion's estimate and its 95%
//! interval). Machine: AMD EPYC (KVM guest, 2 vCPUs shared with other work, 1 MiB L2 per core, 32
//! MiB L3), 23 GiB RAM, Debian 12, Linux 6.18, rustc 1.95.0, criterion 0.8.2.
//!
//! | Benchmark                    | Time                          |
//! |------------------------------|-------------------------------|
//! | span/attributes/0           | 494 ns [445 ns, 556 ns]      |
//! | span/attributes/16          | 1.92 µs [1.79 µs, 2.07 µs]   |
//! | span/attributes/4           | 1.26 µs [1.19 µs, 1.35 µs]   |
//! | span/enter_exit/always_off  | 733 ns [697 ns, 778 ns]      |
//! | span/enter_exit/always_on   | 702 ns [671 ns, 743 ns]      |
//! | span/enter_exit/sdk_off     | 2.86 ns [2.46 ns, 3.49 ns]   |
//! | span/path/api/always_off    | 311 ns [285 ns, 341 ns]      |
//! | span/path/api/always_on     | 1.45 µs [1.37 µs, 1.55 µs]   |
//! | span/path/tracing/always_off| 1.78 µs [1.72 µs, 1.86 µs]   |
//! | span/path/tracing/always_on | 4 µs [3.85 µs, 4.17 µs]      |
//! | span/processor/batch        | 1.24 µs [1.19 µs, 1.32 µs]   |
//! | span/processor/simple       | 746 ns [695 ns, 801 ns]      |
//! | span/sampler/always_off     | 1.43 µs [1.32 µs, 1.56 µs]   |
//! | span/sampler/always_on      | 4.08 µs [3.9 µs, 4.33 µs]    |
//! | span/sampler/ratio_1%       | 1.73 µs [1.63 µs, 1.86 µs]   |
//! | span/sampler/ratio_10%      | 1.87 µs [1.76 µs, 2.03 µs]   |
//! | span/sampler/sdk_off        | 9.93 ns [8.95 ns, 11.4 ns]   |
//! | span/upstream/always-sample | 603 ns [575 ns, 636 ns]      |
//! | span/upstream/never-sample  | 148 ns [138 ns, 160 ns]      |
//! | span/upstream/noop-tracer   | 78.7 ns [70 ns, 89.8 ns]     |
//!
//! Upstream figures and how to read these: `benches/README.md`.

use std::hint::black_box;

use benches::fixtures::{db_query_api, db_query_span};
use benches::pipeline::{
    Processor, SAMPLERS, SpanPipeline, always_on, app_config, sdk_off_dispatch,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};

/// The app's database span through `tracing`, by sampler; `sdk_off` is `OTEL_SDK_DISABLED=true`.
fn by_sampler(c: &mut Criterion) {
    let mut group = c.benchmark_group("span/sampler");
    let off = sdk_off_dispatch();
    tracing::dispatcher::with_default(&off, || {
        group.bench_function(BenchmarkId::from_parameter("sdk_off"), |b| {
            b.iter(|| drop(black_box(db_query_span())));
        });
    });
    for (id, sampler, arg) in SAMPLERS {
        let pipeline = SpanPipeline::new(&app_config(sampler, arg), Processor::Batch);
        let dispatch = pipeline.dispatch();
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(BenchmarkId::from_parameter(id), |b| {
                b.iter(|| drop(black_box(db_query_span())));
            });
        });
        report(id, &pipeline.finish());
    }
    group.finish();
}

/// `n` attributes of mixed types (string, int, float, bool), the first `n` of 16.
fn attributes(n: usize) -> Vec<KeyValue> {
    const KEYS: [&str; 16] = [
        "k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10", "k11", "k12",
        "k13", "k14", "k15",
    ];
    KEYS.iter()
        .take(n)
        .enumerate()
        .map(|(i, k)| match i % 4 {
            0 => KeyValue::new(*k, "value"),
            1 => KeyValue::new(*k, i as i64),
            2 => KeyValue::new(*k, 1.5),
            _ => KeyValue::new(*k, true),
        })
        .collect()
}

/// Start, set `n` attributes, end: OpenTelemetry API, `parentbased_always_on`, batch processor.
fn by_attributes(c: &mut Criterion) {
    let mut group = c.benchmark_group("span/attributes");
    let pipeline = SpanPipeline::new(&always_on(), Processor::Batch);
    let tracer = pipeline.tracer();
    for n in [0, 4, 16] {
        let attrs = attributes(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &attrs, |b, attrs| {
            b.iter(|| {
                let mut span = tracer.start("span-name");
                for kv in attrs {
                    span.set_attribute(kv.clone());
                }
                span.end();
            });
        });
    }
    report("attributes", &pipeline.finish());
    group.finish();
}

/// The app's database span (API, always on) behind each span processor.
fn by_processor(c: &mut Criterion) {
    let mut group = c.benchmark_group("span/processor");
    for (id, processor) in [("batch", Processor::Batch), ("simple", Processor::Simple)] {
        let pipeline = SpanPipeline::new(&always_on(), processor);
        let tracer = pipeline.tracer();
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| db_query_api(&tracer));
        });
        report(id, &pipeline.finish());
    }
    group.finish();
}

/// The same span (the app's database span, batch processor) through `tracing` +
/// tracing-opentelemetry and through the OpenTelemetry API.
fn tracing_vs_api(c: &mut Criterion) {
    let mut group = c.benchmark_group("span/path");
    for (sampler_id, sampler) in [
        ("always_on", "parentbased_always_on"),
        ("always_off", "parentbased_always_off"),
    ] {
        let pipeline = SpanPipeline::new(&app_config(sampler, None), Processor::Batch);
        let tracer = pipeline.tracer();
        group.bench_function(BenchmarkId::new("api", sampler_id), |b| {
            b.iter(|| db_query_api(&tracer));
        });
        let dispatch = pipeline.dispatch();
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(BenchmarkId::new("tracing", sampler_id), |b| {
                b.iter(|| drop(black_box(db_query_span())));
            });
        });
        report(sampler_id, &pipeline.finish());
    }
    group.finish();
}

/// Entering and leaving a live span, which `Instrument` does on every poll of an instrumented
/// future (the app instruments each request and each query future): by sampler.
fn enter_exit(c: &mut Criterion) {
    let mut group = c.benchmark_group("span/enter_exit");
    let off = sdk_off_dispatch();
    tracing::dispatcher::with_default(&off, || {
        let span = db_query_span();
        group.bench_function(BenchmarkId::from_parameter("sdk_off"), |b| {
            b.iter(|| drop(black_box(span.enter())));
        });
    });
    for (id, sampler) in [
        ("always_off", "parentbased_always_off"),
        ("always_on", "parentbased_always_on"),
    ] {
        let pipeline = SpanPipeline::new(&app_config(sampler, None), Processor::Batch);
        let dispatch = pipeline.dispatch();
        tracing::dispatcher::with_default(&dispatch, || {
            let span = db_query_span();
            group.bench_function(BenchmarkId::from_parameter(id), |b| {
                b.iter(|| drop(black_box(span.enter())));
            });
        });
        let _ = pipeline.finish();
    }
    group.finish();
}

/// A span exporter that does nothing (upstream's `VoidExporter`).
#[derive(Debug)]
struct VoidExporter;

impl SpanExporter for VoidExporter {
    async fn export(&self, _spans: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

/// Upstream's `span-creation-simple` (plain SDK, simple processor, void exporter, five
/// attributes set only when recording) and the no-op tracer, for a machine-to-machine comparison.
fn upstream(c: &mut Criterion) {
    let mut group = c.benchmark_group("span/upstream");
    for (id, sampler) in [
        ("always-sample", Sampler::AlwaysOn),
        ("never-sample", Sampler::AlwaysOff),
    ] {
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_simple_exporter(VoidExporter)
            .build();
        let tracer = provider.tracer(id);
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                let mut span = tracer.start("span-name");
                if span.is_recording() {
                    span.set_attribute(KeyValue::new("key1", false));
                    span.set_attribute(KeyValue::new("key2", "hello"));
                    span.set_attribute(KeyValue::new("key3", 123.456));
                    span.set_attribute(KeyValue::new("key4", "world"));
                    span.set_attribute(KeyValue::new("key5", 123));
                }
                span.end();
            });
        });
    }
    // As upstream: the global tracer (boxed) over the no-op provider, which is also what the
    // OpenTelemetry API gives the app when no SDK is installed.
    opentelemetry::global::set_tracer_provider(
        opentelemetry::trace::noop::NoopTracerProvider::new(),
    );
    let noop = opentelemetry::global::tracer("bench");
    group.bench_function(BenchmarkId::from_parameter("noop-tracer"), |b| {
        b.iter(|| {
            let mut span = noop.start("span-name");
            span.end();
        });
    });
    group.finish();
}

/// Prints what the pipeline delivered, so a full batch queue (dropped spans, a cheaper path)
/// is visible next to the figure it affects.
fn report(id: &str, totals: &target_app::telemetry::counting::SignalTotals) {
    eprintln!(
        "    [{id}] spans produced {}, exported {}, dropped {}",
        totals.produced, totals.exported, totals.dropped
    );
}

criterion_group! {
    name = spans;
    config = benches::short();
    targets = by_sampler, by_attributes, by_processor, tracing_vs_api, enter_exit, upstream
}
criterion_main!(spans);
