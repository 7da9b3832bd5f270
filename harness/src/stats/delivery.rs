//! Telemetry delivery per variant: medians over valid runs of what the collector received and
//! what the target says it produced, so that a setting which drops telemetry cannot look cheap.

use crate::results::{Results, RunResult, SpanAccounting};

use super::median::median;

/// Delivery figures of one variant (medians over its valid runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Variant.
    pub variant: String,
    /// Valid runs the medians are over.
    pub runs: usize,
    /// Spans received.
    pub spans_received: f64,
    /// Spans received per request sent (warm-up included, as export batches ignore windows).
    pub spans_per_request: f64,
    /// Traces with web and worker spans joined.
    pub traces_complete: f64,
    /// Sampled requests (traces holding the web's server span) / requests.
    pub observed_sampling_ratio: f64,
    /// Jobs enqueued and completed (medians), when the target reports them.
    pub jobs: Option<[f64; 2]>,
    /// Producer and consumer spans received (medians): the jobs the sampled traces show.
    pub job_spans: [f64; 2],
    /// Metric data points received.
    pub metric_points: f64,
    /// Log records received.
    pub log_records: f64,
    /// Export requests received.
    pub export_requests: f64,
    /// Bytes received.
    pub bytes: f64,
    /// The target's own accounting (medians), when it reports it: produced, exported, failed,
    /// dropped.
    pub target: Option<[f64; 4]>,
    /// Span export calls that failed (median), when the target reports it.
    pub failed_exports: Option<f64>,
    /// Spans received / spans the target produced (median), when both are known.
    pub delivered: Option<f64>,
    /// The accounting of every run that has one: is everything the target produced received,
    /// dropped or failed? `None` when no run could be checked.
    pub accounting: Option<AccountingCheck>,
    /// The collector process's CPU per request and RSS mean (medians, µs and MB), when the
    /// collector is a process the harness ran (rotel).
    pub collector: Option<(String, f64, f64)>,
}

/// The delivery accounting of a variant's runs: spans expected (produced by the target) =
/// received by the sink + dropped by the target's queue + failed in exports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountingCheck {
    /// Runs checked.
    pub runs: usize,
    /// The largest gap `expected - (received + dropped + failed)` of those runs, by size.
    pub worst_gap: f64,
    /// Whether every run's gap is within [`tolerance`].
    pub consistent: bool,
}

/// How far a run's accounting may be off: an export whose answer was lost after the sink had
/// counted it (a connection cut by a flap, a client time-out) counts as both received and
/// failed. 1% of the spans expected, at least 10 spans.
pub fn tolerance(expected: u64) -> f64 {
    (expected as f64 * 0.01).max(10.0)
}

/// `expected - (received + dropped + failed)` of one run, when the run has both the target's
/// accounting and a counted collector.
pub fn accounting_gap(run: &RunResult) -> Option<(u64, f64)> {
    let t = run.telemetry.target_spans.as_ref()?;
    // Nothing produced (telemetry off) is nothing to check.
    if !run.collector.counted || t.produced == 0 {
        return None;
    }
    let accounted = run.telemetry.spans_received + t.dropped + t.failed;
    Some((t.produced, t.produced as f64 - accounted as f64))
}

fn check(runs: &[&RunResult]) -> Option<AccountingCheck> {
    let gaps: Vec<(u64, f64)> = runs.iter().filter_map(|r| accounting_gap(r)).collect();
    let worst = gaps
        .iter()
        .copied()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    Some(AccountingCheck {
        runs: gaps.len(),
        worst_gap: worst.1,
        consistent: gaps.iter().all(|(e, g)| g.abs() <= tolerance(*e)),
    })
}

/// The observed sampling ratio: sampled requests (traces with the web's server span) per request
/// sent; distinct traces per request when the target sent no server span at all (its own
/// instrumentation names no server side).
pub fn sampling_ratio(request_traces: u64, traces: u64, requests: u64) -> f64 {
    let sampled = if request_traces == 0 {
        traces
    } else {
        request_traces
    };
    super::ratio::share(sampled, requests)
}

/// The median of `f` over `runs` (0 for none).
pub(super) fn med(runs: &[&RunResult], f: impl Fn(&RunResult) -> f64) -> f64 {
    median(&runs.iter().map(|r| f(r)).collect::<Vec<_>>()).unwrap_or(0.0)
}

/// The median of one field of the target's span accounting over `runs` (0 where a run has
/// none).
pub(super) fn span_median(runs: &[&RunResult], field: fn(&SpanAccounting) -> u64) -> f64 {
    med(runs, |r| {
        r.telemetry.target_spans.map_or(0.0, |s| field(&s) as f64)
    })
}

/// The runs of `runs` that carry the target's own span accounting.
pub(super) fn accounted<'a>(runs: &[&'a RunResult]) -> Vec<&'a RunResult> {
    runs.iter()
        .copied()
        .filter(|r| r.telemetry.target_spans.is_some())
        .collect()
}

/// The median of failed span export calls over `accounted` runs, when there are any.
pub(super) fn failed_exports(accounted: &[&RunResult]) -> Option<f64> {
    (!accounted.is_empty()).then(|| span_median(accounted, |s| s.failed_calls))
}

/// Delivery per variant, in scenario order; variants without a valid run are left out.
pub fn delivery(results: &Results) -> Vec<Delivery> {
    results
        .scenario
        .variants
        .iter()
        .filter_map(|v| variant(results, v))
        .collect()
}

/// The delivery of `variant`, when it has a valid run.
fn variant(results: &Results, variant: &str) -> Option<Delivery> {
    let runs: Vec<&RunResult> = results
        .kept_runs()
        .filter(|r| r.variant == variant && (r.valid || r.latency_only))
        .collect();
    if runs.is_empty() {
        return None;
    }
    let accounted = accounted(&runs);
    // The identity holds whatever made a run invalid, so every run is checked.
    let all: Vec<&RunResult> = results
        .runs
        .iter()
        .filter(|r| r.variant == variant)
        .collect();
    Some(Delivery {
        collector: collector(&runs),
        failed_exports: failed_exports(&accounted),
        delivered: delivered(&accounted),
        accounting: check(&all),
        variant: variant.to_string(),
        runs: runs.len(),
        spans_received: med(&runs, |r| r.telemetry.spans_received as f64),
        spans_per_request: med(&runs, |r| {
            super::ratio::share(r.telemetry.spans_received, r.load.requests_total)
        }),
        traces_complete: med(&runs, |r| r.telemetry.traces_complete as f64),
        jobs: jobs(&runs),
        job_spans: [
            med(&runs, |r| r.telemetry.producer_spans as f64),
            med(&runs, |r| r.telemetry.consumer_spans as f64),
        ],
        observed_sampling_ratio: med(&runs, |r| r.telemetry.observed_sampling_ratio),
        metric_points: med(&runs, |r| r.telemetry.metric_points_received as f64),
        log_records: med(&runs, |r| r.telemetry.log_records_received as f64),
        export_requests: med(&runs, |r| r.telemetry.export_requests as f64),
        bytes: med(&runs, |r| r.telemetry.bytes_received as f64),
        target: target(&accounted),
    })
}

/// The target's own accounting (produced, exported, failed, dropped) over `accounted` runs.
fn target(accounted: &[&RunResult]) -> Option<[f64; 4]> {
    (!accounted.is_empty()).then(|| {
        let t = |f: fn(&SpanAccounting) -> u64| span_median(accounted, f);
        [
            t(|s| s.produced),
            t(|s| s.exported),
            t(|s| s.failed),
            t(|s| s.dropped),
        ]
    })
}

/// Spans received / spans produced over the `accounted` runs with a counting collector and
/// something produced.
fn delivered(accounted: &[&RunResult]) -> Option<f64> {
    let counted: Vec<&RunResult> = accounted
        .iter()
        .copied()
        .filter(|r| r.collector.counted)
        .filter(|r| r.telemetry.target_spans.is_some_and(|s| s.produced > 0))
        .collect();
    (!counted.is_empty()).then(|| {
        med(&counted, |r| {
            let produced = r.telemetry.target_spans.map_or(1, |s| s.produced);
            r.telemetry.spans_received as f64 / produced as f64
        })
    })
}

/// The collector process's kind, CPU per request and RSS mean, when the harness measured it.
fn collector(runs: &[&RunResult]) -> Option<(String, f64, f64)> {
    let measured: Vec<&RunResult> = runs
        .iter()
        .copied()
        .filter(|r| r.collector.cpu_us_per_request.is_some())
        .collect();
    measured.first().map(|first| {
        (
            first.collector.kind.clone(),
            med(&measured, |r| r.collector.cpu_us_per_request.unwrap_or(0.0)),
            med(&measured, |r| r.collector.memory_mb.map_or(0.0, |m| m.mean)),
        )
    })
}

/// Jobs enqueued and completed, over the runs whose target reports them.
fn jobs(runs: &[&RunResult]) -> Option<[f64; 2]> {
    let reported: Vec<&RunResult> = runs.iter().copied().filter(|r| r.jobs.is_some()).collect();
    let job = |f: fn(&crate::results::Jobs) -> u64| {
        med(&reported, |r| r.jobs.as_ref().map_or(0.0, |j| f(j) as f64))
    };
    (!reported.is_empty()).then(|| [job(|j| j.enqueued), job(|j| j.completed)])
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use super::*;
    use crate::results::fixture;

    #[test]
    fn the_sampling_ratio_counts_sampled_requests_and_falls_back_to_traces() {
        // 40 of 400 requests sampled; 25 more traces the worker started on its own.
        assert_eq!(sampling_ratio(40, 65, 400), 0.1);
        // A target that names no server span: distinct traces are all there is.
        assert_eq!(sampling_ratio(0, 65, 400), 65.0 / 400.0);
        assert_eq!(sampling_ratio(0, 0, 0), 0.0);
    }

    #[test]
    fn medians_per_variant_with_target_accounting() {
        let d = delivery(&fixture::results());
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].spans_received, 0.0);
        assert_eq!(d[0].target, None);
        assert_eq!(d[2].spans_received, 20_000.0);
        assert_eq!(d[2].target, Some([20_000.0, 20_000.0, 0.0, 0.0]));
        assert!((d[1].observed_sampling_ratio - 0.1).abs() < 1e-12);
    }

    #[test]
    fn accounting_balances_received_dropped_and_failed() {
        let mut r = fixture::results();
        let d = delivery(&r);
        let a = d[2].accounting.unwrap();
        assert!(a.consistent && a.worst_gap == 0.0, "{a:?}");
        assert_eq!(d[2].delivered, Some(1.0));
        assert_eq!(d[0].accounting, None, "nothing produced, nothing to check");
        // A collector that drops half of what it acknowledged is caught.
        for run in r.runs.iter_mut().filter(|r| r.variant == "100%") {
            run.telemetry.spans_received /= 2;
        }
        let a = delivery(&r)[2].accounting.unwrap();
        assert!(!a.consistent);
        assert_eq!(a.worst_gap, 10_000.0);
        // Dropped and failed spans are accounted for.
        for run in r.runs.iter_mut().filter(|r| r.variant == "100%") {
            let t = run.telemetry.target_spans.as_mut().unwrap();
            t.dropped = 6_000;
            t.failed = 3_995;
        }
        let a = delivery(&r)[2].accounting.unwrap();
        assert!(a.consistent, "{a:?}");
        assert_eq!(a.worst_gap, 5.0);
        // Without a counting collector there is nothing to check against.
        for run in &mut r.runs {
            run.collector.counted = false;
        }
        assert_eq!(delivery(&r)[2].accounting, None);
        assert_eq!(delivery(&r)[2].delivered, None);
    }

    #[test]
    fn tolerance_is_one_percent_with_a_floor() {
        assert_eq!(tolerance(100), 10.0);
        assert_eq!(tolerance(50_000), 500.0);
    }

    #[test]
    fn variants_without_valid_runs_are_left_out() {
        let mut r = fixture::results();
        for run in r.runs.iter_mut().filter(|r| r.variant == "10%") {
            run.valid = false;
        }
        let names: Vec<_> = delivery(&r).into_iter().map(|d| d.variant).collect();
        assert_eq!(names, ["off", "100%"]);
    }
}
