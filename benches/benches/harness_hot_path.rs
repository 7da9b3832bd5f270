//! The harness's own per-request work, to show that the instrument costs little next to what it
//! measures: recording one request into the run's HdrHistograms (`harness::load::recorder`),
//! and the pacing step (`harness::load::pacing`: a user's intended send time, and a wait on its
//! precise timer for a slot 1 µs ahead: arming the timerfd, the runtime's `epoll_wait` until the
//! kernel fires it, reading it).
//!
//! Results (2026-11-27 16:10 UTC, `cargo bench -p benches --bench harness_hot_path`; criterion's
//! estimate and its 95% interval; the machine ran about 1.8 times slower than at 13:40, when
//! `record_request` took 92.8 ns). Machine: AMD EPYC (KVM guest, 2 vCPUs shared with other work,
//! 1 MiB L2 per core, 32 MiB L3), 23 GiB RAM, Debian 12, Linux 6.18, rustc 1.95.0, criterion 0.8.2.
//!
//! | Benchmark                              | Time                          |
//! |----------------------------------------|-------------------------------|
//! | harness/pacing/intended               | 28.0 ns [26.9 ns, 29.0 ns]   |
//! | harness/pacing/timer_wait_1us         | 17.5 µs [16.7 µs, 18.3 µs]   |
//! | harness/recorder/hdr_saturating_record| 14.1 ns [13.8 ns, 14.5 ns]   |
//! | harness/recorder/record_request       | 171 ns [162 ns, 182 ns]      |
//!
//! Upstream figures and how to read these: `benches/README.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use harness::load::pacing::{PreciseTimer, Schedule};
use harness::load::recorder::{Recorder, Times, histogram};

fn recorder(c: &mut Criterion) {
    let mut group = c.benchmark_group("harness/recorder");
    let mut hist = histogram();
    let mut value = 0_u64;
    group.bench_function(BenchmarkId::from_parameter("hdr_saturating_record"), |b| {
        b.iter(|| {
            value = (value + 37) % 20_000;
            hist.saturating_record(black_box(value + 1));
        });
    });
    let t0 = Instant::now();
    let recorder = Recorder::new(t0, t0 + Duration::from_secs(3600));
    let ok = Ok(());
    let mut n = 0_u64;
    group.bench_function(BenchmarkId::from_parameter("record_request"), |b| {
        b.iter(|| {
            n += 1;
            let intended = t0 + Duration::from_micros(n % 1_000_000);
            let sent = intended + Duration::from_micros(17);
            let done = sent + Duration::from_micros(350 + n % 500);
            let times = Times {
                intended,
                free: intended,
                sent,
                done,
            };
            recorder.record(black_box("GET /api/articles/{slug}"), times, &ok);
        });
    });
    group.finish();
}

fn pacing(c: &mut Criterion) {
    let mut group = c.benchmark_group("harness/pacing");
    let start = Instant::now();
    let schedule = Schedule::new(start, 400.0, 16, 3);
    let mut k = 0_u64;
    group.bench_function(BenchmarkId::from_parameter("intended"), |b| {
        b.iter(|| {
            k += 1;
            black_box(schedule.intended(black_box(k)))
        });
    });
    // A user's wait for its slot, the slot 1 µs ahead, on a current-thread runtime as the
    // generator's (one CPU): timerfd_settime, epoll_wait until the hrtimer fires, read. The
    // 1 µs of waiting is included; the rest is what pacing adds to a request.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let timer = runtime.block_on(async { PreciseTimer::new().expect("a timerfd") });
    group.bench_function(BenchmarkId::from_parameter("timer_wait_1us"), |b| {
        b.iter(|| {
            runtime.block_on(async {
                let at = Instant::now() + Duration::from_micros(1);
                timer
                    .sleep_until(black_box(at))
                    .await
                    .expect("the timer fires");
            });
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = benches::short();
    targets = recorder, pacing
}
criterion_main!(benches);
