//! Capacity: whether a step held the SLO, the record of a step, and the figures the report
//! derives from a search (cores per 1,000 req/s, the generator's own limit). Pure.

use crate::results::capacity::Step;
use crate::results::{Results, RunResult};
use crate::scenario::capacity::Slo;

/// Whether `run`, a step at `rate` requests/s, held `slo`: `Ok`, or every reason it did not.
pub fn judge(slo: &Slo, rate: f64, run: &RunResult) -> Result<(), String> {
    let mut reasons = Vec::new();
    let l = &run.load;
    if l.requests == 0 {
        reasons.push("no request was measured".to_string());
    }
    let achieved = if rate > 0.0 {
        l.achieved_rps / rate
    } else {
        0.0
    };
    if l.requests > 0 && achieved < slo.min_achieved {
        reasons.push(format!(
            "achieved {:.0} of {rate:.0} req/s ({:.1}%; the SLO asks at least {:.0}%)",
            l.achieved_rps,
            achieved * 100.0,
            slo.min_achieved * 100.0
        ));
    }
    let error_rate = super::ratio::share(l.errors, l.requests);
    if error_rate > slo.max_error_rate {
        reasons.push(format!(
            "{:.2}% of requests failed (the SLO allows {:.2}%)",
            error_rate * 100.0,
            slo.max_error_rate * 100.0
        ));
    }
    if l.requests > 0 && run.latency_us.p99 > slo.p99_us {
        reasons.push(format!(
            "p99 was {} against the SLO's {}",
            ms(run.latency_us.p99),
            ms(slo.p99_us)
        ));
    }
    // Anything else that spoiled the run (a target process died, say) fails the step too.
    if reasons.is_empty() && !run.valid {
        reasons.push(
            run.invalid_reason
                .clone()
                .unwrap_or_else(|| "the run is invalid".into()),
        );
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons.join("; "))
    }
}

/// µs as milliseconds, for messages.
pub fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

/// The record of a step at `rate` measured by `run` in `attempts` attempts, judged `verdict`.
pub fn step(rate: f64, run: &RunResult, attempts: u32, verdict: &Result<(), String>) -> Step {
    Step {
        rate,
        achieved_rps: run.load.achieved_rps,
        p50_us: run.latency_us.p50,
        p99_us: run.latency_us.p99,
        requests: run.load.requests,
        errors: run.load.errors,
        cpu_us_per_request: run.cpu.target_us_per_request,
        target_cores: run.cpu.target_cores,
        generator_us_per_request: run.cpu.generator_us_per_request,
        generator_cores: run.cpu.generator_cores,
        attempts,
        pass: verdict.is_ok(),
        reason: verdict.clone().err(),
    }
}

/// Target cores per 1,000 requests/s at `cpu_us_per_request` µs of CPU per request.
pub fn cores_per_thousand(cpu_us_per_request: f64) -> f64 {
    cpu_us_per_request * 1_000.0 / 1e6
}

/// Instances a variant needs for the load the baseline's fleet serves at capacity, as a
/// change: a capacity ratio (variant / baseline) of 0.8 needs 25% more (`0.25`).
pub fn extra_instances(capacity_ratio: f64) -> Option<f64> {
    (capacity_ratio > 0.0).then(|| 1.0 / capacity_ratio - 1.0)
}

/// The median of the capacities found so far for `variant` in `runs`: the seed of its next
/// search.
pub fn seed(runs: &[RunResult], variant: &str) -> Option<f64> {
    let found: Vec<f64> = runs
        .iter()
        .filter(|r| r.variant == variant && r.replaced_by.is_none())
        .filter_map(|r| r.capacity.as_ref()?.capacity_rps)
        .collect();
    super::median::median(&found)
}

/// The load generator's own limit, from every step it measured: how much of its CPUs the
/// busiest step used, and the rate one generator CPU would sustain at its median CPU per
/// request.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorLimit {
    /// Median generator (harness) CPU per request over every step, µs.
    pub us_per_request: f64,
    /// Requests/s one generator CPU sustains at that cost.
    pub rps_per_cpu: f64,
    /// The highest offered rate of any step.
    pub highest_step: f64,
    /// The most generator cores any step used.
    pub peak_cores: f64,
}

/// The generator's limit over every step of `results`, or `None` without steps.
pub fn generator_limit(results: &Results) -> Option<GeneratorLimit> {
    let steps: Vec<&Step> = results
        .runs
        .iter()
        .filter_map(|r| r.capacity.as_ref())
        .flat_map(|c| &c.steps)
        .filter(|s| s.requests > 0 && s.generator_us_per_request > 0.0)
        .collect();
    if steps.is_empty() {
        return None;
    }
    let per: Vec<f64> = steps.iter().map(|s| s.generator_us_per_request).collect();
    let us_per_request = super::median::median(&per)?;
    Some(GeneratorLimit {
        us_per_request,
        rps_per_cpu: 1e6 / us_per_request,
        highest_step: steps.iter().map(|s| s.rate).fold(0.0, f64::max),
        peak_cores: steps.iter().map(|s| s.generator_cores).fold(0.0, f64::max),
    })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use super::*;
    use crate::results::capacity::CapacityRun;
    use crate::results::fixture;

    fn slo() -> Slo {
        Slo {
            p99_us: 5_000,
            max_error_rate: 0.01,
            min_achieved: 0.98,
        }
    }

    fn at(rate: f64, achieved: f64, p99: u64, errors: u64) -> RunResult {
        let mut r = fixture::run("off", 1, 300.0);
        r.load.target_rps = Some(rate);
        r.load.achieved_rps = achieved;
        r.load.requests = 1_000;
        r.load.errors = errors;
        r.latency_us.p99 = p99;
        r
    }

    #[test]
    fn a_step_passes_only_when_it_holds_every_bound() {
        assert_eq!(judge(&slo(), 500.0, &at(500.0, 499.0, 4_000, 0)), Ok(()));
        let e = judge(&slo(), 500.0, &at(500.0, 400.0, 9_000, 50)).unwrap_err();
        assert!(e.contains("achieved 400 of 500 req/s (80.0%"), "{e}");
        assert!(
            e.contains("5.00% of requests failed (the SLO allows 1.00%)"),
            "{e}"
        );
        assert!(
            e.contains("p99 was 9.00 ms against the SLO's 5.00 ms"),
            "{e}"
        );
        // Exactly at the bound passes.
        assert_eq!(judge(&slo(), 500.0, &at(500.0, 490.0, 5_000, 10)), Ok(()));
    }

    #[test]
    fn a_run_spoiled_otherwise_fails_its_step_with_that_reason() {
        let mut r = at(500.0, 499.0, 1_000, 0);
        r.valid = false;
        r.invalid_reason = Some("the web process exited with status 101".into());
        assert_eq!(
            judge(&slo(), 500.0, &r),
            Err("the web process exited with status 101".into())
        );
        let mut none = at(500.0, 0.0, 0, 0);
        none.load.requests = 0;
        assert_eq!(
            judge(&slo(), 500.0, &none),
            Err("no request was measured".into())
        );
    }

    #[test]
    fn seeds_are_the_median_of_found_capacities() {
        let mut runs = Vec::new();
        for (c, v) in [
            (Some(900.0), "off"),
            (None, "off"),
            (Some(1_100.0), "off"),
            (Some(5.0), "100%"),
        ] {
            let mut r = fixture::run(v, 1, 300.0);
            r.capacity = Some(CapacityRun {
                capacity_rps: c,
                ..CapacityRun::default()
            });
            runs.push(r);
        }
        assert_eq!(seed(&runs, "off"), Some(1_000.0));
        assert_eq!(seed(&runs, "10%"), None);
    }

    #[test]
    fn the_generator_limit_comes_from_every_step() {
        let mut results = fixture::results();
        let step = |rate: f64, us: f64, cores: f64| Step {
            rate,
            requests: 100,
            generator_us_per_request: us,
            generator_cores: cores,
            ..Step::default()
        };
        results.runs[0].capacity = Some(CapacityRun {
            steps: vec![step(100.0, 100.0, 0.01), step(1_600.0, 50.0, 0.08)],
            ..CapacityRun::default()
        });
        results.runs[1].capacity = Some(CapacityRun {
            steps: vec![step(800.0, 80.0, 0.064)],
            ..CapacityRun::default()
        });
        let g = generator_limit(&results).unwrap();
        assert_eq!(g.us_per_request, 80.0);
        assert_eq!(g.rps_per_cpu, 12_500.0);
        assert_eq!(g.highest_step, 1_600.0);
        assert_eq!(g.peak_cores, 0.08);
        assert_eq!(cores_per_thousand(250.0), 0.25);
        assert_eq!(extra_instances(0.8), Some(0.25));
        assert_eq!(extra_instances(0.0), None);
    }
}
