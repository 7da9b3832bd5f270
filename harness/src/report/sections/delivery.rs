//! The delivery table: what reached the collector, next to what the target produced.

use crate::report::document::{Block, Section, cell, para, table};
use crate::report::format::{self, or_dash};
use crate::results::Results;
use crate::stats::delivery::{AccountingCheck, Delivery};

/// The delivery table's columns: heading and whether it is numeric.
const COLUMNS: [(&str, bool); 13] = [
    ("Configuration", false),
    ("Sampling", true),
    ("Spans received", true),
    ("Spans / request", true),
    ("Traces complete", true),
    ("Observed sampling", true),
    ("Delivered", true),
    ("Accounting", true),
    ("Failed span exports", true),
    ("Target: produced / exported / failed / dropped", true),
    ("Metric points", true),
    ("Log records", true),
    ("Exports (bytes)", true),
];

/// What the delivery table's columns mean.
const NOTE: &str = "Medians over valid runs, counted over the whole run (warm-up included: \
                    export batches ignore window edges). Traces complete: traces in which a \
                    web span and a worker span share the trace id (processes told apart by the \
                    otelbench.role resource attribute the harness adds to \
                    OTEL_RESOURCE_ATTRIBUTES, so one service.name for both still joins). \
                    Observed sampling: traces holding a server span of the web / requests sent \
                    (a worker's own background traces do not count). Delivered: spans received \
                    / spans the target produced. Accounting, checked in every run (valid or \
                    not): spans produced = received + dropped + failed, within 1% (at least 10 \
                    spans); an export whose answer was lost after the collector counted it is \
                    both received and failed. Failed span exports: export calls that failed \
                    after the exporter's own retries. A dash: not counted (an external \
                    collector, or rotel's blackhole exporter), or not reported by the target.";

/// The delivery section.
pub fn section(results: &Results, delivery: &[Delivery]) -> Section {
    let mut blocks = if delivery.is_empty() {
        vec![para("No valid run.")]
    } else {
        let rows = delivery.iter().map(|d| row(results, d)).collect();
        let mut blocks = vec![table(&COLUMNS, rows), para(NOTE)];
        blocks.extend(jobs(delivery));
        blocks
    };
    blocks.extend(collectors(delivery));
    Section {
        title: "Telemetry delivery".into(),
        blocks,
    }
}

/// The sampling ratio `variant` was configured with.
fn sampling(results: &Results, variant: &str) -> String {
    or_dash(
        results
            .summary
            .iter()
            .find(|s| s.variant == variant)
            .and_then(|s| s.sampling_ratio),
        format::percent,
    )
}

/// The delivery table's row of one variant.
fn row(results: &Results, d: &Delivery) -> Vec<Vec<String>> {
    vec![
        cell(d.variant.clone()),
        cell(sampling(results, &d.variant)),
        cell(format::count(d.spans_received)),
        cell(format!("{:.2}", d.spans_per_request)),
        cell(format::count(d.traces_complete)),
        cell(format!("{:.1}%", d.observed_sampling_ratio * 100.0)),
        cell(or_dash(d.delivered, |x| format!("{:.1}%", x * 100.0))),
        cell(or_dash(d.accounting, accounting)),
        cell(or_dash(d.failed_exports, format::count)),
        cell(or_dash(d.target, target)),
        cell(format::count(d.metric_points)),
        cell(format::count(d.log_records)),
        cell(format!(
            "{} ({})",
            format::count(d.export_requests),
            format::bytes(d.bytes)
        )),
    ]
}

/// "✓ balanced (3 runs, largest gap 0)".
fn accounting(a: AccountingCheck) -> String {
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
}

/// The target's own accounting: produced / exported / failed / dropped.
fn target([produced, exported, failed, dropped]: [f64; 4]) -> String {
    format!(
        "{} / {} / {} / {}",
        format::count(produced),
        format::count(exported),
        format::count(failed),
        format::count(dropped)
    )
}

/// The collector process's own cost, for variants whose collector the harness ran.
fn collectors(delivery: &[Delivery]) -> Vec<Block> {
    let rows: Vec<Vec<Vec<String>>> = delivery
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
    if rows.is_empty() {
        return Vec::new();
    }
    vec![
        table(
            &[
                ("Configuration", false),
                ("Collector", false),
                ("Collector CPU per request", true),
                ("Collector RSS", true),
            ],
            rows,
        ),
        para(
            "The collector process ran beside the target (on the target's CPUs, like an agent) \
             and was measured like it; its CPU is not part of the target's CPU per request.",
        ),
    ]
}

/// Background jobs: the target's own count where it reports one, and what the sampled traces
/// show (producer and consumer spans) for any target.
fn jobs(delivery: &[Delivery]) -> Vec<Block> {
    let rows = delivery
        .iter()
        .map(|d| {
            vec![
                cell(d.variant.clone()),
                cell(or_dash(d.jobs, |[e, c]| {
                    format!("{} / {}", format::count(e), format::count(c))
                })),
                cell(format!(
                    "{} / {}",
                    format::count(d.job_spans[0]),
                    format::count(d.job_spans[1])
                )),
                cell(format::count(d.traces_complete)),
            ]
        })
        .collect();
    let unreported = delivery.iter().any(|d| d.jobs.is_none());
    let mut note = "Medians over valid runs, whole run. Producer / consumer spans: the jobs \
                    enqueued and run that the sampled traces show (all of them at 100% sampling)."
        .to_string();
    if unreported {
        note.push_str(
            " A dash: the target does not report its jobs (only the built-in target-app \
             does), so the spans are what is known of them.",
        );
    }
    vec![
        table(
            &[
                ("Configuration", false),
                ("Jobs enqueued / completed (target's count)", true),
                ("Producer / consumer spans", true),
                ("Traces complete", true),
            ],
            rows,
        ),
        para(&note),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::document::Block;
    use crate::results::fixture;

    #[test]
    fn jobs_a_target_does_not_report_are_a_dash_with_the_reason() {
        let mut results = fixture::results();
        for run in &mut results.runs {
            run.jobs = None;
        }
        let delivery = crate::stats::delivery::delivery(&results);
        let blocks = jobs(&delivery);
        let Block::Table(table) = &blocks[0] else {
            panic!("a table first")
        };
        for row in &table.rows {
            assert_eq!(row[1], cell("–"), "{row:?}");
        }
        let text = format!("{:?}", blocks[1]);
        assert!(text.contains("does not report its jobs"), "{text}");
        // With the target's own count, no dash and no excuse.
        let reported = jobs(&crate::stats::delivery::delivery(&fixture::results()));
        let Block::Table(table) = &reported[0] else {
            panic!("a table first")
        };
        assert!(table.rows.iter().all(|r| r[1] != cell("–")));
        assert!(!format!("{:?}", reported[1]).contains("does not report"));
    }
}
