//! A linear f64 axis whose ticks are chosen by the chart (category rows, percentile decades,
//! sampling-rate steps) instead of plotters' automatic ones.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// Linear axis over `lo..hi` with explicit labelled (`bold`) and grid-only (`light`) ticks.
#[derive(Debug, Clone)]
pub(super) struct Ticks {
    lo: f64,
    hi: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ticks {
    /// An axis over `lo..hi` labelled at `bold`; `hi` is nudged above `lo` if they meet.
    pub(super) fn new(lo: f64, hi: f64, bold: Vec<f64>) -> Self {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Self {
            lo,
            hi,
            bold,
            light: Vec::new(),
        }
    }

    /// Adds unlabelled minor grid positions.
    pub(super) fn with_light(mut self, light: Vec<f64>) -> Self {
        self.light = light;
        self
    }
}

impl Ranged for Ticks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value - self.lo) / (self.hi - self.lo);
        let px = f64::from(limit.1 - limit.0) * t;
        limit.0 + px.round().clamp(-1e6, 1e6) as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_linearly_and_survives_an_empty_range() {
        let t = Ticks::new(0.0, 10.0, vec![0.0, 5.0, 10.0]);
        assert_eq!(t.map(&5.0, (0, 100)), 50);
        assert_eq!(t.map(&0.0, (100, 0)), 100);
        let flat = Ticks::new(3.0, 3.0, vec![3.0]);
        assert_eq!(flat.map(&3.0, (0, 100)), 0);
    }
}
