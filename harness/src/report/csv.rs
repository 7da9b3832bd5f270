//! results.csv: one row per run, every figure in its own column, for spreadsheets.

use std::collections::BTreeSet;

use crate::results::{Results, RunResult};

/// Quotes a field when it needs it (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

type Column = (&'static str, fn(&RunResult) -> String);

const COLUMNS: &[Column] = &[
    ("variant", |r| r.variant.clone()),
    ("repetition", |r| r.repetition.to_string()),
    ("attempt", |r| r.attempt.to_string()),
    ("replaced_by", |r| {
        r.replaced_by.map(|a| a.to_string()).unwrap_or_default()
    }),
    ("valid", |r| r.valid.to_string()),
    ("invalid_reason", |r| {
        r.invalid_reason.clone().unwrap_or_default()
    }),
    ("model", |r| r.load.model.clone()),
    ("target_rps", |r| {
        r.load.target_rps.map(|v| v.to_string()).unwrap_or_default()
    }),
    ("achieved_rps", |r| format!("{:.3}", r.load.achieved_rps)),
    ("offered_rps", |r| format!("{:.3}", r.load.offered_rps)),
    ("capacity_rps", |r| {
        r.capacity
            .as_ref()
            .and_then(|c| c.capacity_rps)
            .map(|v| format!("{v:.1}"))
            .unwrap_or_default()
    }),
    ("duration_s", |r| r.load.duration_s.to_string()),
    ("requests", |r| r.load.requests.to_string()),
    ("errors", |r| r.load.errors.to_string()),
    ("latency_p50_us", |r| r.latency_us.p50.to_string()),
    ("latency_p90_us", |r| r.latency_us.p90.to_string()),
    ("latency_p99_us", |r| r.latency_us.p99.to_string()),
    ("latency_p999_us", |r| r.latency_us.p999.to_string()),
    ("latency_max_us", |r| r.latency_us.max.to_string()),
    ("latency_mean_us", |r| format!("{:.1}", r.latency_us.mean)),
    ("lag_p99_us", |r| r.load.lag_us.p99.to_string()),
    ("cpu_us_per_request", |r| {
        format!("{:.2}", r.cpu.target_us_per_request)
    }),
    ("cpu_after_window_us_per_request", |r| {
        r.cpu
            .after_window_us_per_request
            .map(|us| format!("{us:.2}"))
            .unwrap_or_default()
    }),
    ("target_cores", |r| format!("{:.4}", r.cpu.target_cores)),
    ("generator_cores", |r| {
        format!("{:.4}", r.cpu.generator_cores)
    }),
    ("generator_us_per_request", |r| {
        format!("{:.2}", r.cpu.generator_us_per_request)
    }),
    ("sink_us_per_request", |r| {
        format!("{:.2}", r.cpu.sink_us_per_request)
    }),
    ("spans_received", |r| r.telemetry.spans_received.to_string()),
    ("metric_points_received", |r| {
        r.telemetry.metric_points_received.to_string()
    }),
    ("log_records_received", |r| {
        r.telemetry.log_records_received.to_string()
    }),
    ("export_requests", |r| {
        r.telemetry.export_requests.to_string()
    }),
    ("bytes_received", |r| r.telemetry.bytes_received.to_string()),
    ("traces_complete", |r| {
        r.telemetry.traces_complete.to_string()
    }),
    ("observed_sampling_ratio", |r| {
        format!("{:.4}", r.telemetry.observed_sampling_ratio)
    }),
    ("target_spans_produced", |r| accounting(r, |s| s.produced)),
    ("target_spans_exported", |r| accounting(r, |s| s.exported)),
    ("target_spans_failed", |r| accounting(r, |s| s.failed)),
    ("target_spans_dropped", |r| accounting(r, |s| s.dropped)),
    ("request_traces", |r| r.telemetry.request_traces.to_string()),
    ("producer_spans", |r| r.telemetry.producer_spans.to_string()),
    ("consumer_spans", |r| r.telemetry.consumer_spans.to_string()),
    ("jobs_enqueued", |r| jobs(r, |j| j.enqueued)),
    ("jobs_completed", |r| jobs(r, |j| j.completed)),
    ("job_latency_p50_us", |r| jobs(r, |j| j.latency_us.p50)),
    ("job_latency_p99_us", |r| jobs(r, |j| j.latency_us.p99)),
];

/// A job figure, empty when the target does not report jobs.
fn jobs(r: &RunResult, f: fn(&crate::results::Jobs) -> u64) -> String {
    r.jobs
        .as_ref()
        .map(|j| f(j).to_string())
        .unwrap_or_default()
}

fn accounting(r: &RunResult, f: fn(&crate::results::SpanAccounting) -> u64) -> String {
    r.telemetry
        .target_spans
        .as_ref()
        .map(|s| f(s).to_string())
        .unwrap_or_default()
}

/// Renders every run; RSS columns per process (`rss_mean_mb_<process>`, `rss_peak_mb_<process>`,
/// `rss_growth_mb_<process>`) for every process any run has.
pub fn render(results: &Results) -> String {
    let processes: BTreeSet<&String> = results
        .runs
        .iter()
        .flat_map(|r| r.memory_mb.keys())
        .collect();
    let mut header: Vec<String> = vec!["scenario".into()];
    header.extend(COLUMNS.iter().map(|(name, _)| (*name).to_string()));
    for p in &processes {
        for kind in ["mean", "peak", "growth"] {
            header.push(format!("rss_{kind}_mb_{p}"));
        }
    }
    let mut out = header
        .iter()
        .map(|h| field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in &results.runs {
        let mut row = vec![field(&results.scenario.name)];
        row.extend(COLUMNS.iter().map(|(_, get)| field(&get(r))));
        for p in &processes {
            let m = r.memory_mb.get(*p);
            for v in [m.map(|m| m.mean), m.map(|m| m.peak), m.map(|m| m.growth)] {
                row.push(v.map(|v| format!("{v:.2}")).unwrap_or_default());
            }
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
