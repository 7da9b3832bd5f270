//! Encoding one full batch (512 spans, the batch processor's default export size) to an OTLP
//! protobuf body, as opentelemetry-otlp does before sending it, with and without gzip. The spans
//! are the app's own (a server span and three database spans per request, masked), produced by
//! the app's pipeline.
//!
//! Results (2026-11-27 13:40 UTC, one run of `cargo bench -p benches`; criterion's estimate and its 95%
//! interval). Machine: AMD EPYC (KVM guest, 2 vCPUs shared with other work, 1 MiB L2 per core, 32
//! MiB L3), 23 GiB RAM, Debian 12, Linux 6.18, rustc 1.95.0, criterion 0.8.2.
//!
//! | Benchmark                           | Time                          |
//! |-------------------------------------|-------------------------------|
//! | otlp_encode_512_spans/protobuf     | 1.65 ms [1.41 ms, 2 ms]      |
//! | otlp_encode_512_spans/protobuf+gzip| 4.32 ms [3.9 ms, 4.76 ms]    |
//!
//! Upstream figures and how to read these: `benches/README.md`.

use benches::fixtures::{app_spans, encode_otlp, gzip, otlp_resource};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 512;

fn encoding(c: &mut Criterion) {
    let spans = app_spans(BATCH);
    let resource = otlp_resource();
    let body = encode_otlp(spans.clone(), &resource);
    let zipped = gzip(&body);
    eprintln!(
        "    [encoding] {BATCH} spans: {} bytes of protobuf, {} gzipped",
        body.len(),
        zipped.len()
    );
    let mut group = c.benchmark_group("otlp_encode_512_spans");
    group.sample_size(20);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::from_parameter("protobuf"), |b| {
        b.iter_batched(
            || spans.clone(),
            |s| encode_otlp(s, &resource),
            BatchSize::LargeInput,
        );
    });
    group.bench_function(BenchmarkId::from_parameter("protobuf+gzip"), |b| {
        b.iter_batched(
            || spans.clone(),
            |s| gzip(&encode_otlp(s, &resource)),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = benches::short();
    targets = encoding
}
criterion_main!(benches);
