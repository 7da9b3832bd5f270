//! The seed-style overhead table: each configuration's p50, p99, throughput, memory and CPU per
//! request, as value and change against the baseline with its interval and verdict.

use crate::report::document::{Block, Inline, Section, Table, cell, para, table, text};
use crate::report::format;
use crate::results::{Results, VariantSummary};
use crate::stats::delivery::Delivery;
use crate::stats::metrics;

/// Below this share of spans delivered, the overhead table flags the configuration.
const DELIVERY_WARNING: f64 = 0.99;

/// The delivery cell of one configuration: spans received / produced, flagged when telemetry
/// was lost, so that a setting which drops telemetry cannot look cheap.
fn delivered(delivery: &[Delivery], variant: &str) -> Vec<String> {
    match delivery
        .iter()
        .find(|d| d.variant == variant)
        .and_then(|d| d.delivered)
    {
        Some(x) if x < DELIVERY_WARNING => {
            vec![format!("{:.1}%", x * 100.0), "⚠ telemetry lost".to_string()]
        }
        Some(x) => cell(format!("{:.1}%", x * 100.0)),
        None => cell("–"),
    }
}

/// The capacity column, first when the scenario searched for capacity.
const CAPACITY: (&str, &str) = ("capacity", "Throughput at SLO");

/// (metric, column heading) of the main table.
const COLUMNS: [(&str, &str); 6] = [
    ("p50", "p50"),
    ("p99", "p99"),
    ("throughput", "Throughput"),
    ("rss_mean", "Memory (RSS, all processes)"),
    ("cpu_per_request", "CPU per request"),
    ("cpu_adjusted", "CPU per request, speed-adjusted"),
];

/// The overhead section, with each configuration's `delivery` beside its cost.
pub fn section(results: &Results, delivery: &[Delivery]) -> Section {
    let columns = metric_columns(results);
    let mut section = Section {
        title: format!("Overhead against `{}`", results.scenario.baseline),
        blocks: vec![
            main_table(results, delivery, &columns),
            explanation(results, &columns),
            speed_note(results),
            Block::Details {
                summary: "Every metric".into(),
                blocks: vec![all_metrics(results)],
            },
        ],
    };
    if let Some(note) = capacity_note(results) {
        section.blocks.insert(1, note);
    }
    section
}

/// The main table's metric columns: capacity first when the scenario searched for it.
fn metric_columns(results: &Results) -> Vec<(&'static str, &'static str)> {
    results
        .scenario
        .capacity
        .map(|_| CAPACITY)
        .into_iter()
        .chain(COLUMNS)
        .collect()
}

/// One row per configuration: its metrics, its delivery and its valid runs.
fn main_table(results: &Results, delivery: &[Delivery], columns: &[(&str, &str)]) -> Block {
    let mut header = vec!["Configuration".to_string()];
    header.extend(columns.iter().map(|(_, h)| (*h).to_string()));
    header.push("Spans delivered".into());
    header.push("Valid runs".into());
    let mut numeric = vec![false];
    numeric.extend(columns.iter().map(|_| true));
    numeric.push(true);
    numeric.push(true);
    let rows = results
        .summary
        .iter()
        .map(|s| row(s, delivery, columns))
        .collect();
    Block::Table(Table {
        header,
        numeric,
        rows,
    })
}

/// The main table's row of one configuration.
fn row(s: &VariantSummary, delivery: &[Delivery], columns: &[(&str, &str)]) -> Vec<Vec<String>> {
    let mut row = vec![cell(s.variant.clone())];
    for (metric, _) in columns {
        row.push(
            s.metrics
                .get(*metric)
                .map_or_else(|| cell("–"), |m| format::cell(metric, m)),
        );
    }
    row.push(delivered(delivery, &s.variant));
    row.push(cell(match (s.invalid_runs, s.latency_only_runs) {
        (0, _) => s.valid_runs.to_string(),
        (i, 0) => format!("{} ({i} invalid)", s.valid_runs),
        (i, l) => format!("{} ({i} invalid; CPU and memory of {l} kept)", s.valid_runs),
    }));
    row
}

/// How to read the main table, with the thresholds of its `columns`.
fn explanation(results: &Results, columns: &[(&str, &str)]) -> Block {
    let thresholds: Vec<String> = columns
        .iter()
        .map(|(m, _)| {
            format!(
                "{m} {}",
                format::percent(crate::stats::threshold(m, &results.scenario.thresholds))
            )
        })
        .collect();
    Block::Paragraph(vec![
        text(
            "Each cell: the median over valid runs; the change against the baseline \
             with its confidence interval (distribution-free: Mann-Whitney; 95%, or \
             with fewer than 4 runs against 4 the most so few runs allow, shown beside \
             it: 90% at 3 against 3); the verdict. Speed-adjusted CPU carries \
             each run's CPU per request to one machine speed, gauged by the load \
             generator's CPU per request (the same work in every variant): a machine \
             that runs slower during one run slows both. ",
        ),
        Inline::Strong("✗ worse".into()),
        text(" / "),
        Inline::Strong("✓ better".into()),
        text(
            ": the whole interval lies beyond the decision threshold; ≈ same: it lies \
             within; ? inconclusive: it straddles the threshold (more repetitions would \
             decide). Thresholds: ",
        ),
        text(thresholds.join(", ")),
        text(
            ". Spans delivered: spans the collector received / spans the target \
             produced (a dash where either is not known); below 99% the \
             configuration lost telemetry, and its cost is not comparable.",
        ),
    ])
}

fn capacity_note(results: &Results) -> Option<Block> {
    results.scenario.capacity.map(|_| {
        para(
            "Capacity search: each run's latency, throughput, CPU and memory are those of its \
             capacity step, so each configuration is shown at its own capacity, not at one \
             common rate.",
        )
    })
}

fn speed_note(results: &Results) -> Block {
    match &results.speed {
        Some(s) => para(format!(
            "Speed adjustment: ln(target CPU) = level of the variant + {:.2} x ln(generator CPU), \
             fitted within variants over {} runs; every run is carried to a generator CPU of \
             {:.1} µs per request.",
            s.beta, s.runs, s.reference_generator_us
        )),
        None => para(
            "No speed adjustment: too few runs per variant (or no generator CPU readings) to fit \
             how the target's CPU follows the machine's speed.",
        ),
    }
}

fn all_metrics(results: &Results) -> Block {
    let mut rows = Vec::new();
    for s in &results.summary {
        let mut names: Vec<&String> = s.metrics.keys().collect();
        names.sort_by_key(|n| metrics::order(n));
        for name in names {
            let m = &s.metrics[name];
            let label = metrics::lookup(name).map_or(name.as_str(), |d| d.label);
            let label = match name.split_once('.') {
                Some((_, process)) => format!("{label} ({process})"),
                None => label.to_string(),
            };
            rows.push(vec![
                cell(s.variant.clone()),
                cell(label),
                cell(format::value(name, m.median)),
                cell(
                    m.ratio
                        .filter(|_| s.variant != s.baseline)
                        .map_or_else(|| "–".to_string(), format::change),
                ),
                cell(format::ci(m).unwrap_or_else(|| "–".into())),
                cell(m.note.clone().map_or_else(
                    || m.verdict.label().to_string(),
                    |n| format!("{}: {n}", m.verdict.label()),
                )),
            ]);
        }
    }
    if rows.is_empty() {
        return para("No valid run to summarise.");
    }
    table(
        &[
            ("Configuration", false),
            ("Metric", false),
            ("Median", true),
            ("Change", true),
            ("Interval", true),
            ("Verdict", false),
        ],
        rows,
    )
}
