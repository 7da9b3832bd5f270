//! `load.model = "capacity"`: the `[capacity]` search settings and the `[slo]` a step must
//! hold, as written and as checked (no I/O).

use serde::{Deserialize, Serialize};

use super::Problem;
use super::limits;
use crate::stats::metrics::parse_percent;

/// `[capacity]` as written: how the search steps through offered rates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpec {
    /// The first step's rate, requests/s (default 100).
    pub start: Option<f64>,
    /// Each ramp step multiplies the rate by this (default 2).
    pub growth: Option<f64>,
    /// The search stops when the lowest failing rate is within this of the highest passing
    /// one, e.g. `"2%"` (default).
    pub precision: Option<String>,
    /// The lowest rate tried when the first step fails (default start / 4).
    pub min_rate: Option<f64>,
    /// The highest rate tried (default 100,000).
    pub max_rate: Option<f64>,
    /// Steps per search, at most (default 30).
    pub max_steps: Option<u32>,
}

/// `[slo]` as written: what a step must hold to pass.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// p99 latency bound, milliseconds.
    pub p99_ms: f64,
    /// Failed requests, at most, e.g. `"1%"` (default).
    pub error_rate: Option<String>,
    /// Achieved rate against the offered rate, at least, e.g. `"98%"` (default).
    pub achieved: Option<String>,
}

/// The search settings, checked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// First step, requests/s.
    pub start: f64,
    /// Ramp factor.
    pub growth: f64,
    /// Relative width at which bisection stops (0.02 for 2%).
    pub precision: f64,
    /// Lowest rate tried.
    pub min_rate: f64,
    /// Highest rate tried.
    pub max_rate: f64,
    /// Steps per search, at most.
    pub max_steps: u32,
}

/// The SLO, checked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// p99 bound, µs.
    pub p99_us: u64,
    /// Failed / measured requests, at most.
    pub max_error_rate: f64,
    /// Achieved / offered rate, at least.
    pub min_achieved: f64,
}

/// A capacity scenario's search and SLO.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CapacityPlan {
    /// How the search steps.
    pub search: Search,
    /// What a step must hold.
    pub slo: Slo,
}

/// The lines of the sections involved, for problems.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lines {
    /// `[load]`.
    pub load: Option<usize>,
    /// `[capacity]`.
    pub capacity: Option<usize>,
    /// `[slo]`.
    pub slo: Option<usize>,
}

/// Checks the capacity settings of a scenario whose load is `capacity_model` (true for
/// `model = "capacity"`) with `load_rate`: the plan, or every problem.
pub fn check(
    capacity_model: bool,
    load_rate: Option<f64>,
    search: Option<&SearchSpec>,
    slo: Option<&SloSpec>,
    lines: Lines,
) -> (Option<CapacityPlan>, Vec<Problem>) {
    let mut p = Problems::default();
    if !capacity_model {
        unused_sections(&mut p, search.is_some(), slo.is_some(), lines);
        return (None, p.0);
    }
    if load_rate.is_some() {
        p.push(
            lines.load,
            "load.rate",
            "is not used with model = \"capacity\" (the search chooses each step's rate)".into(),
            "remove it; set the first step's rate as capacity.start",
        );
    }
    let search = check_search(&mut p, &search.cloned().unwrap_or_default(), lines.capacity);
    let Some(slo) = slo else {
        p.push(
            lines.load,
            "slo",
            "is missing: model = \"capacity\" needs the SLO each step must hold".into(),
            "add [slo] with p99_ms = 25 (and optionally error_rate = \"1%\", achieved = \"98%\")",
        );
        return (None, p.0);
    };
    let slo = check_slo(&mut p, slo, lines.slo);
    if !p.0.is_empty() {
        return (None, p.0);
    }
    (Some(CapacityPlan { search, slo }), p.0)
}

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, line: Option<usize>, field: &str, message: String, fix: &str) {
        self.0.push(Problem {
            line,
            field: field.into(),
            message,
            fix: fix.into(),
        });
    }
}

/// `[capacity]` and `[slo]` in a scenario whose model is not `capacity`.
fn unused_sections(p: &mut Problems, search: bool, slo: bool, lines: Lines) {
    if search {
        p.push(
            lines.capacity,
            "capacity",
            "is only used with load.model = \"capacity\"".into(),
            "remove [capacity], or set model = \"capacity\" in [load]",
        );
    }
    if slo {
        p.push(
            lines.slo,
            "slo",
            "is only used with load.model = \"capacity\"".into(),
            "remove [slo], or set model = \"capacity\" in [load]",
        );
    }
}

/// `[capacity]` with its defaults: rates within limits and in order, growth, precision, steps.
fn check_search(p: &mut Problems, s: &SearchSpec, line: Option<usize>) -> Search {
    let start = s.start.unwrap_or(100.0);
    let mut rate = |field: &str, v: f64| {
        if let Some((message, fix)) = limits::RATE.check(v) {
            p.push(line, field, message, &fix);
            false
        } else {
            true
        }
    };
    let start_ok = rate("capacity.start", start);
    let max_rate = s.max_rate.unwrap_or(100_000.0_f64.max(start));
    let max_ok = rate("capacity.max_rate", max_rate);
    let min_rate = s.min_rate.unwrap_or(start / 4.0);
    let min_ok = rate("capacity.min_rate", min_rate);
    if start_ok && max_ok && max_rate < start {
        p.push(
            line,
            "capacity.max_rate",
            format!("{max_rate} is below capacity.start ({start})"),
            "set max_rate above start, or lower start",
        );
    }
    if start_ok && min_ok && min_rate > start {
        p.push(
            line,
            "capacity.min_rate",
            format!("{min_rate} is above capacity.start ({start})"),
            "set min_rate at or below start (default start / 4)",
        );
    }
    let growth = s.growth.unwrap_or(2.0);
    if !(growth > 1.0 && growth <= 10.0) {
        p.push(
            line,
            "capacity.growth",
            format!("{growth} is not between 1 (excluded) and 10"),
            "set e.g. growth = 2 (each ramp step doubles the rate)",
        );
    }
    let precision = match s.precision.as_deref() {
        None => 0.02,
        Some(text) => match parse_percent(text) {
            Some(v) if v > 0.0 && v <= 0.5 => v,
            _ => {
                p.push(
                    line,
                    "capacity.precision",
                    format!("{text:?} is not a percentage above 0% and at most 50%"),
                    "write it as a string with %, e.g. precision = \"2%\"",
                );
                0.02
            }
        },
    };
    let max_steps = s.max_steps.unwrap_or(30);
    if !(1..=200).contains(&max_steps) {
        p.push(
            line,
            "capacity.max_steps",
            format!("{max_steps} is not between 1 and 200"),
            "set e.g. max_steps = 30",
        );
    }
    Search {
        start,
        growth,
        precision,
        min_rate,
        max_rate,
        max_steps,
    }
}

/// `[slo]` with its defaults: a p99 bound the histograms can hold, shares from 0% to 100%.
fn check_slo(p: &mut Problems, slo: &SloSpec, line: Option<usize>) -> Slo {
    // The latency histograms hold up to 60 s.
    let highest_ms = otelbench_latency::HIGHEST_US as f64 / 1e3;
    if !(slo.p99_ms > 0.0 && slo.p99_ms <= highest_ms) {
        p.push(
            line,
            "slo.p99_ms",
            format!("{} is not between 0 (excluded) and 60000 ms", slo.p99_ms),
            "set the p99 bound in milliseconds, e.g. p99_ms = 25",
        );
    }
    let mut share = |field: &str, text: Option<&str>, default: f64, example: &str| match text {
        None => default,
        Some(t) => match parse_percent(t) {
            Some(v) if v <= 1.0 => v,
            _ => {
                p.push(
                    line,
                    field,
                    format!("{t:?} is not a percentage from 0% to 100%"),
                    example,
                );
                default
            }
        },
    };
    let max_error_rate = share(
        "slo.error_rate",
        slo.error_rate.as_deref(),
        0.01,
        "write it as a string with %, e.g. error_rate = \"1%\"",
    );
    let min_achieved = share(
        "slo.achieved",
        slo.achieved.as_deref(),
        0.98,
        "write it as a string with %, e.g. achieved = \"98%\"",
    );
    Slo {
        p99_us: (slo.p99_ms * 1000.0).round() as u64,
        max_error_rate,
        min_achieved,
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use std::path::Path;

    use crate::scenario::parse;

    const GOOD: &str = r#"
name = "c"
baseline = "off"

[load]
model = "capacity"
duration_s = 3

[capacity]
start = 200
precision = "5%"

[slo]
p99_ms = 25

[[variants]]
name = "off"
env = { OTEL_SDK_DISABLED = "true" }
"#;

    #[test]
    fn a_capacity_scenario_gets_defaults() {
        let s = parse(Path::new("c.toml"), GOOD).unwrap();
        let plan = s.capacity.unwrap();
        assert_eq!(plan.search.start, 200.0);
        assert_eq!(plan.search.min_rate, 50.0);
        assert_eq!(plan.search.growth, 2.0);
        assert!((plan.search.precision - 0.05).abs() < 1e-12);
        assert_eq!(plan.slo.p99_us, 25_000);
        assert!((plan.slo.min_achieved - 0.98).abs() < 1e-12);
        assert!((plan.slo.max_error_rate - 0.01).abs() < 1e-12);
    }

    fn problems(text: &str) -> String {
        parse(Path::new("c.toml"), text).unwrap_err().to_string()
    }

    #[test]
    fn a_capacity_search_needs_an_slo_and_no_fixed_rate() {
        let text = GOOD
            .replace("[slo]\np99_ms = 25\n", "")
            .replace("model = \"capacity\"", "model = \"capacity\"\nrate = 300");
        let e = problems(&text);
        assert!(
            e.contains("c.toml:5: load.rate: is not used with model"),
            "{e}"
        );
        assert!(e.contains("capacity.start"), "{e}");
        assert!(e.contains("c.toml:5: slo: is missing"), "{e}");
        assert!(e.contains("fix: add [slo] with p99_ms = 25"), "{e}");
    }

    #[test]
    fn bad_search_and_slo_fields_name_their_line_and_fix() {
        let text = GOOD
            .replace(
                "precision = \"5%\"",
                "precision = \"0%\"\ngrowth = 1\nmax_rate = 100",
            )
            .replace(
                "p99_ms = 25",
                "p99_ms = -1\nerror_rate = \"200%\"\nachieved = \"x\"",
            );
        let e = problems(&text);
        for expected in [
            "c.toml:9: capacity.precision: \"0%\" is not a percentage",
            "c.toml:9: capacity.growth: 1 is not between 1 (excluded) and 10",
            "c.toml:9: capacity.max_rate: 100 is below capacity.start (200)",
            "c.toml:15: slo.p99_ms: -1 is not between",
            "c.toml:15: slo.error_rate: \"200%\" is not a percentage",
            "c.toml:15: slo.achieved: \"x\" is not a percentage",
        ] {
            assert!(e.contains(expected), "{expected} not in:\n{e}");
        }
    }

    #[test]
    fn capacity_sections_need_the_capacity_model() {
        let text = GOOD.replace("model = \"capacity\"", "model = \"rate\"\nrate = 100");
        let e = problems(&text);
        assert!(
            e.contains("capacity: is only used with load.model = \"capacity\""),
            "{e}"
        );
        assert!(
            e.contains("slo: is only used with load.model = \"capacity\""),
            "{e}"
        );
    }
}
