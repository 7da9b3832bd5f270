//! Instruction counts of the core operations under Callgrind (gungraun), for a CI check that
//! compares exact counts instead of noisy times. Each benchmark runs its operation `OPS` times
//! (or once, for the 512-span batch) after a warm-up in its setup, which Callgrind does not count;
//! divide by `OPS` for the count per operation. Spans use the simple processor here: the batch
//! processor's thread would make the counts depend on scheduling.
//!
//! Needs valgrind and `gungraun-runner` at exactly the library's version:
//! `cargo install gungraun-runner --version 0.20.0 --locked`, then
//! `cargo bench -p benches --features instructions --bench instructions`.
//!
//! Results (2026-11-27 14:03 UTC; gungraun 0.20.0, valgrind 3.19, rustc 1.95.0; AMD EPYC KVM guest, 2 vCPUs,
//! Debian 12, Linux 6.18). Instructions for 100 operations (one batch for `encode_batch`):
//!
//! | Benchmark                          | Instructions | Per operation   |
//! |------------------------------------|-------------:|----------------:|
//! | span_start_end always_on           |    1,094,875 |          10,949 |
//! | span_start_end always_off          |      785,941 |           7,859 |
//! | inject traceparent                 |      504,392 |           5,044 |
//! | extract traceparent                |      402,866 |           4,029 |
//! | mask_text sql_no_email             |       23,230 |             232 |
//! | mask_text one_email                |      105,730 |           1,057 |
//! | mask_spans server_span             |      212,330 |           2,123 |
//! | histogram_record http_duration     |      214,235 |           2,142 |
//! | encode_batch spans_512             |   13,036,347 | 25,461 per span |
//! | harness_record request             |       95,365 |             954 |
//!
//! Repeat runs agree to 0.02% (hash-map seeds, the process id's length), builds to about 0.3%;
//! see `benches/README.md`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::fixtures::{app_spans, db_query_span, encode_otlp, job_carrier, otlp_resource};
use benches::pipeline::{Processor, SpanPipeline, app_config, meter_provider};
use gungraun::{LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use harness::load::recorder::{Recorder, Times};
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SpanData;
use target_app::telemetry::mask::{mask_emails, mask_span};
use target_app::telemetry::metrics::AppMetrics;
use target_app::telemetry::propagation::inject_current;

/// Operations per benchmark.
const OPS: usize = 100;

/// The app's pipeline (simple processor, no-op exporter) and its `tracing` subscriber.
struct Spans {
    pipeline: SpanPipeline,
    dispatch: tracing::Dispatch,
}

fn spans(sampler: &str) -> Spans {
    let pipeline = SpanPipeline::new(&app_config(sampler, None), Processor::Simple);
    let dispatch = pipeline.dispatch();
    tracing::dispatcher::with_default(&dispatch, || drop(db_query_span()));
    Spans { pipeline, dispatch }
}

fn finish_spans(fixture: Spans) {
    let _ = fixture.pipeline.finish();
}

// The app's database span through `tracing`, started and ended `OPS` times.
#[library_benchmark]
#[bench::always_on(args = ("parentbased_always_on"), setup = spans, teardown = finish_spans)]
#[bench::always_off(args = ("parentbased_always_off"), setup = spans, teardown = finish_spans)]
fn span_start_end(fixture: Spans) -> Spans {
    tracing::dispatcher::with_default(&fixture.dispatch, || {
        for _ in 0..OPS {
            drop(black_box(db_query_span()));
        }
    });
    fixture
}

/// A live span under the app's pipeline and the global W3C propagator.
struct Live {
    fixture: Spans,
    span: tracing::Span,
}

fn live_span() -> Live {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let fixture = spans("parentbased_always_on");
    let span = tracing::dispatcher::with_default(&fixture.dispatch, db_query_span);
    black_box(inject_current(&span));
    Live { fixture, span }
}

fn finish_live(live: Live) {
    drop(live.span);
    finish_spans(live.fixture);
}

// `inject_current` (the job-header path in the web process), `OPS` times.
#[library_benchmark]
#[bench::traceparent(setup = live_span, teardown = finish_live)]
fn inject(live: Live) -> Live {
    for _ in 0..OPS {
        black_box(inject_current(black_box(&live.span)));
    }
    live
}

fn carrier() -> (TraceContextPropagator, HashMap<String, String>) {
    let propagator = TraceContextPropagator::new();
    let carrier = job_carrier();
    black_box(propagator.extract(&carrier));
    (propagator, carrier)
}

// W3C extraction from a job's metadata (the worker side), `OPS` times.
#[library_benchmark]
#[bench::traceparent(setup = carrier)]
fn extract(input: (TraceContextPropagator, HashMap<String, String>)) {
    let (propagator, carrier) = input;
    for _ in 0..OPS {
        black_box(propagator.extract(black_box(&carrier)));
    }
}

/// The text on the heap: a string literal's address (and so the byte scan's unaligned head and
/// tail) moves with every change to the binary, and with it the count by up to 20%.
fn owned(text: &str) -> String {
    text.to_string()
}

// `mask_emails`, `OPS` times.
#[library_benchmark]
#[bench::sql_no_email(
    args = ("SELECT id, email, username, password_hash FROM users WHERE email = $1"),
    setup = owned
)]
#[bench::one_email(args = ("registered alice.smith@example.com"), setup = owned)]
fn mask_text(text: String) -> String {
    for _ in 0..OPS {
        black_box(mask_emails(black_box(&text)));
    }
    text
}

fn server_spans() -> Vec<SpanData> {
    let span = app_spans(2)
        .into_iter()
        .find(|s| s.name.starts_with("GET "))
        .expect("a server span");
    vec![span; OPS]
}

// `mask_span` on `OPS` copies of the app's server span.
#[library_benchmark]
#[bench::server_span(setup = server_spans)]
fn mask_spans(mut spans: Vec<SpanData>) -> Vec<SpanData> {
    for span in &mut spans {
        mask_span(black_box(span));
    }
    spans
}

fn metrics() -> (SdkMeterProvider, AppMetrics) {
    let provider = meter_provider();
    let metrics = AppMetrics::new(&provider.meter("target-app"));
    record_once(&metrics);
    (provider, metrics)
}

fn record_once(metrics: &AppMetrics) {
    metrics.http_duration.record(
        black_box(0.0042),
        &[
            KeyValue::new("http.request.method", "GET".to_string()),
            KeyValue::new("http.route", "/api/articles/{slug}".to_string()),
            KeyValue::new("http.response.status_code", 200_i64),
        ],
    );
}

// `http.server.request.duration` recorded as the app's middleware does, `OPS` times.
#[library_benchmark]
#[bench::http_duration(setup = metrics)]
fn histogram_record(input: (SdkMeterProvider, AppMetrics)) -> (SdkMeterProvider, AppMetrics) {
    for _ in 0..OPS {
        record_once(&input.1);
    }
    input
}

fn batch() -> (Vec<SpanData>, ResourceAttributesWithSchema) {
    (app_spans(512), otlp_resource())
}

// One 512-span batch of the app's spans encoded to an OTLP protobuf body (no gzip).
#[library_benchmark]
#[bench::spans_512(setup = batch)]
fn encode_batch(input: (Vec<SpanData>, ResourceAttributesWithSchema)) -> Vec<u8> {
    encode_otlp(input.0, &input.1)
}

fn recorder() -> (Recorder, Instant) {
    let t0 = Instant::now();
    let r = Recorder::new(t0, t0 + Duration::from_secs(3600));
    let times = Times {
        intended: t0,
        free: t0,
        sent: t0,
        done: t0,
    };
    r.record("GET /api/articles/{slug}", times, &Ok(()));
    (r, t0)
}

// The harness recording one request (latency and lag histograms, per-name stats), `OPS` times.
#[library_benchmark]
#[bench::request(setup = recorder)]
fn harness_record(input: (Recorder, Instant)) -> Recorder {
    let (r, t0) = input;
    let ok = Ok(());
    for k in 0..OPS as u64 {
        let intended = t0 + Duration::from_micros(k);
        let times = Times {
            intended,
            free: intended,
            sent: intended,
            done: intended + Duration::from_micros(350 + k),
        };
        r.record("GET /api/articles/{slug}", times, &ok);
    }
    r
}

library_benchmark_group!(
    name = telemetry,
    benchmarks = [
        span_start_end,
        inject,
        extract,
        mask_text,
        mask_spans,
        histogram_record,
        encode_batch,
        harness_record
    ]
);

main!(
    config = LibraryBenchmarkConfig::default();
    library_benchmark_groups = telemetry
);
