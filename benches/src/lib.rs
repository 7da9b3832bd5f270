//! Criterion microbenchmarks of the telemetry pipeline live in `benches/` (run them with
//! `cargo bench -p benches`); this library is empty.
