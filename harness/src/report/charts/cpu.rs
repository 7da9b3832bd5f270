//! `cpu`: CPU time per request for each variant, as horizontal bars with CI whiskers.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::model::ChartModel;
use super::metric::single_metric;
use super::style::titled;

/// File stem.
pub(super) const NAME: &str = "cpu";

/// Chart title.
pub(super) fn title(model: &ChartModel) -> String {
    titled("CPU time per request", model)
}

/// True when some variant has a CPU figure.
pub(super) fn has_data(model: &ChartModel) -> bool {
    model
        .variants
        .iter()
        .any(|v| v.cpu_us_per_request.is_some())
}

/// Draws the chart in `area` (below its title).
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &ChartModel,
) -> Result<()> {
    single_metric(area, "CPU time per request (µs)", model, |v| {
        v.cpu_us_per_request
    })
}
