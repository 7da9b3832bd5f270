//! `throughput`: achieved requests per second for each variant, as horizontal bars with CI
//! whiskers.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::model::ChartModel;
use super::metric::single_metric;
use super::style::titled;

/// File stem.
pub(super) const NAME: &str = "throughput";

/// Chart title.
pub(super) fn title(model: &ChartModel) -> String {
    titled("Achieved throughput", model)
}

/// True when some variant has a throughput figure.
pub(super) fn has_data(model: &ChartModel) -> bool {
    model.variants.iter().any(|v| v.throughput_rps.is_some())
}

/// Draws the chart in `area` (below its title).
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &ChartModel,
) -> Result<()> {
    single_metric(area, "Throughput (requests/s)", model, |v| v.throughput_rps)
}
