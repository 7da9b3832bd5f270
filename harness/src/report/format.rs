//! How figures are written in reports: units, changes, intervals, verdict marks.

use crate::results::{MetricSummary, Verdict};
use crate::stats::metrics;

/// A metric's value with its unit: latencies in µs below 1 ms and in ms above; CPU always in µs.
pub fn value(metric: &str, v: f64) -> String {
    let unit = metrics::lookup(metric).map_or("", |d| d.unit);
    match unit {
        "µs" if !metric.starts_with("cpu_") && v >= 1_000.0 => format!("{:.2} ms", v / 1_000.0),
        "µs" if v >= 100.0 => format!("{v:.0} µs"),
        "µs" => format!("{v:.1} µs"),
        "req/s" => format!("{v:.1} req/s"),
        "MB" => format!("{v:.1} MB"),
        "spans" => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

/// A ratio as a signed percentage change: 1.123 -> "+12.3%".
pub fn change(ratio: f64) -> String {
    let pct = (ratio - 1.0) * 100.0;
    // Avoid "-0.0%".
    if pct.abs() < 0.05 {
        "±0.0%".into()
    } else {
        format!("{pct:+.1}%")
    }
}

/// An interval of ratios as changes: "[+2.1%, +8.9%]".
pub fn interval(low: f64, high: f64) -> String {
    format!("[{}, {}]", change(low), change(high))
}

/// A percentage of a fraction: 0.05 -> "5%".
pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// A limit on a metric's change, signed in its worse direction: "+5%" for CPU, "-2%" for
/// throughput.
pub fn limit(metric: &str, fraction: f64) -> String {
    match metrics::lookup(metric).map(|d| d.worse) {
        Some(metrics::Worse::Lower) => format!("-{}", percent(fraction)),
        _ => format!("+{}", percent(fraction)),
    }
}

/// A short mark for a verdict, for tables.
pub fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Regression => "✗ worse",
        Verdict::Improvement => "✓ better",
        Verdict::NoSignificantChange => "≈ same",
        Verdict::Inconclusive => "? inconclusive",
        Verdict::TooFewRuns => "– too few runs",
        Verdict::NotComparable => "– n/a",
        Verdict::Baseline => "baseline",
    }
}

/// A metric's interval of its change; its level beside it when below 95% (few runs).
pub fn ci(m: &MetricSummary) -> Option<String> {
    let (lo, hi) = (m.ci_low?, m.ci_high?);
    Some(match m.ci_level.filter(|l| *l < 0.949_5) {
        Some(level) => format!("{} ({:.0}%)", interval(lo, hi), level * 100.0),
        None => interval(lo, hi),
    })
}

/// The lines of a comparison cell: value, change with interval, verdict.
pub fn cell(metric: &str, m: &MetricSummary) -> Vec<String> {
    let mut lines = vec![value(metric, m.median)];
    if m.verdict == Verdict::Baseline {
        lines.push("baseline".into());
        return lines;
    }
    // Change and interval on lines of their own keep wide tables narrow.
    lines.extend(m.ratio.map(change));
    if m.ratio.is_some() {
        lines.extend(ci(m));
    }
    lines.push(mark(m.verdict).into());
    lines
}

/// A count with thousands separators: 1234567 -> "1,234,567".
pub fn count(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Bytes in KB/MB.
pub fn bytes(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} MB", v / 1e6)
    } else {
        format!("{:.1} KB", v / 1e3)
    }
}

/// `value` formatted with `f`, or a dash where it is not known.
pub fn or_dash<T>(value: Option<T>, f: impl FnOnce(T) -> String) -> String {
    value.map_or_else(|| "–".to_string(), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_units() {
        assert_eq!(value("p99", 6_100.0), "6.10 ms");
        assert_eq!(value("p50", 850.0), "850 µs");
        assert_eq!(value("cpu_per_request", 1_234.4), "1234 µs");
        assert_eq!(value("cpu_per_request", 45.26), "45.3 µs");
        assert_eq!(value("throughput", 399.94), "399.9 req/s");
        assert_eq!(value("rss_mean.web", 20.04), "20.0 MB");
    }

    #[test]
    fn changes_and_intervals() {
        assert_eq!(change(1.1234), "+12.3%");
        assert_eq!(change(0.9), "-10.0%");
        assert_eq!(change(1.0001), "±0.0%");
        assert_eq!(interval(0.98, 1.05), "[-2.0%, +5.0%]");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.125), "12.5%");
    }

    #[test]
    fn counts() {
        assert_eq!(count(1_234_567.0), "1,234,567");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(0.0), "0");
    }
}
