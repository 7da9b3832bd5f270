//! Per-run tables: the invalid runs with their reasons, and every run's raw figures.

use crate::report::document::{Block, Section, cell, table};
use crate::report::format;
use crate::results::Results;

/// Invalid runs and why, when there are any.
pub fn invalid(results: &Results) -> Option<Section> {
    let rows: Vec<Vec<Vec<String>>> = results
        .runs
        .iter()
        .filter(|r| !r.valid)
        .map(|r| {
            vec![
                cell(r.variant.clone()),
                cell(r.repetition.to_string()),
                cell(r.attempt.to_string()),
                cell(r.invalid_reason.clone().unwrap_or_default()),
                cell(
                    r.replaced_by
                        .map_or_else(|| "kept".to_string(), |a| format!("by attempt {a}")),
                ),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| Section {
        title: "Invalid runs".into(),
        blocks: vec![
            Block::Paragraph(vec![crate::report::document::text(
                "A run invalid only for the generator's or the machine's sake (its lag or saturation) is run again in its place; the attempt it replaced stays listed here and out of the statistics. A target's own failure is a result and is not run again.",
            )]),
            table(&[("Configuration", false), ("Repetition", true), ("Attempt", true), ("Reason", false), ("Replaced", false)], rows),
        ],
    })
}

/// Every run, in run order.
pub fn all(results: &Results) -> Section {
    let rows = results
        .runs
        .iter()
        .map(|r| {
            let rss: f64 = r.memory_mb.values().map(|m| m.mean).sum();
            vec![
                cell(r.variant.clone()),
                cell(if r.attempt > 1 {
                    format!("{} (attempt {})", r.repetition, r.attempt)
                } else {
                    r.repetition.to_string()
                }),
                cell(match (r.replaced_by, r.valid, r.latency_only) {
                    (Some(_), ..) => "replaced",
                    (None, true, _) => "yes",
                    (None, false, true) => "CPU, memory",
                    (None, false, false) => "no",
                }),
                cell(format!("{:.1}", r.load.achieved_rps)),
                cell(format::value("p50", r.latency_us.p50 as f64)),
                cell(format::value("p99", r.latency_us.p99 as f64)),
                cell(match r.cpu.after_window_us_per_request {
                    Some(after) => {
                        format!("{:.1} µs ({after:+.1} after)", r.cpu.target_us_per_request)
                    }
                    None => format!("{:.1} µs", r.cpu.target_us_per_request),
                }),
                cell(format!("{rss:.1} MB")),
                cell(format::count(r.telemetry.spans_received as f64)),
                cell(format::value("p99", r.load.lag_us.p99 as f64)),
                cell(format!("{:.2}", r.cpu.generator_cores)),
            ]
        })
        .collect();
    Section {
        title: "Runs".into(),
        blocks: vec![Block::Details {
            summary: format!("All {} runs in the order they ran", results.runs.len()),
            blocks: vec![table(
                &[
                    ("Configuration", false),
                    ("Rep.", true),
                    ("Valid", false),
                    ("Achieved req/s", true),
                    ("p50", true),
                    ("p99", true),
                    ("CPU per request", true),
                    ("RSS", true),
                    ("Spans", true),
                    ("Send lag p99", true),
                    ("Generator cores", true),
                ],
                rows,
            )],
        }],
    }
}
