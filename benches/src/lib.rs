//! Shared set-up of the microbenchmarks in `benches/benches/` (criterion, `cargo bench -p
//! benches`) and of the instruction-count benchmark (gungraun, `benches/benches/instructions.rs`).
//!
//! Every pipeline here is the target-app's own: its sampler from `OTEL_TRACES_SAMPLER`, its
//! counting and masking span processors, its masking log bridge and its instruments, built through
//! `target_app::telemetry`. Only the exporters differ: they discard everything, so a benchmark
//! measures the pipeline inside the process and not a network or a collector.

pub mod fixtures;
pub mod pipeline;

use std::time::Duration;

use criterion::Criterion;

/// Criterion settings short enough for a 2-core machine shared with other work: the whole
/// `cargo bench -p benches` stays within a few minutes. No plots: criterion's plotters backend
/// panics on a machine without fonts, and the figures are in the terminal and in
/// `target/criterion/**/estimates.json`.
pub fn short() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
        .without_plots()
        .configure_from_args()
}
