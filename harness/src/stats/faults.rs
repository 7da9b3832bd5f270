//! What each collector fault did to the app, against the healthy baseline: latency and CPU,
//! request errors, RSS growth per process (queue build-up), telemetry lost, and how delivery
//! resumed after a flapping collector came back. Pure functions of the results.
//!
//! Runs a fault made invalid (the app fell behind its arrival rate, or failed requests) are
//! counted here too: under a fault, that is the finding, not a harness failure.

use std::collections::BTreeMap;

use super::delivery::{accounted, failed_exports, med, span_median};
use super::median::median;
use crate::results::{Results, RunResult};

/// RSS growth over the window (MB) above which a process is said to grow: above this and
/// above twice the healthy baseline's growth plus this.
pub const GROWTH_MB: f64 = 5.0;
/// A p99 at least this many times the healthy one means requests waited on telemetry.
pub const BLOCKED_P99_RATIO: f64 = 2.0;

/// What a fault did, as the report states it.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// No request failed and p99 stayed below [`BLOCKED_P99_RATIO`] times healthy.
    KeptServing,
    /// Requests failed (median share of requests).
    RequestErrors(f64),
    /// The app could not keep its arrival rate: runs invalid for that reason.
    FellBehind(String),
    /// p99 rose by this ratio against healthy.
    Blocked(f64),
    /// A process's RSS grew by this much over the window (median MB), against healthy's growth.
    Grew {
        /// Process.
        process: String,
        /// Growth with the fault, MB.
        mb: f64,
        /// Growth with a healthy collector, MB.
        healthy_mb: f64,
    },
    /// Share of the spans produced that were lost (dropped by the queue or failed in export).
    TelemetryLost(f64),
    /// A flapping collector came back this many times and delivery did not resume after some.
    NoRecovery {
        /// Returns.
        returns: u64,
        /// Returns followed by delivery.
        recovered: u64,
    },
}

/// One variant under a fault (or the healthy baseline, for reference).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSummary {
    /// Variant.
    pub variant: String,
    /// The fault played (`None`: healthy).
    pub fault: Option<String>,
    /// Runs that measured requests (valid or not).
    pub runs: usize,
    /// Of those, invalid.
    pub invalid: usize,
    /// The healthy variant it is compared with (`None` for a healthy variant itself).
    pub reference: Option<String>,
    /// Median p99 latency, µs.
    pub p99_us: f64,
    /// Median p99 / healthy median p99.
    pub p99_ratio: Option<f64>,
    /// Median target CPU per request, µs.
    pub cpu_us: f64,
    /// Median CPU / healthy median CPU.
    pub cpu_ratio: Option<f64>,
    /// Median share of failed requests.
    pub error_rate: f64,
    /// Median RSS growth over the window per process, MB.
    pub rss_growth_mb: BTreeMap<String, f64>,
    /// Median spans produced / dropped / failed by the target, when it reports them.
    pub spans: Option<[f64; 3]>,
    /// Median span export calls that failed.
    pub failed_exports: Option<f64>,
    /// Median exports refused by the fault.
    pub exports_refused: f64,
    /// Median connections swallowed by a blackhole.
    pub connections_blackholed: f64,
    /// Flap: how delivery resumed after the collector's returns, over all runs.
    pub recovery: Option<FlapRecovery>,
    /// What it amounts to.
    pub findings: Vec<Finding>,
}

/// How delivery resumed after a flapping collector came back, over every run of a variant.
#[derive(Debug, Clone, PartialEq)]
pub struct FlapRecovery {
    /// Returns of the collector.
    pub returns: u64,
    /// Returns followed by delivery.
    pub recovered: u64,
    /// Every recovery time (ms): from a return until the collector accepted an export again.
    pub times_ms: Vec<f64>,
    /// Median of `times_ms` (`None` when no return recovered).
    pub median_ms: Option<f64>,
    /// Longest of `times_ms` (`None` when no return recovered).
    pub max_ms: Option<f64>,
}

/// The median and the maximum of `times` (`None` each when empty).
pub fn median_and_max(times: &[f64]) -> (Option<f64>, Option<f64>) {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    (median(&sorted), sorted.last().copied())
}

/// The recovery of the collector's returns over `runs`, when any run flapped it.
fn recovery(runs: &[&RunResult]) -> Option<FlapRecovery> {
    let flaps: Vec<_> = runs
        .iter()
        .filter_map(|r| r.collector.recovery.as_ref())
        .collect();
    if flaps.is_empty() {
        return None;
    }
    let times_ms: Vec<f64> = flaps
        .iter()
        .flat_map(|f| f.recovery_ms.iter().copied())
        .collect();
    let (median_ms, max_ms) = median_and_max(&times_ms);
    Some(FlapRecovery {
        returns: flaps.iter().map(|f| f.returns).sum(),
        recovered: flaps.iter().map(|f| f.recovered).sum(),
        times_ms,
        median_ms,
        max_ms,
    })
}

fn error_rate(r: &RunResult) -> f64 {
    super::ratio::share(r.load.errors, r.load.requests)
}

/// Whether the scenario plays any fault.
pub fn any(results: &Results) -> bool {
    results.runs.iter().any(|r| r.collector.fault.is_some())
}

/// The baseline (healthy) and every variant that plays a fault, in scenario order; empty when
/// no run plays a fault.
pub fn summarize(results: &Results) -> Vec<FaultSummary> {
    if !any(results) {
        return Vec::new();
    }
    let measured = |v: &str| -> Vec<&RunResult> {
        results
            .kept_runs()
            .filter(|r| r.variant == v && r.load.requests > 0)
            .collect()
    };
    let variants = &results.scenario.variants;
    let first = |v: &str| {
        results
            .kept_runs()
            .find(|r| r.variant == v && r.load.requests > 0)
    };
    let healthy: Vec<&String> = variants
        .iter()
        .filter(|v| first(v).is_some_and(|r| r.collector.fault.is_none()))
        .collect();
    // Each fault variant against the healthy variant with the same settings.
    let references: BTreeMap<&String, &String> = variants
        .iter()
        .filter_map(|v| {
            let run = first(v).filter(|r| r.collector.fault.is_some())?;
            reference(
                &run.env,
                &healthy,
                |h| first(h).map(|r| &r.env),
                &results.scenario.baseline,
            )
            .map(|h| (v, h))
        })
        .collect();
    variants
        .iter()
        .filter_map(|v| {
            let runs = measured(v);
            let fault = runs.first()?.collector.fault.clone();
            match references.get(v) {
                Some(h) => {
                    let base = measured(h);
                    let against = Healthy {
                        variant: (*h).clone(),
                        p99: med(&base, |r| r.latency_us.p99 as f64),
                        cpu: med(&base, |r| r.cpu.target_us_per_request),
                        growth: growth(&base),
                    };
                    Some(summary(v, fault, &runs, &against))
                }
                // A healthy variant is listed when some fault is compared with it.
                None if references.values().any(|h| *h == v) => {
                    let mut s = summary(v, fault, &runs, &Healthy::default());
                    s.reference = None;
                    Some(s)
                }
                None => None,
            }
        })
        .collect()
}

/// The healthy variant a fault variant is compared with: the one whose environment shares the
/// most settings with `env` (the baseline wins a tie; with nothing shared, the baseline).
fn reference<'a>(
    env: &BTreeMap<String, String>,
    healthy: &[&'a String],
    env_of: impl Fn(&str) -> Option<&'a BTreeMap<String, String>>,
    baseline: &str,
) -> Option<&'a String> {
    let shared = |h: &str| {
        env_of(h).map_or(0, |e| {
            e.iter().filter(|(k, v)| env.get(*k) == Some(v)).count()
        })
    };
    let best = healthy
        .iter()
        .copied()
        .max_by_key(|h| (shared(h), *h == baseline))?;
    if shared(best) == 0 {
        return healthy
            .iter()
            .copied()
            .find(|h| *h == baseline)
            .or(Some(best));
    }
    Some(best)
}

/// The healthy figures a fault is compared with.
#[derive(Debug, Default)]
struct Healthy {
    variant: String,
    p99: f64,
    cpu: f64,
    growth: BTreeMap<String, f64>,
}

fn growth(runs: &[&RunResult]) -> BTreeMap<String, f64> {
    let processes: Vec<String> = runs
        .iter()
        .flat_map(|r| r.memory_mb.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    processes
        .into_iter()
        .map(|p| {
            let g = med(runs, |r| r.memory_mb.get(&p).map_or(0.0, |m| m.growth));
            (p, g)
        })
        .collect()
}

fn ratio(v: f64, base: f64) -> Option<f64> {
    (base > 0.0).then(|| v / base)
}

fn summary(
    variant: &str,
    fault: Option<String>,
    runs: &[&RunResult],
    healthy: &Healthy,
) -> FaultSummary {
    let accounted = accounted(runs);
    let spans = (!accounted.is_empty()).then(|| {
        let t = |f| span_median(&accounted, f);
        [t(|s| s.produced), t(|s| s.dropped), t(|s| s.failed)]
    });
    let p99_us = med(runs, |r| r.latency_us.p99 as f64);
    let cpu_us = med(runs, |r| r.cpu.target_us_per_request);
    let mut s = FaultSummary {
        variant: variant.to_string(),
        fault,
        runs: runs.len(),
        invalid: runs.iter().filter(|r| !r.valid).count(),
        p99_us,
        reference: Some(healthy.variant.clone()),
        p99_ratio: ratio(p99_us, healthy.p99),
        cpu_us,
        cpu_ratio: ratio(cpu_us, healthy.cpu),
        error_rate: med(runs, error_rate),
        rss_growth_mb: growth(runs),
        spans,
        failed_exports: failed_exports(&accounted),
        exports_refused: med(runs, |r| r.collector.exports_refused as f64),
        connections_blackholed: med(runs, |r| r.collector.connections_blackholed as f64),
        recovery: recovery(runs),
        findings: Vec::new(),
    };
    s.findings = findings(&s, runs, &healthy.growth);
    s
}

fn findings(
    s: &FaultSummary,
    runs: &[&RunResult],
    healthy_growth: &BTreeMap<String, f64>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if s.error_rate > 0.0 {
        out.push(Finding::RequestErrors(s.error_rate));
    }
    // Only the achieved rate speaks for the app: a late generator (scheduling lag) is the
    // harness's problem and stays in the invalid-runs table.
    if let Some(reason) = runs
        .iter()
        .filter_map(|r| r.invalid_reason.as_deref())
        .flat_map(|r| r.split("; "))
        .find(|r| r.starts_with("achieved"))
    {
        out.push(Finding::FellBehind(reason.to_string()));
    }
    if let Some(r) = s.p99_ratio.filter(|r| *r >= BLOCKED_P99_RATIO) {
        out.push(Finding::Blocked(r));
    }
    for (process, mb) in &s.rss_growth_mb {
        let healthy_mb = healthy_growth.get(process).copied().unwrap_or(0.0);
        if *mb > GROWTH_MB && *mb > 2.0 * healthy_mb + GROWTH_MB {
            out.push(Finding::Grew {
                process: process.clone(),
                mb: *mb,
                healthy_mb,
            });
        }
    }
    if let Some([produced, dropped, failed]) = s.spans
        && produced > 0.0
        && dropped + failed > 0.0
    {
        out.push(Finding::TelemetryLost((dropped + failed) / produced));
    }
    if let Some(r) = &s.recovery
        && r.recovered < r.returns
    {
        out.push(Finding::NoRecovery {
            returns: r.returns,
            recovered: r.recovered,
        });
    }
    if !out.iter().any(|f| {
        matches!(
            f,
            Finding::RequestErrors(_) | Finding::FellBehind(_) | Finding::Blocked(_)
        )
    }) {
        out.insert(0, Finding::KeptServing);
    }
    out
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use super::*;
    use crate::results::{Recovery, fixture};

    /// The fixture with `100%` turned into a fault variant.
    fn with_fault(fault: &str) -> Results {
        let mut r = fixture::results();
        r.scenario.baseline = "10%".into();
        for run in r.runs.iter_mut().filter(|r| r.variant == "100%") {
            run.collector.fault = Some(fault.into());
        }
        r
    }

    #[test]
    fn no_fault_no_section() {
        assert!(summarize(&fixture::results()).is_empty());
    }

    #[test]
    fn a_fault_is_compared_with_the_healthy_variant_of_the_same_settings() {
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let envs: BTreeMap<String, BTreeMap<String, String>> = [
            ("off".to_string(), env(&[("OTEL_SDK_DISABLED", "true")])),
            ("100%".to_string(), env(&[("S", "on"), ("D", "200")])),
            ("10%".to_string(), env(&[("S", "ratio"), ("D", "200")])),
        ]
        .into();
        let names: Vec<String> = envs.keys().cloned().collect();
        let healthy: Vec<&String> = names.iter().collect();
        let env_of = |v: &str| envs.get(v);
        let pick = |e| reference(&e, &healthy, env_of, "off").map(String::as_str);
        assert_eq!(pick(env(&[("S", "on"), ("D", "200")])), Some("100%"));
        assert_eq!(
            pick(env(&[("S", "on"), ("D", "200"), ("T", "300")])),
            Some("100%")
        );
        assert_eq!(
            pick(env(&[("X", "1")])),
            Some("off"),
            "nothing shared: the baseline"
        );
    }

    #[test]
    fn a_harmless_fault_kept_serving() {
        let r = with_fault("slow:500ms");
        let s = summarize(&r);
        assert_eq!(s.len(), 2, "the healthy baseline and the fault");
        assert_eq!(s[0].variant, "10%");
        assert_eq!(s[0].fault, None);
        assert_eq!(s[1].fault.as_deref(), Some("slow:500ms"));
        assert_eq!(s[1].findings[0], Finding::KeptServing);
        assert!(s[1].p99_ratio.is_some() && s[1].cpu_ratio.is_some());
    }

    #[test]
    fn errors_blocking_growth_loss_and_no_recovery_are_found() {
        let mut r = with_fault("flap:1s/1s");
        for run in r.runs.iter_mut().filter(|r| r.variant == "100%") {
            run.load.errors = run.load.requests / 10;
            run.latency_us.p99 *= 3;
            run.memory_mb.get_mut("web").unwrap().growth = 40.0;
            let t = run.telemetry.target_spans.as_mut().unwrap();
            t.dropped = t.produced / 4;
            run.valid = false;
            run.invalid_reason = Some("achieved 300 req/s of 400".into());
            run.collector.recovery = Some(Recovery {
                returns: 3,
                recovered: 2,
                recovery_ms: vec![120.0, 80.0],
            });
        }
        let s = &summarize(&r)[1];
        assert_eq!(s.invalid, s.runs, "invalid runs are still summarized");
        let f = &s.findings;
        assert!(!f.contains(&Finding::KeptServing), "{f:?}");
        assert!(f.contains(&Finding::RequestErrors(0.1)), "{f:?}");
        assert!(
            f.iter().any(|x| matches!(x, Finding::FellBehind(_))),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|x| matches!(x, Finding::Blocked(r) if *r > 2.0))
        );
        assert!(f.iter().any(
            |x| matches!(x, Finding::Grew { process, mb, .. } if process == "web" && *mb == 40.0)
        ));
        assert!(f.contains(&Finding::TelemetryLost(0.25)), "{f:?}");
        assert!(f.contains(&Finding::NoRecovery {
            returns: 9,
            recovered: 6
        }));
        let recovery = s.recovery.as_ref().unwrap();
        assert_eq!(recovery.times_ms.len(), 6, "every run's recovery times");
        assert_eq!(recovery.median_ms, Some(100.0));
        assert_eq!(recovery.max_ms, Some(120.0));
    }

    #[test]
    fn recovery_times_summarize_as_median_and_max() {
        assert_eq!(median_and_max(&[]), (None, None));
        assert_eq!(median_and_max(&[80.0]), (Some(80.0), Some(80.0)));
        assert_eq!(
            median_and_max(&[300.0, 80.0, 120.0]),
            (Some(120.0), Some(300.0))
        );
        assert_eq!(
            median_and_max(&[120.0, 80.0, 40.0, 300.0]),
            (Some(100.0), Some(300.0))
        );
    }
}
