//! Did every variant get the valid runs it asked for? Behind `run`'s exit code and the
//! headline "9 runs valid (2 replaced)". Pure.

use crate::results::Results;

/// A variant that ended with fewer valid runs than asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// The variant.
    pub variant: String,
    /// Its valid kept runs.
    pub valid: u32,
    /// Valid runs asked for.
    pub wanted: u32,
    /// Why its other kept runs are invalid: `repetition N: reason`.
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` has {} of {} valid runs ({})",
            self.variant,
            self.valid,
            self.wanted,
            if self.reasons.is_empty() {
                "runs missing".to_string()
            } else {
                self.reasons.join("; ")
            }
        )
    }
}

/// The plan's tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    /// Runs kept (one per place of the plan that ran).
    pub kept: usize,
    /// Of those, valid.
    pub valid: usize,
    /// Attempts replaced by a later attempt of their place.
    pub replaced: usize,
    /// Variants short of valid runs.
    pub short: Vec<Shortfall>,
}

impl Completeness {
    /// "9 runs valid (2 replaced)", or "8 of 9 runs valid (3 replaced)".
    pub fn headline(&self) -> String {
        let valid = if self.valid == self.kept {
            format!("{} runs valid", self.kept)
        } else {
            format!("{} of {} runs valid", self.valid, self.kept)
        };
        if self.replaced == 0 {
            valid
        } else {
            format!("{valid} ({} replaced)", self.replaced)
        }
    }
}

/// Counts valid kept runs per variant against the scenario's repetitions (files written before
/// repetitions were recorded: every kept run must be valid).
pub fn completeness(results: &Results) -> Completeness {
    let kept: Vec<_> = results.kept_runs().collect();
    let short = results
        .scenario
        .variants
        .iter()
        .filter_map(|v| {
            let runs: Vec<_> = kept.iter().filter(|r| &r.variant == v).collect();
            let valid = runs.iter().filter(|r| r.valid).count();
            let wanted = match results.scenario.repetitions {
                0 => runs.len(),
                n => n as usize,
            };
            (valid < wanted).then(|| Shortfall {
                variant: v.clone(),
                valid: valid as u32,
                wanted: wanted as u32,
                reasons: runs
                    .iter()
                    .filter(|r| !r.valid)
                    .map(|r| {
                        format!(
                            "repetition {}: {}",
                            r.repetition,
                            r.invalid_reason.as_deref().unwrap_or("invalid")
                        )
                    })
                    .collect(),
            })
        })
        .collect();
    Completeness {
        kept: kept.len(),
        valid: kept.iter().filter(|r| r.valid).count(),
        replaced: results.runs.len() - kept.len(),
        short,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture;

    #[test]
    fn a_full_plan_is_complete() {
        let c = completeness(&fixture::results());
        assert_eq!((c.kept, c.valid, c.replaced), (9, 9, 0));
        assert!(c.short.is_empty());
        assert_eq!(c.headline(), "9 runs valid");
    }

    #[test]
    fn a_replaced_attempt_does_not_count_against_the_plan() {
        let mut r = fixture::results();
        let mut late = r.runs[2].clone();
        late.valid = false;
        late.latency_only = true;
        late.invalid_reason = Some("scheduling lag p99 2000 µs exceeds 1000 µs".into());
        late.replaced_by = Some(2);
        r.runs[2].attempt = 2;
        r.runs.insert(2, late);
        let c = completeness(&r);
        assert_eq!((c.kept, c.valid, c.replaced), (9, 9, 1));
        assert!(c.short.is_empty());
        assert_eq!(c.headline(), "9 runs valid (1 replaced)");
    }

    #[test]
    fn a_variant_short_of_valid_runs_is_named_with_its_reasons() {
        let mut r = fixture::results();
        r.runs[5].valid = false; // 100%, repetition 2
        r.runs[5].invalid_reason = Some("the web process exited".into());
        let c = completeness(&r);
        assert_eq!(c.short.len(), 1);
        assert_eq!(
            c.short[0].to_string(),
            "`100%` has 2 of 3 valid runs (repetition 2: the web process exited)"
        );
        assert_eq!(c.headline(), "8 of 9 runs valid");
    }

    #[test]
    fn a_run_invalid_for_latency_only_is_not_a_valid_one() {
        let mut r = fixture::results();
        r.runs[0].valid = false;
        r.runs[0].latency_only = true;
        assert_eq!(completeness(&r).short[0].variant, "off");
    }

    #[test]
    fn missing_runs_are_short() {
        let mut r = fixture::results();
        r.runs.truncate(6); // interrupted after two blocks
        let c = completeness(&r);
        assert_eq!(c.short.len(), 3);
        assert!(
            c.short[0]
                .to_string()
                .contains("2 of 3 valid runs (runs missing)")
        );
    }
}
