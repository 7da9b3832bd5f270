//! One capacity search (`load.model = "capacity"`): each step is an ordinary measured run at
//! the rate the search asks for (target started afresh, warm-up, window, stop); the search's
//! record is a run whose figures are those of its capacity step, with every step kept.

use tokio::sync::watch;

use super::{Ctx, Interrupted, one_line, run_one};
use crate::plan::PlannedRun;
use crate::plan::capacity::{End, Next, Search};
use crate::results::capacity::{CapacityRun, Outcome, Step};
use crate::results::{self, RunResult};
use crate::scenario::{Model, Scenario, Variant};
use crate::stats::capacity as judge;

/// `scenario` with its load an open-model window at `rate`, and the SLO's error limit.
pub(super) fn at_rate(scenario: &Scenario, rate: f64) -> Scenario {
    let mut s = scenario.clone();
    s.load.model = Model::Rate;
    s.load.rate = Some(rate);
    if let Some(plan) = &scenario.capacity {
        s.max_error_rate = plan.slo.max_error_rate;
    }
    s
}

/// What a search measured.
#[derive(Default)]
struct Measured {
    steps: Vec<Step>,
    /// The run of the highest passing step.
    best: Option<RunResult>,
    /// The run of the lowest failing step.
    lowest_fail: Option<RunResult>,
}

impl Measured {
    fn keep(&mut self, rate: f64, run: RunResult, pass: bool) {
        let slot = if pass {
            &mut self.best
        } else {
            &mut self.lowest_fail
        };
        let better = slot.as_ref().is_none_or(|r| {
            let old = r.load.target_rps.unwrap_or(0.0);
            if pass { rate > old } else { rate < old }
        });
        if better {
            *slot = Some(run);
        }
    }

    fn reason_at(&self, rate: f64) -> String {
        self.steps
            .iter()
            .rev()
            // The same f64 the search produced and the step recorded.
            .find(|s| s.rate.total_cmp(&rate).is_eq())
            .and_then(|s| s.reason.clone())
            .unwrap_or_default()
    }
}

/// Why a search stopped before the search itself ended.
enum Stop {
    /// The step at this rate was spoiled by the generator on every attempt.
    Generator(f64),
    /// The step at this rate measured nothing (the target or its storage did not start).
    Failed(f64),
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// Runs the search for `variant` (seeded with `seed`, the median of its earlier capacities)
/// and returns its record.
pub(super) async fn search(
    ctx: &Ctx<'_>,
    variant: &Variant,
    planned: PlannedRun,
    idle: Option<&results::IdleShutdown>,
    seed: Option<f64>,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<RunResult> {
    let Some(plan) = ctx.scenario.capacity else {
        anyhow::bail!("a capacity search needs the scenario's [capacity] and [slo]");
    };
    let mut search = Search::new(&plan.search, seed);
    let mut m = Measured::default();
    let end = loop {
        let rate = match search.next() {
            Next::Done(end) => break Ok(end),
            Next::Measure(rate) => rate,
        };
        let scenario = at_rate(ctx.scenario, rate);
        let step_ctx = Ctx {
            scenario: &scenario,
            ..ctx.clone()
        };
        let mut attempts = 0;
        let run = loop {
            attempts += 1;
            eprintln!(
                "otelbench:   step {}: {rate:.0} req/s{}",
                search.steps() + 1,
                if attempts > 1 {
                    format!(", attempt {attempts}")
                } else {
                    String::new()
                }
            );
            match run_one(&step_ctx, variant, planned, idle, cancel).await {
                Ok(run) if run.transient && attempts <= ctx.scenario.retries.per_run => {
                    eprintln!("otelbench:     {}; the generator's: again", one_line(&run));
                }
                Ok(run) => break Some(run),
                Err(e) if e.is::<Interrupted>() => break None,
                Err(e) => return Err(e),
            }
        };
        let Some(run) = run else {
            break Err(Stop::Interrupted);
        };
        if run.transient {
            let verdict = Err(format!(
                "the generator, not the target, was the limit: {}",
                run.invalid_reason.clone().unwrap_or_default()
            ));
            m.steps.push(judge::step(rate, &run, attempts, &verdict));
            eprintln!("otelbench:     {}", one_line(&run));
            break Err(Stop::Generator(rate));
        }
        let verdict = judge::judge(&plan.slo, rate, &run);
        m.steps.push(judge::step(rate, &run, attempts, &verdict));
        eprintln!(
            "otelbench:     {:.0} req/s, p50 {}, p99 {}, target CPU {:.0} µs/request: {}",
            run.load.achieved_rps,
            judge::ms(run.latency_us.p50),
            judge::ms(run.latency_us.p99),
            run.cpu.target_us_per_request,
            match &verdict {
                Ok(()) => "holds the SLO".to_string(),
                Err(why) => format!("fails: {why}"),
            }
        );
        if run.load.requests_total == 0 {
            break Err(Stop::Failed(rate));
        }
        search.record(rate, verdict.is_ok());
        m.keep(rate, run, verdict.is_ok());
    };
    Ok(record(ctx.scenario, variant, planned, seed, m, &end))
}

/// The search's record: the capacity step's run with every step, valid only when the capacity
/// was found.
fn record(
    scenario: &Scenario,
    variant: &Variant,
    planned: PlannedRun,
    seed: Option<f64>,
    m: Measured,
    end: &Result<End, Stop>,
) -> RunResult {
    let (outcome, capacity, summary) = describe(&m, end);
    eprintln!("otelbench:   {}: {summary}", variant.name);
    let found = outcome == Outcome::Found;
    let mut run = match (m.best.clone(), m.lowest_fail.clone()) {
        (Some(best), _) if found => best,
        (_, Some(fail)) => fail,
        (Some(best), None) => best,
        (None, None) => super::record::failed_run(scenario, variant, planned, &summary),
    };
    run.repetition = planned.repetition;
    run.attempt = 1;
    run.transient = false;
    run.valid = found;
    run.latency_only = false;
    run.invalid_reason = (!found).then(|| super::redact::credentials(&summary));
    run.load.model = Model::Capacity.name().into();
    run.capacity = Some(CapacityRun {
        capacity_rps: capacity,
        outcome: Some(outcome),
        summary,
        seeded_from: seed,
        steps: m.steps,
    });
    run
}

/// The outcome, the capacity (when found) and the outcome in words.
fn describe(m: &Measured, end: &Result<End, Stop>) -> (Outcome, Option<f64>, String) {
    let highest_pass = m.best.as_ref().and_then(|r| r.load.target_rps);
    let held = highest_pass
        .map(|p| format!("; it held the SLO up to {p:.0} req/s"))
        .unwrap_or_default();
    match end {
        Ok(End::Found(c)) => {
            let above = m
                .lowest_fail
                .as_ref()
                .and_then(|r| r.load.target_rps)
                .unwrap_or(*c);
            (
                Outcome::Found,
                Some(*c),
                format!(
                    "capacity {c:.0} req/s: {c:.0} req/s held the SLO, {above:.0} did not ({})",
                    m.reason_at(above)
                ),
            )
        }
        Ok(End::NoneMeets) => {
            let lowest = m.steps.iter().map(|s| s.rate).fold(f64::INFINITY, f64::min);
            (
                Outcome::NoRateMeetsSlo,
                None,
                format!(
                    "no rate meets the SLO: at the lowest step ({lowest:.0} req/s) {}; fix: \
                     loosen [slo], or lower capacity.min_rate if a lower rate might hold it",
                    m.reason_at(lowest)
                ),
            )
        }
        Ok(End::Ceiling(c)) => (
            Outcome::Ceiling,
            None,
            format!(
                "the SLO held at capacity.max_rate ({c:.0} req/s): the capacity is at least \
                 that; fix: raise capacity.max_rate"
            ),
        ),
        Ok(End::StepLimit(pass, fail)) => (
            Outcome::StepLimit,
            None,
            format!(
                "capacity.max_steps ran out with the capacity between {} and {} req/s; fix: \
                 raise max_steps or widen capacity.precision",
                pass.map_or("–".into(), |p| format!("{p:.0}")),
                fail.map_or("–".into(), |f| format!("{f:.0}")),
            ),
        ),
        Err(Stop::Generator(rate)) => (
            Outcome::GeneratorBound,
            None,
            format!(
                "generator-bound at {rate:.0} req/s ({}){held}: the target's capacity was not \
                 reached, and a step the generator limits is never taken as the target's; fix: \
                 give the generator more CPUs (placement.generator_cpus) or lower \
                 capacity.max_rate",
                m.reason_at(*rate)
            ),
        ),
        Err(Stop::Failed(rate)) => (
            Outcome::StepFailed,
            None,
            format!(
                "the step at {rate:.0} req/s measured nothing: {}",
                m.reason_at(*rate)
            ),
        ),
        Err(Stop::Interrupted) => (
            Outcome::StepFailed,
            None,
            format!("interrupted after {} steps{held}", m.steps.len()),
        ),
    }
}

/// The wall-time estimate printed before a capacity plan starts.
pub(super) fn estimate(scenario: &Scenario) -> Option<String> {
    let plan = scenario.capacity?;
    let (fewest, most, seeded) = crate::plan::capacity::expected_steps(&plan.search);
    let l = &scenario.load;
    // Start, set-up, warm-up, window, stop and flush.
    let step_s =
        l.warmup_s + l.duration_s + crate::load::setup_allowance(l.users).as_secs_f64() + 2.5;
    let variants = scenario.variants.len() as f64;
    let later = f64::from(scenario.repetitions.saturating_sub(1)) * f64::from(seeded);
    let minutes = |first: u32| variants * (f64::from(first) + later) * step_s / 60.0;
    let (lo, hi) = (minutes(fewest).round(), minutes(most).round());
    let span = if hi > lo {
        format!("{lo:.0} to {hi:.0}")
    } else {
        format!("{:.0}", hi.max(1.0))
    };
    Some(format!(
        "capacity search: {} variants x {} repetitions; a first search takes {fewest} to {most} \
         steps, a later one (started at the median so far) about {seeded}; a step takes about \
         {step_s:.0} s: about {span} min",
        scenario.variants.len(),
        scenario.repetitions,
    ))
}
