//! Cost of the email-masking step that every exported span attribute and log field passes
//! through (`target_app::telemetry::mask`). The common case, text without an `@`, must cost one
//! byte scan and no allocation; a finished span is scanned field by field
//! (`mask_span`, run by the app's `MaskingSpanProcessor` on every sampled span); a log body is
//! masked as the OTLP log bridge sets it (`MaskingLogRecord::set_body`).
//!
//! Results (2026-11-27 13:40 UTC, one run of `cargo bench -p benches`; criterion's estimate and its 95%
//! interval). Machine: AMD EPYC (KVM guest, 2 vCPUs shared with other work, 1 MiB L2 per core, 32
//! MiB L3), 23 GiB RAM, Debian 12, Linux 6.18, rustc 1.95.0, criterion 0.8.2.
//!
//! | Benchmark                         | Time                          |
//! |-----------------------------------|-------------------------------|
//! | mask_emails/1 KiB, no email      | 147 ns [144 ns, 151 ns]      |
//! | mask_emails/at sign, no email    | 112 ns [107 ns, 120 ns]      |
//! | mask_emails/one email            | 129 ns [123 ns, 137 ns]      |
//! | mask_emails/route, no email      | 28.4 ns [27.2 ns, 30 ns]     |
//! | mask_emails/sql, no email        | 29.2 ns [27.8 ns, 31.3 ns]   |
//! | mask_log_body/no email           | 59.6 ns [55.7 ns, 63.8 ns]   |
//! | mask_log_body/one email          | 219 ns [206 ns, 233 ns]      |
//! | mask_span/server span + one email| 269 ns [262 ns, 277 ns]      |
//! | mask_span/server span, no email  | 191 ns [182 ns, 200 ns]      |
//!
//! The two `mask_span` rows were measured under the ids `db span, no email` and
//! `db span + one email`, which mislabeled the same server span; renamed after the run.
//!
//! Upstream figures and how to read these: `benches/README.md`.

use std::hint::black_box;

use benches::fixtures::app_spans;
use benches::pipeline::LogPipeline;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
use target_app::telemetry::mask::{mask_emails, mask_span};

fn masking(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask_emails");
    let inputs = [
        (
            "route, no email",
            "/api/articles/{slug}/favorite".to_string(),
        ),
        (
            "sql, no email",
            "SELECT id, email, username, password_hash FROM users WHERE email = $1".to_string(),
        ),
        (
            "one email",
            "registered alice.smith@example.com".to_string(),
        ),
        (
            "at sign, no email",
            "user@localhost logged in from @home".to_string(),
        ),
        ("1 KiB, no email", "lorem ipsum dolor sit amet ".repeat(38)),
    ];
    for (name, text) in &inputs {
        group.bench_with_input(BenchmarkId::from_parameter(name), text, |b, t| {
            b.iter(|| mask_emails(black_box(t)));
        });
    }
    group.finish();
}

/// `mask_span` on the app's server span (ten attributes, nothing to mask) and on the same span
/// with one address in an attribute.
fn spans(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask_span");
    let server = app_spans(2)
        .into_iter()
        .find(|s| s.name.starts_with("GET "))
        .expect("a server span");
    let mut with_email = server.clone();
    with_email
        .attributes
        .push(KeyValue::new("user.email", "alice.smith@example.com"));
    for (id, span) in [
        ("server span, no email", server),
        ("server span + one email", with_email),
    ] {
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter_batched_ref(|| span.clone(), mask_span, BatchSize::SmallInput);
        });
    }
    group.finish();
}

/// A log body set through the masking logger (the record is created outside the measurement).
fn log_bodies(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask_log_body");
    let logs = LogPipeline::default();
    let logger = logs.masking().logger("target-app");
    for (id, body) in [
        ("no email", "article created"),
        ("one email", "login succeeded for alice.smith@example.com"),
    ] {
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter_batched_ref(
                || logger.create_log_record(),
                |record| record.set_body(AnyValue::from(black_box(body).to_string())),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
    let _ = logs.finish();
}

criterion_group! {
    name = benches;
    config = benches::short();
    targets = masking, spans, log_bodies
}
criterion_main!(benches);
