//! The A/B of two builds in one results file (`run --baseline-target --candidate-target`): the
//! candidate's runs judged against the base's, variant by variant, with `compare`'s statistics
//! and gate. Both sides ran interleaved on one machine, so the drift between two files made at
//! different times (the reason a stored baseline raises false alarms) does not enter.

use std::collections::BTreeMap;

use super::compare::{self, Comparison, Mismatch};
use crate::results::Results;
use crate::scenario::ab::AbPair;

/// The base's and the candidate's runs as two results files of the scenario's own variants
/// (`off [base]` becomes `off`), or `None` when `results` is not an A/B.
pub fn sides(results: &Results) -> Option<(Results, Results)> {
    let plan = results.scenario.ab.as_ref()?;
    let baseline = plan
        .pairs
        .iter()
        .find(|p| p.base == results.scenario.baseline)
        .map_or_else(|| results.scenario.baseline.clone(), |p| p.variant.clone());
    let side = |name: fn(&AbPair) -> &str| {
        let original: BTreeMap<&str, &str> = plan
            .pairs
            .iter()
            .map(|p| (name(p), p.variant.as_str()))
            .collect();
        let mut r = results.clone();
        r.runs = results
            .runs
            .iter()
            .filter_map(|run| {
                let variant = original.get(run.variant.as_str())?;
                let mut run = run.clone();
                run.variant = (*variant).to_string();
                Some(run)
            })
            .collect();
        r.scenario.variants = plan.pairs.iter().map(|p| p.variant.clone()).collect();
        r.scenario.baseline.clone_from(&baseline);
        r.scenario.calibration_variant = None;
        r.scenario.ab = None;
        r.summary.clear();
        r
    };
    Some((side(|p| p.base.as_str()), side(|p| p.candidate.as_str())))
}

/// The candidate against the base under the plan's gate, or `None` when `results` is not an
/// A/B. The error says what could not be judged (too few valid runs of a gated metric).
pub fn judge(results: &Results) -> Option<Result<Comparison, Mismatch>> {
    let plan = results.scenario.ab.as_ref()?;
    let (base, candidate) = sides(results)?;
    Some(compare::compare(&base, &candidate, &plan.gate))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are meant
mod tests {
    use super::*;
    use crate::results::{Verdict, fixture};
    use crate::scenario::ab::{AbPlan, side_name};

    /// The fixture's three variants measured on two builds, the candidate's 100% costing
    /// `extra` more CPU per request.
    fn ab(extra: f64) -> Results {
        let mut r = fixture::results();
        let variants = r.scenario.variants.clone();
        let mut runs = Vec::new();
        for run in &r.runs {
            for side in ["base", "candidate"] {
                let mut run = run.clone();
                if side == "candidate" && run.variant == "100%" {
                    run.cpu.target_us_per_request *= 1.0 + extra;
                }
                run.variant = side_name(&run.variant, side);
                runs.push(run);
            }
        }
        r.runs = runs;
        r.scenario.variants = variants
            .iter()
            .flat_map(|v| [side_name(v, "base"), side_name(v, "candidate")])
            .collect();
        r.scenario.baseline = side_name("off", "base");
        r.scenario.ab = Some(AbPlan {
            base: "base/target-app".into(),
            candidate: "head/target-app".into(),
            pairs: variants
                .iter()
                .map(|v| AbPair {
                    variant: v.clone(),
                    base: side_name(v, "base"),
                    candidate: side_name(v, "candidate"),
                })
                .collect(),
            gate: [("cpu_per_request".to_string(), 0.05)].into(),
            strict: false,
        });
        r
    }

    #[test]
    fn sides_hold_each_build_under_the_scenario_names() {
        let r = ab(0.0);
        let (base, candidate) = sides(&r).unwrap();
        assert_eq!(base.scenario.variants, ["off", "10%", "100%"]);
        assert_eq!(base.scenario.baseline, "off");
        assert_eq!(base.runs.len(), 9);
        assert_eq!(candidate.runs.len(), 9);
        assert!(candidate.runs.iter().all(|run| !run.variant.contains('[')));
        assert!(sides(&fixture::results()).is_none(), "not an A/B");
    }

    #[test]
    fn a_candidate_costing_more_fails_the_gate_and_an_equal_one_passes() {
        let same = judge(&ab(0.0)).unwrap().unwrap();
        let row = |c: &Comparison, v: &str| {
            c.rows
                .iter()
                .find(|r| r.variant == v && r.metric == "cpu_per_request")
                .unwrap()
                .clone()
        };
        assert_eq!(row(&same, "100%").stats.ratio, Some(1.0));
        assert_eq!(same.outcome(false), compare::Outcome::Pass);
        let worse = judge(&ab(0.30)).unwrap().unwrap();
        let r = row(&worse, "100%");
        assert_eq!(r.stats.verdict, Verdict::Regression);
        assert!((r.stats.ratio.unwrap() - 1.30).abs() < 1e-9);
        assert_eq!(row(&worse, "off").stats.ratio, Some(1.0));
        assert_eq!(worse.outcome(false), compare::Outcome::Fail);
    }
}
