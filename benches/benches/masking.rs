//! Cost of the email-masking step that every exported span attribute and log field passes
//! through (`target_app::telemetry::mask::mask_emails`). The common case, text without an `@`,
//! must cost one byte scan and no allocation.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use target_app::telemetry::mask::mask_emails;

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

criterion_group!(benches, masking);
criterion_main!(benches);
