//! The capacity search: which offered rate to measure next, given the steps so far. Pure: the
//! runner measures each step and records whether it held the SLO.
//!
//! The first search of a variant ramps from `start` by `growth` until a step fails (or down by
//! `growth` while the first steps fail), then bisects (geometric midpoint) between the highest
//! passing and the lowest failing rate until they are within `precision` of each other. A later
//! repetition starts at the median of the variant's earlier capacities with a narrow growth
//! (four times the precision), which brackets the same knee in fewer steps; each of its steps is
//! still measured and judged on its own.

use crate::scenario::capacity::Search as Settings;

/// Where a search stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    start: f64,
    growth: f64,
    precision: f64,
    min_rate: f64,
    max_rate: f64,
    max_steps: u32,
    /// Highest rate that held the SLO.
    pass: Option<f64>,
    /// Lowest rate that did not.
    fail: Option<f64>,
    steps: u32,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Measure a step at this offered rate (requests/s).
    Measure(f64),
    /// The search is over.
    Done(End),
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum End {
    /// The capacity: the highest passing rate, with a failing rate within the precision above.
    Found(f64),
    /// Even the lowest rate tried (`min_rate`) failed.
    NoneMeets,
    /// `max_rate` itself passed: the capacity is at least that.
    Ceiling(f64),
    /// `max_steps` were measured before the bracket narrowed: (highest pass, lowest fail).
    StepLimit(Option<f64>, Option<f64>),
}

impl Search {
    /// A search with `settings`; `seed` (a capacity measured before) starts it there with a
    /// growth of four times the precision.
    pub fn new(settings: &Settings, seed: Option<f64>) -> Self {
        let (start, growth) = match seed {
            Some(c) if c.is_finite() && c > 0.0 => (
                c.clamp(settings.min_rate, settings.max_rate),
                1.0 + 4.0 * settings.precision,
            ),
            _ => (settings.start, settings.growth),
        };
        Self {
            start,
            growth,
            precision: settings.precision,
            min_rate: settings.min_rate,
            max_rate: settings.max_rate,
            max_steps: settings.max_steps,
            pass: None,
            fail: None,
            steps: 0,
        }
    }

    /// The next step to measure, or how the search ended.
    pub fn next(&self) -> Next {
        let bracket = match (self.pass, self.fail) {
            (Some(p), Some(f)) if f / p - 1.0 <= self.precision => {
                return Next::Done(End::Found(p));
            }
            (Some(p), _) if p >= self.max_rate => return Next::Done(End::Ceiling(p)),
            (None, Some(f)) if f <= self.min_rate => return Next::Done(End::NoneMeets),
            other => other,
        };
        if self.steps >= self.max_steps {
            return Next::Done(End::StepLimit(self.pass, self.fail));
        }
        Next::Measure(match bracket {
            (None, None) => self.start,
            (Some(p), None) => (p * self.growth).min(self.max_rate),
            (None, Some(f)) => (f / self.growth).max(self.min_rate),
            (Some(p), Some(f)) => (p * f).sqrt(),
        })
    }

    /// Records that the step at `rate` held the SLO (`passed`) or not.
    pub fn record(&mut self, rate: f64, passed: bool) {
        self.steps += 1;
        if passed {
            self.pass = Some(self.pass.map_or(rate, |p| p.max(rate)));
        } else {
            self.fail = Some(self.fail.map_or(rate, |f| f.min(rate)));
        }
    }

    /// Steps measured so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }
}

/// The steps a search with `settings` takes: (fewest, most) for a first search whose capacity
/// lies between `start` and `max_rate`, and the usual count of a seeded one. For the wall-time
/// estimate printed before a plan starts.
pub fn expected_steps(settings: &Settings) -> (u32, u32, u32) {
    let bisect = |growth: f64| -> u32 {
        let halvings = (growth.ln() / settings.precision.ln_1p()).log2().ceil();
        halvings.max(0.0) as u32
    };
    let ramp = ((settings.max_rate / settings.start).ln() / settings.growth.ln()).ceil() as u32;
    let first = bisect(settings.growth);
    let fewest = (2 + first).min(settings.max_steps);
    let most = (ramp + 1 + first).min(settings.max_steps);
    let seeded = (2 + bisect(1.0 + 4.0 * settings.precision)).min(settings.max_steps);
    (fewest, most, seeded)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact rates are meant
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            start: 100.0,
            growth: 2.0,
            precision: 0.02,
            min_rate: 25.0,
            max_rate: 100_000.0,
            max_steps: 30,
        }
    }

    /// Runs a search against a target that holds the SLO below `capacity`; returns the rates
    /// measured and the end.
    fn against(search: &mut Search, capacity: f64) -> (Vec<f64>, End) {
        let mut rates = Vec::new();
        loop {
            match search.next() {
                Next::Measure(r) => {
                    rates.push(r);
                    search.record(r, r <= capacity);
                }
                Next::Done(end) => return (rates, end),
            }
        }
    }

    #[test]
    fn ramps_by_growth_then_bisects_to_the_precision() {
        let mut s = Search::new(&settings(), None);
        let (rates, end) = against(&mut s, 1_000.0);
        assert_eq!(&rates[..5], &[100.0, 200.0, 400.0, 800.0, 1_600.0]);
        // Bisection between 800 (pass) and 1600 (fail), geometrically.
        assert!((rates[5] - (800.0_f64 * 1_600.0).sqrt()).abs() < 1e-9);
        let End::Found(c) = end else {
            panic!("{end:?}")
        };
        assert!(c <= 1_000.0 && c > 1_000.0 / 1.02, "{c}");
        assert_eq!(s.steps() as usize, rates.len());
        assert!(rates.len() <= 11, "{rates:?}");
    }

    #[test]
    fn every_step_failing_ends_with_none_meets_at_min_rate() {
        let mut s = Search::new(&settings(), None);
        let (rates, end) = against(&mut s, 10.0);
        assert_eq!(rates, [100.0, 50.0, 25.0]);
        assert_eq!(end, End::NoneMeets);
    }

    #[test]
    fn a_first_step_failure_ramps_down_then_bisects() {
        let mut s = Search::new(&settings(), None);
        let (rates, end) = against(&mut s, 60.0);
        assert_eq!(&rates[..3], &[100.0, 50.0, (50.0_f64 * 100.0).sqrt()]);
        let End::Found(c) = end else {
            panic!("{end:?}")
        };
        assert!(c <= 60.0 && c > 60.0 / 1.02, "{c}");
    }

    #[test]
    fn passing_at_the_ceiling_ends_there() {
        let mut settings = settings();
        settings.max_rate = 700.0;
        let mut s = Search::new(&settings, None);
        let (rates, end) = against(&mut s, 5_000.0);
        assert_eq!(rates, [100.0, 200.0, 400.0, 700.0]);
        assert_eq!(end, End::Ceiling(700.0));
    }

    #[test]
    fn the_step_limit_ends_with_the_bracket() {
        let mut settings = settings();
        settings.max_steps = 4;
        let mut s = Search::new(&settings, None);
        let (rates, end) = against(&mut s, 300.0);
        assert_eq!(rates.len(), 4);
        assert_eq!(
            end,
            End::StepLimit(Some((200.0_f64 * 400.0).sqrt()), Some(400.0))
        );
    }

    #[test]
    fn a_seeded_search_brackets_the_knee_in_few_steps() {
        let mut s = Search::new(&settings(), Some(1_000.0));
        let (rates, end) = against(&mut s, 1_030.0);
        assert_eq!(rates[0], 1_000.0);
        assert!((rates[1] - 1_080.0).abs() < 1e-9, "{rates:?}");
        assert!(rates.len() <= 4, "{rates:?}");
        let End::Found(c) = end else {
            panic!("{end:?}")
        };
        assert!(c <= 1_030.0 && c > 1_030.0 / 1.02, "{c}");
        // A seed whose knee moved down ramps down in the same narrow steps.
        let mut s = Search::new(&settings(), Some(1_000.0));
        let (rates, end) = against(&mut s, 850.0);
        assert_eq!(rates[..2], [1_000.0, 1_000.0 / 1.08]);
        assert!(matches!(end, End::Found(c) if c <= 850.0 && c > 850.0 / 1.02));
    }

    #[test]
    fn a_noisy_step_only_narrows_the_bracket() {
        // A pass above a failure (noise) still ends with a pass that has a failure just above.
        let mut s = Search::new(&settings(), None);
        s.record(100.0, true);
        s.record(200.0, false);
        s.record(141.0, true);
        s.record(168.0, false);
        s.record(154.0, true);
        let Next::Measure(r) = s.next() else { panic!() };
        assert!(r > 154.0 && r < 168.0);
    }

    #[test]
    fn expected_steps_bound_the_searches() {
        let (fewest, most, seeded) = expected_steps(&settings());
        assert_eq!((fewest, most, seeded), (8, 17, 4));
        let mut s = Search::new(&settings(), None);
        let (rates, _) = against(&mut s, 1_000.0);
        assert!((fewest as usize..=most as usize).contains(&rates.len()));
    }
}
