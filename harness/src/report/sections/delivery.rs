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
                cell(
                    d.delivered
                        .map_or_else(|| "–".to_string(), |x| format!("{:.1}%", x * 100.0)),
                ),
                cell(d.accounting.map_or_else(
                    || "–".to_string(),
                    |a| {
                        format!(
                            "{} ({} run{}, largest gap {})",
                            if a.consistent {
                                "✓ balanced"
                            } else {
                                "✗ OFF"
                            },
                            a.runs,
                            if a.runs == 1 { "" } else { "s" },
                            format::count(a.worst_gap)
                        )
                    },
                )),
                cell(
                    d.failed_exports
                        .map_or_else(|| "–".to_string(), format::count),
                ),
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
                    "Delivered",
                    "Accounting",
                    "Failed span exports",
                    "Target: produced / exported / failed / dropped",
                    "Metric points",
                    "Log records",
                    "Exports (bytes)",
                ]
                .map(String::from)
                .to_vec(),
                numeric: vec![
                    false, true, true, true, true, true, true, true, true, true, true, true, true,
                ],
                rows,
            }),
            para(
                "Medians over valid runs, counted over the whole run (warm-up included: export \
                 batches ignore window edges). Traces complete: traces in which a web span and a \
                 worker span share the trace id. Observed sampling: distinct traces received / \
                 requests sent. Delivered: spans received / spans the target produced. \
                 Accounting, checked in every run (valid or not): spans produced = received + \
                 dropped + failed, within 1% (at least 10 spans); an export whose answer was \
                 lost after the collector counted it is both received and failed. Failed span exports: export calls \
                 that failed after the exporter's own retries. A dash: not counted (an \
                 external collector, or rotel's blackhole exporter), or not reported by the \
                 target.",
            ),
        ]
    };
    let mut blocks = blocks;
    let collectors: Vec<Vec<Vec<String>>> = delivery
        .iter()
        .filter_map(|d| {
            d.collector.as_ref().map(|(kind, cpu, rss)| {
                vec![
                    cell(d.variant.clone()),
                    cell(kind.clone()),
                    cell(format!("{cpu:.1} µs")),
                    cell(format!("{rss:.1} MB")),
                ]
            })
        })
        .collect();
    if !collectors.is_empty() {
        blocks.push(Block::Table(Table {
            header: [
                "Configuration",
                "Collector",
                "Collector CPU per request",
                "Collector RSS",
            ]
            .map(String::from)
            .to_vec(),
            numeric: vec![false, false, true, true],
            rows: collectors,
        }));
        blocks.push(para(
            "The collector process ran beside the target (on the target's CPUs, like an agent) \
             and was measured like it; its CPU is not part of the target's CPU per request.",
        ));
    }
    Section {
        title: "Telemetry delivery".into(),
        blocks,
    }
}
