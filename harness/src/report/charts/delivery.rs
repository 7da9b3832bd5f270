//! `delivery`: spans the collector received next to the spans the target says it produced,
//! per variant (an outlined "expected" bar above a filled "received" bar).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::model::{ChartModel, Interval};
use super::bars::{Bar, Paint, Panel, Rows, draw_panel};
use super::legend::{Entry, Swatch, draw_row};
use super::style::{BASELINE, titled, variant_colours};

/// File stem.
pub(super) const NAME: &str = "delivery";

/// Chart title.
pub(super) fn title(model: &ChartModel) -> String {
    titled("Span delivery: received vs expected", model)
}

/// True when some variant has a received-spans figure.
pub(super) fn has_data(model: &ChartModel) -> bool {
    model.variants.iter().any(|v| v.spans_received.is_some())
}

fn point(v: f64) -> Interval {
    Interval {
        value: v,
        low: v,
        high: v,
    }
}

/// The grey line under the title.
pub(super) const SUBTITLE: &str =
    "Medians over repetitions; a variant without a figure shows as zero";

/// Draws the chart in `area` (below its title).
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &ChartModel,
) -> Result<()> {
    let any_expected = model.variants.iter().any(|v| v.spans_expected.is_some());
    let mut entries = Vec::new();
    if any_expected {
        entries.push(Entry {
            label: "expected (reported by the target)".to_string(),
            swatch: Swatch::Hollow(BASELINE),
        });
    }
    entries.push(Entry {
        label: "received by the collector (variant colour)".to_string(),
        swatch: Swatch::Filled(BASELINE),
    });
    let (legend_area, plot_area) = area.split_vertically(26);
    draw_row(&legend_area, &entries)?;

    let rows = Rows::new(&plot_area, model);
    let colours = variant_colours(model);
    let slots = if any_expected { 2 } else { 1 };
    let mut bars = Vec::new();
    for (row, (v, c)) in model.variants.iter().zip(&colours).enumerate() {
        if any_expected {
            bars.push(Bar {
                row,
                slot: 0,
                value: point(v.spans_expected.unwrap_or(0.0)),
                paint: Paint::Hollow(*c),
            });
        }
        bars.push(Bar {
            row,
            slot: slots - 1,
            value: point(v.spans_received.unwrap_or(0.0)),
            paint: Paint::Filled(*c),
        });
    }
    let panel = Panel {
        caption: None,
        x_desc: "Spans (count)",
        slots,
        bars,
        reference: None,
        labels: true,
    };
    draw_panel(&plot_area, &rows, &panel)
}
