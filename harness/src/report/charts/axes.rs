//! The x-y plot the line charts share (`capacity`, `latency`, `overhead`): its margins, label
//! areas, grid and axis text, so that each chart only says what differs (ranges, ticks,
//! descriptions).

use anyhow::Result;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::style::{Ctx, GRID, GRID_LIGHT, INK, text};

/// An x-y chart with `X` across and `Y` up.
pub(super) type Plot<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// An x-y chart over `x` and `y` in `area`, `y_label_px` wide on the left for the y labels;
/// `what` names the chart in an error.
pub(super) fn cartesian<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    y_label_px: u32,
    x: X,
    y: Y,
    what: &str,
) -> Result<Plot<'a, DB, X::CoordDescType, Y::CoordDescType>>
where
    DB: DrawingBackend,
    X: AsRangedCoord,
    Y: AsRangedCoord,
{
    ChartBuilder::on(area)
        .margin_right(32)
        .margin_top(6)
        .x_label_area_size(48)
        .y_label_area_size(y_label_px)
        .build_cartesian_2d(x, y)
        .ctx(&format!("building the {what} chart"))
}

/// The grid and axis text of `chart`, with `x_desc` and `y_desc` as the axes' descriptions;
/// the caller adds its tick labels and draws.
pub(super) fn mesh<'a, 'b, DB, X, Y>(
    chart: &'b mut Plot<'a, DB, X, Y>,
    x_desc: &str,
    y_desc: &str,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID)
        .light_line_style(GRID_LIGHT)
        .label_style(text(12.0, INK))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(text(14.0, INK));
    mesh
}
