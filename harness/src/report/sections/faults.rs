//! The collector-faults section: per fault, what it did to the app against a healthy collector,
//! and a plain sentence of what that amounts to.

use crate::report::document::{Block, Inline, Section, cell, para, table, text};
use crate::report::format;
use crate::stats::faults::{FaultSummary, Finding};

fn change(ratio: Option<f64>) -> String {
    format::or_dash(ratio, format::change)
}

fn recovery(s: &FaultSummary) -> String {
    let Some(r) = &s.recovery else {
        return "–".into();
    };
    let (returns, recovered) = (r.returns, r.recovered);
    match (r.median_ms, r.max_ms) {
        (Some(m), Some(max)) => {
            format!("{recovered} of {returns} returns; median {m:.0} ms, max {max:.0} ms")
        }
        _ => format!("{recovered} of {returns} returns"),
    }
}

fn growth(s: &FaultSummary) -> Vec<String> {
    if s.rss_growth_mb.is_empty() {
        return cell("–");
    }
    s.rss_growth_mb
        .iter()
        .map(|(p, mb)| format!("{p} {mb:+.1} MB"))
        .collect()
}

fn spans(s: &FaultSummary) -> String {
    format::or_dash(s.spans, |[produced, dropped, failed]| {
        format!(
            "{} / {} / {}",
            format::count(produced),
            format::count(dropped),
            format::count(failed)
        )
    })
}

/// One finding as a sentence.
fn sentence(f: &Finding) -> String {
    match f {
        Finding::KeptServing => "kept serving: no request failed and p99 stayed below twice \
                                 the healthy collector's"
            .into(),
        Finding::RequestErrors(rate) => format!(
            "requests failed: {:.2}% of them (median over runs)",
            rate * 100.0
        ),
        Finding::FellBehind(reason) => {
            format!("the app could not keep up with the arrival rate ({reason})")
        }
        Finding::Blocked(r) => {
            format!("requests waited on telemetry: p99 was {r:.1} times the healthy collector's")
        }
        Finding::Grew {
            process,
            mb,
            healthy_mb,
        } => format!(
            "{process} memory grew by {mb:.1} MB over the measured window (healthy collector: \
             {healthy_mb:+.1} MB): telemetry queued up in the process"
        ),
        Finding::TelemetryLost(share) => format!(
            "{:.1}% of the spans produced were lost (dropped by the queue or failed to export)",
            share * 100.0
        ),
        Finding::NoRecovery { returns, recovered } => format!(
            "delivery did not resume after {} of {returns} returns of the collector",
            returns - recovered
        ),
    }
}

/// The faults table's columns: heading and whether it is numeric.
const COLUMNS: [(&str, bool); 11] = [
    ("Configuration", false),
    ("Fault", false),
    ("Runs", true),
    ("p99 (vs healthy)", true),
    ("CPU per request (vs healthy)", true),
    ("Failed requests", true),
    ("RSS growth in the window", true),
    ("Spans produced / dropped / failed", true),
    ("Failed span exports", true),
    ("Collector side", true),
    ("Delivery resumed after a return", false),
];

/// What the faults table's columns mean.
const NOTE: &str = "Medians over every run that measured requests, including runs a fault made \
                    invalid (under a fault, falling behind is the finding). Changes are against \
                    the healthy variant named under each fault: the one with the same settings \
                    (the baseline when none matches). RSS growth: last minus first 100 ms \
                    sample of the measured window. Spans: the target's own accounting over the \
                    whole run. Collector side: exports the fault refused (error, reject) and \
                    connections a blackhole swallowed. Delivery resumed: time from the \
                    collector's return until it accepted an export again.";

/// The section, when some variant plays a fault.
pub fn section(faults: &[FaultSummary]) -> Option<Section> {
    if faults.iter().all(|f| f.fault.is_none()) {
        return None;
    }
    let findings = faults
        .iter()
        .filter(|s| s.fault.is_some())
        .map(findings)
        .collect();
    Some(Section {
        title: "Collector faults".into(),
        blocks: vec![
            Block::List(findings),
            table(&COLUMNS, faults.iter().map(row).collect()),
            para(NOTE),
        ],
    })
}

/// A fault's findings as one list item: "variant (fault): sentence; sentence."
fn findings(s: &FaultSummary) -> Vec<Inline> {
    let sentences: Vec<String> = s.findings.iter().map(sentence).collect();
    vec![
        Inline::Strong(format!(
            "{} ({})",
            s.variant,
            s.fault.as_deref().unwrap_or("healthy")
        )),
        text(format!(": {}.", sentences.join("; "))),
    ]
}

/// The faults table's row of one variant.
fn row(s: &FaultSummary) -> Vec<Vec<String>> {
    vec![
        cell(s.variant.clone()),
        match (&s.fault, &s.reference) {
            (Some(f), Some(r)) => vec![f.clone(), format!("vs {r}")],
            (Some(f), None) => cell(f.clone()),
            (None, _) => cell("healthy"),
        },
        cell(if s.invalid > 0 {
            format!("{} ({} invalid)", s.runs, s.invalid)
        } else {
            s.runs.to_string()
        }),
        vec![format::value("p99", s.p99_us), change(s.p99_ratio)],
        vec![format!("{:.1} µs", s.cpu_us), change(s.cpu_ratio)],
        cell(format!("{:.2}%", s.error_rate * 100.0)),
        growth(s),
        cell(spans(s)),
        cell(format::or_dash(s.failed_exports, format::count)),
        cell(format!(
            "{} refused, {} blackholed",
            format::count(s.exports_refused),
            format::count(s.connections_blackholed)
        )),
        cell(recovery(s)),
    ]
}
