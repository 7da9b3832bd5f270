//! otelbench: a load-testing and telemetry-overhead benchmark harness.
//!
//! The data flow, one module per stage:
//! `scenario` (parse + validate) -> `plan` (variants x repetitions, ordered) -> `runner` (sink,
//! target, `load`, sampler per run) -> `results` (results.json) -> `stats` (medians, intervals,
//! verdicts) -> `report` (report.md, report.html, charts, CSV). `machine` checks, before the plan
//! and as `otelbench doctor`, whether this machine can give valid latency. A scaled-out run's shards
//! (`run --shard`) meet again in `merge`, which joins the target-side readings of `sidecar`
//! (`otelbench sample`) and hands one `results` file to `stats` and `report`.

pub mod cli;
pub mod load;
pub mod logging;
pub mod machine;
pub mod merge;
pub mod plan;
pub mod procfs;
pub mod report;
pub mod results;
pub mod runner;
pub mod scenario;
pub mod sidecar;
pub mod sink;
pub mod stats;
