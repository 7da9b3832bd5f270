//! When a run's figures cannot be trusted. Pure: every input is a measured number.

/// The generator's scheduling lag p99 above this means it could not keep its schedule (the
/// target-app's own latency is a few hundred µs, so more lag than this distorts it). Time a
/// user spent waiting for its previous response is the target's, not counted here.
pub const MAX_LAG_P99_US: u64 = 1_000;
/// Achieved rate below this share of the target rate is under-delivery.
pub const MIN_RATE_SHARE: f64 = 0.98;
/// Generator CPU above this share of its CPUs means the generator was the bottleneck.
pub const MAX_GENERATOR_SHARE: f64 = 0.90;

/// The measured figures that decide validity.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Requests/s asked for (rate model).
    pub target_rps: Option<f64>,
    /// Requests/s sent and completed in the window.
    pub achieved_rps: f64,
    /// The generator's scheduling lag p99, µs (rate model).
    pub lag_p99_us: Option<u64>,
    /// Harness CPU in cores.
    pub generator_cores: f64,
    /// CPUs the harness may use.
    pub generator_cpus: usize,
    /// Failed / measured requests.
    pub error_rate: f64,
    /// The scenario's limit.
    pub max_error_rate: f64,
    /// Requests measured.
    pub requests: u64,
    /// A target process died or misbehaved.
    pub target_problem: Option<String>,
}

/// Every reason the run's latency cannot be trusted, while its CPU, memory and delivery can:
/// the generator sent late, and latency is timed from the intended send time.
pub fn latency_reasons(h: &Health) -> Vec<String> {
    h.lag_p99_us
        .filter(|l| *l > MAX_LAG_P99_US)
        .map(|lag| format!("scheduling lag p99 {lag} µs exceeds {MAX_LAG_P99_US} µs: the generator fell behind its schedule (latency left out, CPU and memory kept)"))
        .into_iter()
        .collect()
}

/// True when the run is invalid and every reason is the generator's or the machine's, not the
/// target's: a late generator (lag), a saturated generator, and a rate short only because of
/// one of those. Such a run is worth running again; a target that died, failed requests or
/// could not hold the rate with a punctual generator is a result.
pub fn transient(h: &Health) -> bool {
    let late = !latency_reasons(h).is_empty();
    let saturated = saturated(h);
    let short = under_delivered(h);
    let target_side = h.target_problem.is_some()
        || h.requests == 0
        || h.error_rate > h.max_error_rate
        || (short && !late && !saturated);
    (late || saturated) && !target_side
}

fn under_delivered(h: &Health) -> bool {
    h.target_rps
        .is_some_and(|t| h.achieved_rps < t * MIN_RATE_SHARE)
}

fn saturated(h: &Health) -> bool {
    h.generator_cores > h.generator_cpus.max(1) as f64 * MAX_GENERATOR_SHARE
}

/// Every reason none of the run's figures can be trusted (empty: valid, unless
/// [`latency_reasons`] has one for its latency).
pub fn invalid_reasons(h: &Health) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(problem) = &h.target_problem {
        reasons.push(problem.clone());
    }
    if h.requests == 0 {
        reasons.push("no request was measured".into());
    }
    if let Some(target) = h.target_rps.filter(|t| h.achieved_rps < t * MIN_RATE_SHARE) {
        reasons.push(format!(
            "achieved {:.1} req/s, {:.1}% below the target {target} req/s (limit 2%)",
            h.achieved_rps,
            (1.0 - h.achieved_rps / target) * 100.0
        ));
    }
    if saturated(h) {
        reasons.push(format!(
            "the generator used {:.2} cores of {} (limit {:.0}%): it was the bottleneck",
            h.generator_cores,
            h.generator_cpus,
            MAX_GENERATOR_SHARE * 100.0
        ));
    }
    if h.error_rate > h.max_error_rate {
        reasons.push(format!(
            "{:.2}% of requests failed (limit {:.2}%)",
            h.error_rate * 100.0,
            h.max_error_rate * 100.0
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Health {
        Health {
            target_rps: Some(1000.0),
            achieved_rps: 995.0,
            lag_p99_us: Some(80),
            generator_cores: 0.3,
            generator_cpus: 1,
            error_rate: 0.0,
            max_error_rate: 0.01,
            requests: 9950,
            target_problem: None,
        }
    }

    #[test]
    fn a_healthy_run_is_valid() {
        assert!(invalid_reasons(&healthy()).is_empty());
    }

    #[test]
    fn each_condition_invalidates_with_its_reason() {
        let cases: Vec<(Health, &str)> = vec![
            (
                Health {
                    achieved_rps: 970.0,
                    ..healthy()
                },
                "below the target",
            ),
            (
                Health {
                    generator_cores: 0.95,
                    ..healthy()
                },
                "bottleneck",
            ),
            (
                Health {
                    error_rate: 0.05,
                    ..healthy()
                },
                "failed",
            ),
            (
                Health {
                    target_problem: Some("the web process exited".into()),
                    ..healthy()
                },
                "exited",
            ),
            (
                Health {
                    requests: 0,
                    ..healthy()
                },
                "no request",
            ),
        ];
        for (h, needle) in cases {
            let reasons = invalid_reasons(&h);
            assert_eq!(reasons.len(), 1, "{reasons:?}");
            assert!(reasons[0].contains(needle), "{reasons:?}");
            assert!(latency_reasons(&h).is_empty(), "{needle}");
        }
    }

    #[test]
    fn a_late_generator_costs_the_latency_only() {
        let late = Health {
            lag_p99_us: Some(5_000),
            ..healthy()
        };
        assert!(invalid_reasons(&late).is_empty());
        let reasons = latency_reasons(&late);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].contains("scheduling lag p99 5000 µs"),
            "{reasons:?}"
        );
        assert!(latency_reasons(&healthy()).is_empty());
    }

    #[test]
    fn only_the_generators_own_trouble_is_transient() {
        let h = healthy();
        assert!(!transient(&h), "a valid run is not retried");
        let late = Health {
            lag_p99_us: Some(5_000),
            ..healthy()
        };
        assert!(transient(&late));
        let saturated = Health {
            generator_cores: 0.95,
            ..healthy()
        };
        assert!(transient(&saturated));
        let late_and_short = Health {
            achieved_rps: 900.0,
            ..late.clone()
        };
        assert!(
            transient(&late_and_short),
            "short because the generator was late"
        );
        let short = Health {
            achieved_rps: 900.0,
            ..healthy()
        };
        assert!(
            !transient(&short),
            "a punctual generator: the target could not keep up"
        );
        for target in [
            Health {
                target_problem: Some("the web process exited".into()),
                ..late.clone()
            },
            Health {
                error_rate: 0.05,
                ..late.clone()
            },
            Health {
                requests: 0,
                ..late.clone()
            },
        ] {
            assert!(!transient(&target), "{target:?}");
        }
    }

    #[test]
    fn the_closed_model_has_no_rate_or_lag_limit() {
        let h = Health {
            target_rps: None,
            lag_p99_us: None,
            achieved_rps: 1.0,
            ..healthy()
        };
        assert!(invalid_reasons(&h).is_empty());
        assert!(latency_reasons(&h).is_empty());
    }
}
