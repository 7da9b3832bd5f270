//! The ranges a scenario's numbers may take: what the code can represent (durations and
//! `Instant` arithmetic) and what makes sense for a benchmark. One place, so the scenario's
//! validation and the command line's overrides agree.

/// A closed or half-open range of a number, with the unit said in messages.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Smallest value allowed.
    pub min: f64,
    /// Whether `min` itself is allowed.
    pub min_included: bool,
    /// Largest value allowed (included).
    pub max: f64,
    /// Unit, for messages.
    pub unit: &'static str,
    /// An example value, for the fix.
    pub example: &'static str,
}

/// Measured seconds per run: more than 0, at most a day.
pub const DURATION_S: Limit = Limit {
    min: 0.0,
    min_included: false,
    max: 86_400.0,
    unit: "seconds",
    example: "10",
};
/// Warm-up seconds: 0 to a day.
pub const WARMUP_S: Limit = Limit {
    min: 0.0,
    min_included: true,
    max: 86_400.0,
    unit: "seconds",
    example: "5",
};
/// Per-request time-out: more than 0, at most an hour.
pub const TIMEOUT_S: Limit = Limit {
    min: 0.0,
    min_included: false,
    max: 3_600.0,
    unit: "seconds",
    example: "30",
};
/// Open-model rate: one request every 100 s to a million a second (far past one generator).
pub const RATE: Limit = Limit {
    min: 0.01,
    min_included: true,
    max: 1_000_000.0,
    unit: "requests per second",
    example: "400",
};

/// Repetitions per variant, at most (each is a whole run of every variant).
pub const MAX_REPETITIONS: u32 = 10_000;
/// Users (requests in flight, or closed-loop users), at most: each is a task with its own
/// connection and timer.
pub const MAX_USERS: u32 = 100_000;

impl Limit {
    /// `None` when `v` is in range, else what is wrong with it and how to fix it.
    pub fn check(&self, v: f64) -> Option<(String, String)> {
        let above_min = if self.min_included {
            v >= self.min
        } else {
            v > self.min
        };
        if v.is_finite() && above_min && v <= self.max {
            return None;
        }
        let low = if self.min_included {
            format!("from {}", self.min)
        } else {
            format!("greater than {}", self.min)
        };
        Some((
            format!("{v} is out of range ({low} to {} {})", self.max, self.unit),
            format!(
                "give {low} to {} {}, e.g. {}",
                self.max, self.unit, self.example
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_past_what_a_duration_holds_are_refused() {
        for bad in [0.0, -1.0, 1e300, f64::INFINITY, f64::NAN, 86_401.0] {
            assert!(DURATION_S.check(bad).is_some(), "{bad}");
        }
        assert!(DURATION_S.check(10.0).is_none());
        assert!(WARMUP_S.check(0.0).is_none());
        assert!(
            RATE.check(1e-300).is_some(),
            "a tiny rate overflows the schedule"
        );
        assert!(RATE.check(0.01).is_none());
        assert!(TIMEOUT_S.check(1e300).is_some());
        let (message, fix) = DURATION_S.check(1e300).unwrap();
        assert!(message.contains("out of range"), "{message}");
        assert!(fix.contains("e.g. 10"), "{fix}");
    }

    #[test]
    fn every_value_in_range_makes_a_schedule_without_overflow() {
        // The largest schedule: the slowest rate over the longest warm-up and run.
        let slots = (WARMUP_S.max + DURATION_S.max) * RATE.max;
        let last = crate::load::pacing::slot_offset(slots as u64, RATE.max);
        assert!(std::time::Instant::now().checked_add(last).is_some());
        let first_of_slowest = crate::load::pacing::slot_offset(100_000, RATE.min);
        assert!(
            std::time::Instant::now()
                .checked_add(first_of_slowest)
                .is_some()
        );
    }
}
