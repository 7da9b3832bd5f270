//! The decision settings of a scenario: thresholds, budget and A/A calibration. Checked here so
//! a misspelt metric or a bare number is found before the first run.

use std::collections::BTreeMap;

use serde_spanned::Spanned;

use crate::stats::metrics;

/// A problem with one entry: (field, message, fix).
pub type EntryProblem = (String, String, String);

/// A `[thresholds]` or `[budget]` table read into fractions; each bad entry becomes a problem.
pub fn percentages(
    table: &str,
    spec: Option<&Spanned<BTreeMap<String, String>>>,
) -> (BTreeMap<String, f64>, Vec<EntryProblem>) {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (metric, value) in spec.map(Spanned::get_ref).into_iter().flatten() {
        let field = format!("{table}.{metric}");
        if metrics::lookup(metric).is_none() {
            let known: Vec<&str> = metrics::METRICS.iter().map(|d| d.name).collect();
            problems.push((
                field,
                format!("{metric:?} is not a metric"),
                format!(
                    "use one of {} (or rss_mean.<process>, rss_peak.<process>)",
                    known.join(", ")
                ),
            ));
            continue;
        }
        // A metric that gets worse downwards (capacity, throughput) may be written as the drop
        // it allows: `capacity = "-5%"` is the same budget as `"5%"`.
        let lower = metrics::lookup(metric).is_some_and(|d| d.worse == metrics::Worse::Lower);
        let value = match value.trim().strip_prefix('-') {
            Some(rest) if lower => rest,
            _ => value.as_str(),
        };
        match metrics::parse_percent(value) {
            Some(f) => {
                out.insert(metric.clone(), f);
            }
            None => problems.push((
                field,
                format!("{value:?} is not a percentage"),
                format!("write it as a string with %, e.g. {metric} = \"5%\""),
            )),
        }
    }
    (out, problems)
}

/// The name of the baseline's A/A copy.
pub fn calibration_name(baseline: &str) -> String {
    format!("{baseline} (A/A)")
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use std::path::Path;

    use crate::scenario::parse;

    const GOOD: &str = r#"
name = "t"
baseline = "off"
aa_calibration = true

[load]
model = "rate"
rate = 100
duration_s = 2

[budget]
p99 = "5%"
cpu_per_request = "10%"

[thresholds]
rss_mean = "20%"

[[variants]]
name = "off"
env = { OTEL_SDK_DISABLED = "true" }

[[variants]]
name = "on"
env = { OTEL_TRACES_SAMPLER = "always_on" }
"#;

    #[test]
    fn budget_thresholds_and_the_aa_copy() {
        let s = parse(Path::new("s.toml"), GOOD).unwrap();
        assert_eq!(s.budget["p99"], 0.05);
        assert_eq!(s.budget["cpu_per_request"], 0.10);
        assert_eq!(s.thresholds["rss_mean"], 0.20);
        let names: Vec<_> = s.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["off", "on", "off (A/A)"]);
        assert_eq!(s.calibration_variant.as_deref(), Some("off (A/A)"));
        assert_eq!(s.variants[2].env, s.variants[0].env);
    }

    #[test]
    fn bad_entries_name_the_field_and_the_fix() {
        let text = GOOD
            .replace("p99 = \"5%\"", "p99 = \"5\"")
            .replace("rss_mean = \"20%\"", "memory = \"20%\"");
        let e = parse(Path::new("s.toml"), &text).unwrap_err();
        let fields: Vec<_> = e.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["budget.p99", "thresholds.memory"], "{e}");
        assert_eq!(e.problems[0].line, Some(11));
        assert!(e.problems[0].fix.contains("p99 = \"5%\""), "{e}");
        assert!(e.problems[1].fix.contains("cpu_per_request"), "{e}");
    }

    #[test]
    fn a_drop_may_be_written_with_a_minus_for_metrics_that_worsen_downwards() {
        let text = GOOD.replace("p99 = \"5%\"", "capacity = \"-5%\"\nthroughput = \"2%\"");
        let s = parse(Path::new("s.toml"), &text).unwrap();
        assert_eq!(s.budget["capacity"], 0.05);
        assert_eq!(s.budget["throughput"], 0.02);
        let e = parse(Path::new("s.toml"), &GOOD.replace("\"5%\"", "\"-5%\"")).unwrap_err();
        assert_eq!(e.problems[0].field, "budget.p99", "{e}");
    }

    #[test]
    fn a_number_instead_of_a_string_is_a_type_error() {
        let e = parse(Path::new("s.toml"), &GOOD.replace("\"10%\"", "10")).unwrap_err();
        assert!(e.problems[0].message.contains("invalid type"), "{e}");
    }
}
