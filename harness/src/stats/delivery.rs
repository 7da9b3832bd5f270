//! Telemetry delivery per variant: medians over valid runs of what the collector received and
//! what the target says it produced, so that a setting which drops telemetry cannot look cheap.

use crate::results::{Results, RunResult};

use super::bootstrap::median;

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
    /// Distinct traces / requests.
    pub observed_sampling_ratio: f64,
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
}

fn med(runs: &[&RunResult], f: impl Fn(&RunResult) -> f64) -> f64 {
    median(&runs.iter().map(|r| f(r)).collect::<Vec<_>>()).unwrap_or(0.0)
}

/// Delivery per variant, in scenario order; variants without a valid run are left out.
pub fn delivery(results: &Results) -> Vec<Delivery> {
    results
        .scenario
        .variants
        .iter()
        .filter_map(|v| {
            let runs: Vec<&RunResult> = results
                .runs
                .iter()
                .filter(|r| &r.variant == v && r.valid)
                .collect();
            if runs.is_empty() {
                return None;
            }
            let accounted: Vec<&RunResult> = runs
                .iter()
                .copied()
                .filter(|r| r.telemetry.target_spans.is_some())
                .collect();
            let target = (!accounted.is_empty()).then(|| {
                let t = |f: fn(&crate::results::SpanAccounting) -> u64| {
                    med(&accounted, |r| {
                        r.telemetry
                            .target_spans
                            .as_ref()
                            .map_or(0.0, |s| f(s) as f64)
                    })
                };
                [
                    t(|s| s.produced),
                    t(|s| s.exported),
                    t(|s| s.failed),
                    t(|s| s.dropped),
                ]
            });
            Some(Delivery {
                variant: v.clone(),
                runs: runs.len(),
                spans_received: med(&runs, |r| r.telemetry.spans_received as f64),
                spans_per_request: med(&runs, |r| {
                    if r.load.requests_total == 0 {
                        0.0
                    } else {
                        r.telemetry.spans_received as f64 / r.load.requests_total as f64
                    }
                }),
                traces_complete: med(&runs, |r| r.telemetry.traces_complete as f64),
                observed_sampling_ratio: med(&runs, |r| r.telemetry.observed_sampling_ratio),
                metric_points: med(&runs, |r| r.telemetry.metric_points_received as f64),
                log_records: med(&runs, |r| r.telemetry.log_records_received as f64),
                export_requests: med(&runs, |r| r.telemetry.export_requests as f64),
                bytes: med(&runs, |r| r.telemetry.bytes_received as f64),
                target,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use super::*;
    use crate::results::fixture;

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
    fn variants_without_valid_runs_are_left_out() {
        let mut r = fixture::results();
        for run in r.runs.iter_mut().filter(|r| r.variant == "10%") {
            run.valid = false;
        }
        let names: Vec<_> = delivery(&r).into_iter().map(|d| d.variant).collect();
        assert_eq!(names, ["off", "100%"]);
    }
}
