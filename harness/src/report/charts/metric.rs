//! The chart shape of one interval per variant (CPU per request, throughput): a bar per
//! variant in its colour, whiskers for the interval, a dashed line at the baseline's value.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::model::{ChartModel, Interval, VariantChart};
use super::bars::{Bar, Paint, Panel, Rows, draw_panel};
use super::style::variant_colours;

/// How to read a chart of bars with whiskers against the baseline.
pub(super) const SUBTITLE: &str =
    "Bars: median over repetitions · whiskers: confidence interval · dashed line: baseline";

/// One bar per variant that has `metric`, in the variant's colour, and the baseline's value.
pub(super) fn bars_of(
    model: &ChartModel,
    colours: &[RGBColor],
    metric: impl Fn(&VariantChart) -> Option<Interval>,
) -> (Vec<Bar>, Option<f64>) {
    let bars = model
        .variants
        .iter()
        .zip(colours)
        .enumerate()
        .filter_map(|(row, (v, c))| {
            metric(v).map(|value| Bar {
                row,
                slot: 0,
                value,
                paint: Paint::Filled(*c),
            })
        })
        .collect();
    let reference = model
        .variants
        .iter()
        .find(|v| v.baseline)
        .and_then(&metric)
        .map(|i| i.value);
    (bars, reference)
}

/// Draws the chart of `metric` for every variant in `area`, x axis `x_desc`.
pub(super) fn single_metric<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_desc: &str,
    model: &ChartModel,
    metric: fn(&VariantChart) -> Option<Interval>,
) -> Result<()> {
    let rows = Rows::new(area, model);
    let colours = variant_colours(model);
    let (bars, reference) = bars_of(model, &colours, metric);
    let panel = Panel {
        caption: None,
        x_desc,
        slots: 1,
        bars,
        reference,
        labels: true,
    };
    draw_panel(area, &rows, &panel)
}
