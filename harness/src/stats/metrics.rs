//! The metrics compared between variants: their names, units, which direction is worse, default
//! decision thresholds, and how each is read off a run.

use std::collections::BTreeMap;

use crate::results::RunResult;

/// Which way a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    /// Higher is worse (latency, CPU, memory).
    Higher,
    /// Lower is worse (throughput, telemetry delivered).
    Lower,
}

/// A metric family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// Name in results.json, budgets and thresholds.
    pub name: &'static str,
    /// Label in reports.
    pub label: &'static str,
    /// Unit.
    pub unit: &'static str,
    /// Direction.
    pub worse: Worse,
    /// Default decision threshold, as a fraction.
    pub threshold: f64,
}

/// Every metric family, in report order. `rss_mean` and `rss_peak` also exist per process, as
/// `rss_mean.<process>` and `rss_peak.<process>`.
pub const METRICS: &[MetricDef] = &[
    def(
        "cpu_per_request",
        "CPU per request",
        "µs",
        Worse::Higher,
        0.05,
    ),
    def(
        "cpu_adjusted",
        "CPU per request, speed-adjusted",
        "µs",
        Worse::Higher,
        0.05,
    ),
    def(
        "cpu_with_after_window",
        "CPU per request, with the work after the window",
        "µs",
        Worse::Higher,
        0.05,
    ),
    def("p50", "p50 latency", "µs", Worse::Higher, 0.05),
    def("p90", "p90 latency", "µs", Worse::Higher, 0.05),
    def("p99", "p99 latency", "µs", Worse::Higher, 0.10),
    def("p999", "p99.9 latency", "µs", Worse::Higher, 0.20),
    def("throughput", "Throughput", "req/s", Worse::Lower, 0.02),
    def(
        "capacity",
        "Throughput at SLO (capacity)",
        "req/s",
        Worse::Lower,
        0.05,
    ),
    def("rss_mean", "RSS mean", "MB", Worse::Higher, 0.05),
    def("rss_peak", "RSS peak", "MB", Worse::Higher, 0.05),
    def(
        "spans_per_request",
        "Spans received per request",
        "spans",
        Worse::Lower,
        0.05,
    ),
];

const fn def(
    name: &'static str,
    label: &'static str,
    unit: &'static str,
    worse: Worse,
    threshold: f64,
) -> MetricDef {
    MetricDef {
        name,
        label,
        unit,
        worse,
        threshold,
    }
}

/// True for the latency percentiles, which a run invalid for latency only does not contribute.
pub fn is_latency(name: &str) -> bool {
    matches!(name, "p50" | "p90" | "p99" | "p999")
}

/// The definition of `name` (a family name, or `rss_*.<process>`).
pub fn lookup(name: &str) -> Option<&'static MetricDef> {
    let family = name.split_once('.').map_or(name, |(f, _)| f);
    let d = METRICS.iter().find(|d| d.name == family)?;
    // Only the RSS families have per-process members.
    (family == name || family.starts_with("rss_")).then_some(d)
}

/// Every metric of `run`, by name. Latency percentiles and throughput come from the measured
/// window; spans per request counts every span received over every request sent. The target's
/// CPU and spans are left out where they were not measured.
/// `cpu_adjusted` needs the other runs (see `speed`) and is added by the caller.
pub fn extract(run: &RunResult) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    if run.cpu.measured() {
        m.insert("cpu_per_request".into(), run.cpu.target_us_per_request);
    }
    if run.cpu.after_window_us_per_request.is_some() {
        m.insert(
            "cpu_with_after_window".into(),
            run.cpu.total_us_per_request(),
        );
    }
    m.insert("p50".into(), run.latency_us.p50 as f64);
    m.insert("p90".into(), run.latency_us.p90 as f64);
    m.insert("p99".into(), run.latency_us.p99 as f64);
    m.insert("p999".into(), run.latency_us.p999 as f64);
    m.insert("throughput".into(), run.load.achieved_rps);
    if let Some(c) = run.capacity.as_ref().and_then(|c| c.capacity_rps) {
        m.insert("capacity".into(), c);
    }
    if !run.memory_mb.is_empty() {
        m.insert(
            "rss_mean".into(),
            run.memory_mb.values().map(|p| p.mean).sum(),
        );
        m.insert(
            "rss_peak".into(),
            run.memory_mb.values().map(|p| p.peak).sum(),
        );
        for (process, mem) in &run.memory_mb {
            m.insert(format!("rss_mean.{process}"), mem.mean);
            m.insert(format!("rss_peak.{process}"), mem.peak);
        }
    }
    // Not where nothing was counted (rotel's blackhole exporter, a service's own collector);
    // files from before `collector.kind` was recorded counted.
    let counted = run.collector.counted || run.collector.kind.is_empty();
    if run.load.requests_total > 0 && counted {
        m.insert(
            "spans_per_request".into(),
            run.telemetry.spans_received as f64 / run.load.requests_total as f64,
        );
    }
    m
}

/// Sort key that keeps report order: families in [`METRICS`] order, per-process members after
/// their family.
pub fn order(name: &str) -> (usize, String) {
    let family = name.split_once('.').map_or(name, |(f, _)| f);
    let index = METRICS
        .iter()
        .position(|d| d.name == family)
        .unwrap_or(METRICS.len());
    (index, name.to_string())
}

/// Parses a percentage such as `"5%"` into a fraction (0.05).
pub fn parse_percent(text: &str) -> Option<f64> {
    let number = text.trim().strip_suffix('%')?.trim();
    let v: f64 = number.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v / 100.0)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use super::*;

    #[test]
    fn lookup_knows_families_and_per_process_rss() {
        assert_eq!(lookup("p99").unwrap().threshold, 0.10);
        assert_eq!(lookup("rss_peak.web").unwrap().name, "rss_peak");
        assert!(lookup("p99.web").is_none());
        assert!(lookup("latency").is_none());
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("5%"), Some(0.05));
        assert_eq!(parse_percent(" 12.5 % "), Some(0.125));
        assert_eq!(parse_percent("5"), None);
        assert_eq!(parse_percent("-1%"), None);
        assert_eq!(parse_percent("x%"), None);
    }

    #[test]
    fn order_keeps_families_together() {
        let mut names = vec!["rss_mean.web", "p99", "cpu_per_request", "rss_mean"];
        names.sort_by_key(|n| order(n));
        assert_eq!(
            names,
            ["cpu_per_request", "p99", "rss_mean", "rss_mean.web"]
        );
    }
}
