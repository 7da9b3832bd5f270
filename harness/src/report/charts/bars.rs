//! Horizontal bar panels with one row per variant: the layout the per-variant charts share
//! (long variant names read left of their bars, top to bottom in scenario order).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::model::{ChartModel, Interval};
use super::style::{
    BASELINE, Ctx, GRID, GRID_LIGHT, INK, MUTED, fit, fmt_num, fmt_value, text, text_width,
};
use super::ticks::Ticks;

/// Height of the x label area under a panel (tick labels and axis description).
const X_AREA: u32 = 48;
/// Fraction of a row's height taken by its bars (at most).
const BAND: f64 = 0.78;
/// Thickest a single bar gets, in pixels.
const MAX_SLOT_PX: f64 = 30.0;

/// The variant rows' labels and the space they need, shared by every panel of one chart.
pub(super) struct Rows {
    /// One label per variant, top to bottom, shortened to fit.
    pub labels: Vec<String>,
    /// Font size of the labels.
    pub font: f64,
    /// Width of the label column, in pixels.
    pub width: u32,
}

impl Rows {
    /// Labels for `model`'s variants ("name (baseline)" for the baseline) sized for `area`.
    pub(super) fn new<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        model: &ChartModel,
    ) -> Self {
        let (w, h) = area.dim_in_pixel();
        let n = model.variants.len().max(1) as f64;
        let row_px = f64::from(h.saturating_sub(X_AREA + 30)) / n;
        let font = (row_px * 0.72).clamp(9.0, 14.0);
        let style = text(font, INK);
        let max = w * 34 / 100;
        let labels: Vec<String> = model
            .variants
            .iter()
            .map(|v| {
                let raw = if v.baseline {
                    format!("{} (baseline)", v.name)
                } else {
                    v.name.clone()
                };
                fit(area, &raw, &style, max)
            })
            .collect();
        let widest = labels
            .iter()
            .map(|l| text_width(area, l, &style))
            .max()
            .unwrap_or(0);
        Self {
            labels,
            font,
            width: widest + 16,
        }
    }
}

/// How a bar is painted.
#[derive(Debug, Clone, Copy)]
pub(super) enum Paint {
    /// Solid fill.
    Filled(RGBColor),
    /// Outline only.
    Hollow(RGBColor),
}

/// One bar: `value.value` long, with a whisker over `value.low..value.high` when they differ.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bar {
    /// Variant index (row, from the top).
    pub row: usize,
    /// Slot within the row (0 is the top one).
    pub slot: usize,
    /// Length and interval.
    pub value: Interval,
    /// Paint.
    pub paint: Paint,
}

/// One panel: a set of bars over the variant rows.
pub(super) struct Panel<'a> {
    /// Small title above the panel (e.g. a process name).
    pub caption: Option<&'a str>,
    /// X axis description, with unit.
    pub x_desc: &'a str,
    /// Bars per row.
    pub slots: usize,
    /// The bars (rows without any get an "n/a" mark).
    pub bars: Vec<Bar>,
    /// A dashed vertical reference line (the baseline's value).
    pub reference: Option<f64>,
    /// Whether this panel draws the row labels.
    pub labels: bool,
}

fn finite(i: Interval) -> bool {
    i.value.is_finite() && i.low.is_finite() && i.high.is_finite()
}

/// The x range: from zero (or the lowest low) to past the highest high, leaving room for the
/// value labels; never empty.
fn x_range(bars: &[Bar], reference: Option<f64>) -> (f64, f64) {
    let lo = bars
        .iter()
        .map(|b| b.value.low.min(b.value.value))
        .fold(0.0, f64::min);
    let hi = bars
        .iter()
        .map(|b| b.value.high.max(b.value.value))
        .chain(reference)
        .fold(0.0, f64::max);
    if hi - lo > 0.0 {
        (lo, hi + (hi - lo) * 0.16)
    } else {
        // Everything is zero: show a small positive axis rather than one centred on zero.
        (0.0, 1.0)
    }
}

type BarChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Ticks>>;

/// Whisker over `low..high` at height `y`, end caps `cap` px tall either side.
fn whisker<DB: DrawingBackend>(
    chart: &mut BarChart<DB>,
    (low, high, y): (f64, f64, f64),
    cap: i32,
    style: ShapeStyle,
) -> Result<()> {
    let tick =
        |x: f64| EmptyElement::at((x, y)) + PathElement::new(vec![(0, -cap), (0, cap)], style);
    chart
        .draw_series([PathElement::new(vec![(low, y), (high, y)], style)])
        .ctx("drawing a whisker")?;
    chart
        .draw_series([tick(low), tick(high)])
        .ctx("drawing a whisker cap")?;
    Ok(())
}

/// Where a panel's bars sit: `n` rows, each with its band of slots, in chart units (rows are
/// 1 apart) and pixels.
struct Layout {
    /// Rows.
    n: usize,
    /// Share of a row taken by its bars.
    band: f64,
    /// Height of one slot, in rows.
    slot_h: f64,
    /// Height of one slot, in pixels.
    slot_px: f64,
    /// Whisker cap half-height, in pixels.
    cap: i32,
}

impl Layout {
    /// Bar thickness: a share of the row, but never fatter than MAX_SLOT_PX per bar.
    fn new<DB: DrawingBackend>(chart: &BarChart<DB>, n: usize, slots: usize) -> Self {
        let row_px = f64::from(chart.plotting_area().dim_in_pixel().1) / n as f64;
        let band = BAND.min(MAX_SLOT_PX * slots as f64 / row_px.max(1.0));
        let slot_h = band / slots as f64;
        let slot_px = row_px * slot_h;
        Self {
            n,
            band,
            slot_h,
            slot_px,
            cap: (slot_px * 0.45 + 1.0).clamp(3.0, 8.0) as i32,
        }
    }

    /// The y of a row's centre line (row 0 at the top).
    fn row_y(&self, row: usize) -> f64 {
        (self.n - 1 - row) as f64
    }

    /// The y of `b`'s centre.
    fn centre(&self, b: &Bar) -> f64 {
        self.row_y(b.row) + self.band / 2.0 - self.slot_h * (b.slot as f64 + 0.5)
    }
}

/// Draws `panel` into `area` over `rows`.
pub(super) fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &Rows,
    panel: &Panel,
) -> Result<()> {
    let n = rows.labels.len().max(1);
    let bars: Vec<Bar> = panel
        .bars
        .iter()
        .copied()
        .filter(|b| finite(b.value) && b.row < n)
        .collect();
    let reference = panel.reference.filter(|r| r.is_finite());
    let (x_lo, x_hi) = x_range(&bars, reference);
    let y_top = n as f64 - 0.5;
    let mut chart = chart(area, rows, panel, x_lo..x_hi)?;
    axes(&mut chart, rows, panel.x_desc)?;
    let layout = Layout::new(&chart, n, panel.slots.max(1));
    for b in &bars {
        let (yc, half) = (layout.centre(b), layout.slot_h * 0.44);
        let corners = [(0.0_f64.max(x_lo), yc - half), (b.value.value, yc + half)];
        let style = match b.paint {
            Paint::Filled(c) => c.filled(),
            Paint::Hollow(c) => c.stroke_width(2),
        };
        chart
            .draw_series([Rectangle::new(corners, style)])
            .ctx("drawing a bar")?;
    }
    if let Some(r) = reference {
        let line =
            DashedLineSeries::new(vec![(r, -0.5), (r, y_top)], 6, 4, BASELINE.stroke_width(1));
        chart.draw_series(line).ctx("drawing the reference line")?;
    }
    for b in &bars {
        whiskers_and_value(&mut chart, area, b, &layout)?;
    }
    not_available(&mut chart, rows, &bars, &layout, x_lo)
}

/// The panel's chart: `x` across, one row per variant up, the caption above.
fn chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    rows: &Rows,
    panel: &Panel,
    x: std::ops::Range<f64>,
) -> Result<BarChart<'a, DB>> {
    let n = rows.labels.len().max(1);
    let y_points: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let y_top = n as f64 - 0.5;
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_right(12)
        .margin_top(6)
        .x_label_area_size(X_AREA)
        .y_label_area_size(if panel.labels { rows.width } else { 0 });
    if let Some(c) = panel.caption {
        builder.caption(c, text(15.0, INK));
    }
    builder
        .build_cartesian_2d(x, Ticks::new(-0.5, y_top, y_points))
        .ctx("building the bar panel")
}

/// The x grid and labels, and the variant labels down the left.
fn axes<DB: DrawingBackend>(chart: &mut BarChart<DB>, rows: &Rows, x_desc: &str) -> Result<()> {
    let n = rows.labels.len().max(1);
    let label_at = |y: &f64| -> String {
        let i = n as i64 - 1 - y.round() as i64;
        usize::try_from(i)
            .ok()
            .and_then(|i| rows.labels.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let x_fmt = |x: &f64| fmt_num(*x);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(GRID)
        .light_line_style(GRID_LIGHT)
        .x_labels(8)
        .x_max_light_lines(1)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&label_at)
        .x_label_style(text(12.0, INK))
        .y_label_style(text(rows.font, INK))
        .x_desc(x_desc)
        .axis_desc_style(text(14.0, INK))
        .draw()
        .ctx("drawing the bar axes")
}

/// `b`'s whisker (when it has an interval) and, where the slot is tall enough, its value.
fn whiskers_and_value<DB: DrawingBackend>(
    chart: &mut BarChart<DB>,
    area: &DrawingArea<DB, Shift>,
    b: &Bar,
    layout: &Layout,
) -> Result<()> {
    let yc = layout.centre(b);
    let Interval { value, low, high } = b.value;
    if high > low {
        // A white halo keeps the whisker visible over a dark bar.
        whisker(chart, (low, high, yc), layout.cap, WHITE.stroke_width(4))?;
        whisker(chart, (low, high, yc), layout.cap, INK.stroke_width(2))?;
    }
    if layout.slot_px >= 10.0 {
        let label_style = text((layout.slot_px * 0.8).clamp(9.0, 12.0), INK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let label = fmt_value(value);
        let (tw, th) = area
            .estimate_text_size(&label, &label_style)
            .unwrap_or((0, 0));
        let (tw, th) = (tw as i32, th as i32);
        let mark = EmptyElement::at((high.max(value), yc))
            + Rectangle::new([(4, -th / 2 - 2), (8 + tw + 2, th / 2 + 2)], WHITE.filled())
            + Text::new(label, (7, 0), label_style);
        chart.draw_series([mark]).ctx("drawing a value label")?;
    }
    Ok(())
}

/// "n/a" in every row without a bar.
fn not_available<DB: DrawingBackend>(
    chart: &mut BarChart<DB>,
    rows: &Rows,
    bars: &[Bar],
    layout: &Layout,
    x_lo: f64,
) -> Result<()> {
    let na_style = text(rows.font.min(12.0), MUTED).pos(Pos::new(HPos::Left, VPos::Center));
    for row in (0..layout.n).filter(|r| !bars.iter().any(|b| b.row == *r)) {
        let mark = EmptyElement::at((0.0_f64.max(x_lo), layout.row_y(row)))
            + Text::new("n/a", (6, 0), na_style.clone());
        chart.draw_series([mark]).ctx("drawing an n/a mark")?;
    }
    Ok(())
}
