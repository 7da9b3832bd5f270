//! The app's two most frequent telemetry operations, a span's enter+exit (every poll of an
//! instrumented future) and a span's start+end, timed one at a time with the CPU caches warm and
//! with them evicted first, as a request's own work (SQL, JSON, HTTP parsing) leaves them between
//! two telemetry calls. A hot loop keeps the subscriber's span slab, thread-locals and code in L1;
//! a real request does not, and the profile of the running target-app says each operation costs
//! it several times its hot-loop figure (`benches/README.md`, "Consistency").
//!
//! Each iteration: evict (not timed), then time one operation with two clock reads. The `empty`
//! operation times nothing but the clock reads, under the same eviction: subtract it. All of it
//! runs under the target-app's whole `tracing` subscriber (`target_app::telemetry::subscriber`:
//! span layer, log bridge, stderr), inside an entered HTTP server span, as in a request.
//!
//! Results (2026-11-27 13:20 UTC, one run of `cargo bench -p benches --bench cold`; criterion's
//! mean with its 95% interval, in ns, clock reads included: subtract `empty`). Machine: AMD EPYC
//! (KVM guest, 2 vCPUs shared with other work, 1 MiB L2 per core, 32 MiB L3), Debian 12, Linux
//! 6.18, rustc 1.95.0, criterion 0.8.2.
//!
//! | Benchmark                  | hot               | l1 (64 KiB)       | l2 (2 MiB)          |
//! |----------------------------|-------------------|-------------------|---------------------|
//! | empty (two clock reads)    | 39 [38, 41]       | 54 [51, 57]       | 75 [68, 82]         |
//! | enter_exit/sdk_off         | 48 [46, 50]       | 66 [65, 68]       | 187 [164, 213]      |
//! | enter_exit/always_off      | 793 [777, 811]    | 908 [902, 914]    | 1,363 [1,265, 1,465] |
//! | enter_exit/always_on       | 833 [806, 865]    | 928 [911, 945]    | 1,599 [1,474, 1,731] |
//! | span/sdk_off               | 50 [48, 52]       | 61 [58, 64]       | 173 [158, 190]      |
//! | span/always_off            | 2,138 [2,070, 2,192] | 2,207 [2,193, 2,221] | 5,407 [4,848, 6,103] |
//! | span/always_on             | 4,549 [4,439, 4,656] | 3,987 [3,853, 4,123] | 5,967 [5,737, 6,211] |
//!
//! A run ten minutes earlier with a quarter of the measurement time differed by up to 40% in a
//! cell (`span/always_off` at l1: 1,436 ns), so read the rows as "hot, about 1.2x, about 2.5x",
//! not to the nanosecond.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::fixtures::{db_query_span, http_server_span};
use benches::pipeline::{LogPipeline, Processor, SpanPipeline, app_config, sdk_off_dispatch};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// How much memory is written between two operations: nothing (a hot loop), about L1 (64 KiB),
/// and twice this machine's L2 (2 MiB per core), which leaves the operation's data in L3 at best.
const EVICTIONS: [(&str, usize); 3] = [("hot", 0), ("l1", 64 << 10), ("l2", 2 << 20)];

/// Writes one byte in every cache line of `buf`, pushing whatever else was cached out.
fn evict(buf: &mut [u8]) {
    for line in buf.chunks_mut(64) {
        line[0] = line[0].wrapping_add(1);
    }
    black_box(buf);
}

/// Times `op` alone, `iters` times, evicting `buf` before each call.
fn timed(iters: u64, buf: &mut [u8], mut op: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        evict(buf);
        let start = Instant::now();
        op();
        total += start.elapsed();
    }
    total
}

/// The app's whole subscriber for `id`, with the pipelines behind it (none when the SDK is off).
fn subscriber(id: &str) -> (tracing::Dispatch, Option<(SpanPipeline, LogPipeline)>) {
    let sampler = match id {
        "sdk_off" => return (sdk_off_dispatch(), None),
        "always_off" => "parentbased_always_off",
        _ => "parentbased_always_on",
    };
    let spans = SpanPipeline::new(&app_config(sampler, None), Processor::Batch);
    let logs = LogPipeline::default();
    (spans.app_dispatch(&logs), Some((spans, logs)))
}

fn cold(c: &mut Criterion) {
    let mut group = c.benchmark_group("cold");
    // Every timed nanosecond costs up to 40 µs of eviction: keep the iteration counts small.
    group
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(600))
        .sample_size(30);
    let mut buf = vec![0u8; EVICTIONS[2].1];
    // One subscriber alive at a time, as in the app: `tracing` caches each call site's interest
    // over every live subscriber, and one that wants the app's spans would make the call sites
    // ask the others too.
    for id in ["sdk_off", "always_off", "always_on"] {
        let (dispatch, pipelines) = subscriber(id);
        tracing::dispatcher::with_default(&dispatch, || {
            let request = http_server_span("/api/articles/{slug}", "/api/articles/a-1");
            let _in_request = request.enter();
            for (cache, bytes) in EVICTIONS {
                let buf = &mut buf[..bytes];
                if id == "sdk_off" {
                    group.bench_function(BenchmarkId::new("empty", cache), |b| {
                        b.iter_custom(|iters| timed(iters, buf, || {}));
                    });
                }
                let span = db_query_span();
                group.bench_function(BenchmarkId::new(format!("enter_exit/{id}"), cache), |b| {
                    b.iter_custom(|iters| timed(iters, buf, || drop(black_box(span.enter()))));
                });
                group.bench_function(BenchmarkId::new(format!("span/{id}"), cache), |b| {
                    b.iter_custom(|iters| timed(iters, buf, || drop(black_box(db_query_span()))));
                });
            }
        });
        drop(dispatch);
        if let Some((spans, logs)) = pipelines {
            let _ = spans.finish();
            let _ = logs.finish();
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = benches::short();
    targets = cold
}
criterion_main!(benches);
