//! Replacing transient failures. A run invalid only for the generator's or the machine's
//! sake (`health::transient`: a late or saturated generator) is run again in its place in the
//! plan, up to `max_retries` times per place and `max_total_retries` over the plan. Every
//! attempt stays in results.json; all but the kept one carry `replaced_by`, and the statistics
//! use the kept one. A target's own failure (a crash, errors, a rate it could not hold) is a
//! result and is never run again.

use crate::results::{Results, RunResult};
use crate::scenario::Retries;

/// The retries left.
#[derive(Debug, Clone)]
pub struct Budget {
    per_run: u32,
    left: u32,
    used: u32,
}

impl Budget {
    /// The budget of a plan of `runs` runs.
    pub fn new(retries: Retries, runs: usize) -> Self {
        Self {
            per_run: retries.per_run,
            left: retries.total_for(runs),
            used: 0,
        }
    }

    /// Retries spent so far.
    pub fn used(&self) -> u32 {
        self.used
    }

    /// Whether to run a place of the plan again after `attempts` (all of its attempts so far,
    /// in order); takes the retry from the budget when it says yes.
    pub fn retry(&mut self, attempts: &[RunResult]) -> bool {
        let transient = attempts.last().is_some_and(|r| !r.valid && r.transient);
        let tries = u32::try_from(attempts.len()).unwrap_or(u32::MAX);
        let again = transient && tries <= self.per_run && self.left > 0;
        if again {
            self.left -= 1;
            self.used += 1;
        }
        again
    }
}

/// Marks every attempt of one place but the kept one with `replaced_by`. Kept: a valid
/// attempt, else one invalid for its latency only (its CPU and memory count), else any; the
/// latest among equals.
pub fn settle(attempts: &mut [RunResult]) {
    let rank = |r: &RunResult| match (r.valid, r.latency_only) {
        (true, _) => 2,
        (false, true) => 1,
        (false, false) => 0,
    };
    let Some(kept) = attempts
        .iter()
        .enumerate()
        .max_by_key(|(i, r)| (rank(r), *i))
        .map(|(_, r)| r.attempt)
    else {
        return;
    };
    for r in attempts.iter_mut() {
        r.replaced_by = (r.attempt != kept).then_some(kept);
    }
}

/// Runs one place of the plan: `attempt(n)` makes attempt `n` (1-based), until one stands or
/// the budget says no. Each attempt is appended to `results.runs` and settled, then
/// `saved(results, again)` is called (`again`: another attempt follows). An error from
/// `attempt` (an interrupt) ends the place at once.
pub async fn run_place(
    results: &mut Results,
    budget: &mut Budget,
    mut attempt: impl AsyncFnMut(u32) -> anyhow::Result<RunResult>,
    mut saved: impl FnMut(&mut Results, bool) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let start = results.runs.len();
    let mut n = 1;
    loop {
        let mut run = attempt(n).await?;
        run.attempt = n;
        results.runs.push(run);
        settle(&mut results.runs[start..]);
        let again = budget.retry(&results.runs[start..]);
        saved(results, again)?;
        if !again {
            return Ok(());
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture;

    /// A run of the fixture's first variant: valid, or invalid as `kind` says.
    fn run(kind: &str) -> RunResult {
        let mut r = fixture::results().runs[0].clone();
        match kind {
            "valid" => {}
            "late" => {
                r.valid = false;
                r.latency_only = true;
                r.transient = true;
                r.invalid_reason = Some("scheduling lag p99 4000 µs exceeds 1000 µs".into());
            }
            "saturated" => {
                r.valid = false;
                r.transient = true;
                r.invalid_reason = Some("the generator used 0.95 cores of 1".into());
            }
            "crash" => {
                r.valid = false;
                r.invalid_reason = Some("the web process exited with status 101".into());
            }
            other => unreachable!("{other}"),
        }
        r
    }

    fn empty() -> Results {
        let mut r = fixture::results();
        r.runs.clear();
        r
    }

    /// Runs one place whose attempts come out as `kinds`, with `retries`.
    fn place(kinds: &[&str], retries: Retries, planned: usize) -> (Results, Budget, Vec<bool>) {
        let mut results = empty();
        let mut budget = Budget::new(retries, planned);
        let mut agains = Vec::new();
        let kinds: Vec<String> = kinds.iter().map(ToString::to_string).collect();
        futures::executor::block_on(run_place(
            &mut results,
            &mut budget,
            async |n| Ok(run(&kinds[n as usize - 1])),
            |_, again| {
                agains.push(again);
                Ok(())
            },
        ))
        .unwrap();
        (results, budget, agains)
    }

    const DEFAULT: Retries = Retries {
        per_run: 2,
        total: None,
    };

    #[test]
    fn a_transient_failure_is_replaced_and_kept_in_the_file() {
        let (r, budget, agains) = place(&["late", "valid"], DEFAULT, 9);
        assert_eq!(agains, [true, false]);
        assert_eq!(r.runs.len(), 2);
        assert_eq!((r.runs[0].attempt, r.runs[0].replaced_by), (1, Some(2)));
        assert_eq!((r.runs[1].attempt, r.runs[1].replaced_by), (2, None));
        assert_eq!(budget.used(), 1);
        let kept: Vec<_> = r.kept_runs().collect();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].valid);
    }

    #[test]
    fn a_crash_is_a_result_and_never_run_again() {
        let (r, budget, agains) = place(&["crash"], DEFAULT, 9);
        assert_eq!(agains, [false]);
        assert_eq!(r.runs.len(), 1);
        assert_eq!(r.runs[0].replaced_by, None);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn retries_stop_at_the_per_run_limit_and_keep_the_best_attempt() {
        let (r, budget, agains) = place(&["late", "saturated", "late"], DEFAULT, 9);
        assert_eq!(agains, [true, true, false], "2 retries, then no more");
        assert_eq!(budget.used(), 2);
        // The latest attempt invalid for latency only (CPU and memory still count) is kept.
        let replaced: Vec<_> = r.runs.iter().map(|x| x.replaced_by).collect();
        assert_eq!(replaced, [Some(3), Some(3), None]);
        let (r, _, _) = place(&["late", "saturated", "saturated"], DEFAULT, 9);
        let replaced: Vec<_> = r.runs.iter().map(|x| x.replaced_by).collect();
        assert_eq!(
            replaced,
            [None, Some(1), Some(1)],
            "the latency-only one beats saturated"
        );
    }

    #[test]
    fn the_plan_wide_cap_holds_across_places() {
        let retries = Retries {
            per_run: 2,
            total: Some(1),
        };
        let mut results = empty();
        let mut budget = Budget::new(retries, 9);
        for _ in 0..2 {
            let kinds = ["late", "late", "late"];
            futures::executor::block_on(run_place(
                &mut results,
                &mut budget,
                async |n| Ok(run(kinds[n as usize - 1])),
                |_, _| Ok(()),
            ))
            .unwrap();
        }
        // One retry in all: the first place ran twice, the second once.
        assert_eq!(results.runs.len(), 3);
        assert_eq!(budget.used(), 1);
        assert_eq!(Budget::new(DEFAULT, 9).left, 5, "half the plan by default");
    }

    #[test]
    fn no_retries_when_max_retries_is_zero() {
        let retries = Retries {
            per_run: 0,
            total: None,
        };
        let (r, _, agains) = place(&["late"], retries, 9);
        assert_eq!(agains, [false]);
        assert_eq!(r.runs.len(), 1);
    }

    #[test]
    fn an_interrupt_ends_the_place_with_what_was_saved() {
        let mut results = empty();
        let mut budget = Budget::new(DEFAULT, 9);
        let out = futures::executor::block_on(run_place(
            &mut results,
            &mut budget,
            async |n| {
                if n == 1 {
                    Ok(run("late"))
                } else {
                    Err(anyhow::anyhow!("interrupted"))
                }
            },
            |_, _| Ok(()),
        ));
        assert!(out.is_err());
        assert_eq!(results.runs.len(), 1, "the first attempt stays");
    }
}
