//! The delivery table: what reached the collector, next to what the target produced.

use crate::report::document::{Block, Section, Table, cell, para};
use crate::report::format;
use crate::results::Results;
use crate::stats::delivery::Delivery;

/// The delivery section.
pub fn section(results: &Results, delivery: &[Delivery]) -> Section {
    let ratio = |variant: &str| {
        results
            .summary
            .iter()
            .find(|s| s.variant == variant)
            .and_then(|s| s.sampling_ratio)
            .map_or_else(|| "–".to_string(), format::percent)
    };
    let rows: Vec<Vec<Vec<String>>> = delivery
        .iter()
        .map(|d| {
            vec![
                cell(d.variant.clone()),
                cell(ratio(&d.variant)),
                cell(format::count(d.spans_received)),
                cell(format!("{:.2}", d.spans_per_request)),
                cell(format::count(d.traces_complete)),
                cell(format!("{:.1}%", d.observed_sampling_ratio * 100.0)),
                cell(d.target.map_or_else(
                    || "–".to_string(),
                    |[p, e, f, x]| {
                        format!(
                            "{} / {} / {} / {}",
                            format::count(p),
                            format::count(e),
                            format::count(f),
                            format::count(x)
                        )
                    },
                )),
                cell(format::count(d.metric_points)),
                cell(format::count(d.log_records)),
                cell(format!(
                    "{} ({})",
                    format::count(d.export_requests),
                    format::bytes(d.bytes)
                )),
            ]
        })
        .collect();
    let blocks = if rows.is_empty() {
        vec![para("No valid run.")]
    } else {
        vec![
            Block::Table(Table {
                header: [
                    "Configuration",
                    "Sampling",
                    "Spans received",
                    "Spans / request",
                    "Traces complete",
                    "Observed sampling",
                    "Target: produced / exported / failed / dropped",
                    "Metric points",
                    "Log records",
                    "Exports (bytes)",
                ]
                .map(String::from)
                .to_vec(),
                numeric: vec![false, true, true, true, true, true, true, true, true, true],
                rows,
            }),
            para(
                "Medians over valid runs, counted over the whole run (warm-up included: export \
                 batches ignore window edges). Traces complete: traces in which a web span and a \
                 worker span share the trace id. Observed sampling: distinct traces received / \
                 requests sent.",
            ),
        ]
    };
    Section {
        title: "Telemetry delivery".into(),
        blocks,
    }
}
