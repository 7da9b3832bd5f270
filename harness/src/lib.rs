//! otelbench: a load-testing and telemetry-overhead benchmark harness.
//!
//! This crate so far holds the embedded OTLP sink (`otelbench sink`); the run pipeline
//! (scenario -> plan -> runs -> results -> stats -> reports) builds on it.

pub mod cli;
pub mod sink;
