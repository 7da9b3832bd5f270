//! `overhead`: change vs the baseline (%) against the sampling rate, one series per metric,
//! points with confidence-interval error bars joined by thin lines, and a dashed zero line.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::super::model::{ChartModel, Interval};
use super::axes::{Plot, cartesian, mesh};
use super::legend::{Entry, Swatch, beside};
use super::style::{BASELINE, Ctx, fmt_num, padded, palette, titled};
use super::ticks::Ticks;

/// File stem.
pub(super) const NAME: &str = "overhead";

/// Horizontal offset (in sampling-rate percent) between series sharing a rate, so their
/// error bars do not hide each other.
const DODGE: f64 = 0.9;

/// One metric's usable points and its colour.
struct Series<'a> {
    metric: &'a str,
    colour: RGBColor,
    points: Vec<(f64, Interval)>,
}

/// Chart title.
pub(super) fn title(model: &ChartModel) -> String {
    titled("Change vs baseline by sampling rate", model)
}

/// True when some series has a point.
pub(super) fn has_data(model: &ChartModel) -> bool {
    model.overhead.iter().any(|s| !usable(&s.points).is_empty())
}

/// Finite points as (rate in %, interval), sorted by rate for display.
fn usable(points: &[(f64, Interval)]) -> Vec<(f64, Interval)> {
    let mut pts: Vec<(f64, Interval)> = points
        .iter()
        .filter(|(r, i)| {
            r.is_finite() && i.value.is_finite() && i.low.is_finite() && i.high.is_finite()
        })
        .map(|&(r, i)| (r * 100.0, i))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// "+12%", "−3.5%", "0%".
fn signed_pct(v: f64) -> String {
    let s = fmt_num(v.abs());
    if s == "0" {
        "0%".to_string()
    } else if v > 0.0 {
        format!("+{s}%")
    } else {
        format!("−{s}%")
    }
}

/// The grey line under the title.
pub(super) const SUBTITLE: &str =
    "Points: median change · bars: confidence interval · dashed line: no change";

/// The sampling-rate axis's reach, in percent.
const X_RANGE: (f64, f64) = (-5.0, 105.0);

/// Each metric with usable points, in its palette colour.
fn series(model: &ChartModel) -> Vec<Series<'_>> {
    model
        .overhead
        .iter()
        .enumerate()
        .map(|(i, s)| Series {
            metric: &s.metric,
            colour: palette(i),
            points: usable(&s.points),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The legend: one entry per metric.
fn legend(series: &[Series]) -> Vec<Entry> {
    series
        .iter()
        .map(|s| Entry {
            label: s.metric.to_string(),
            swatch: Swatch::Line {
                colour: s.colour,
                marker: true,
            },
        })
        .collect()
}

/// The change axis's reach: every interval and zero, padded.
fn y_range(series: &[Series]) -> (f64, f64) {
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().flat_map(|(_, i)| [i.low, i.value, i.high]));
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    padded(lo, hi, 0.08)
}

/// Draws the chart in `area` (below its title).
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &ChartModel,
) -> Result<()> {
    let series = series(model);
    let plot_area = beside(area, &legend(&series))?;
    let (y_lo, y_hi) = y_range(&series);
    let (x_lo, x_hi) = X_RANGE;
    let ticks: Vec<f64> = (0..=10).map(|k| f64::from(k) * 10.0).collect();
    let x_axis = Ticks::new(x_lo, x_hi, ticks);
    let mut chart = cartesian(&plot_area, 70, x_axis, y_lo..y_hi, "overhead")?;
    let x_fmt = |x: &f64| format!("{}%", fmt_num(*x));
    let y_fmt = |y: &f64| signed_pct(*y);
    mesh(&mut chart, "Sampling rate (%)", "Change vs baseline (%)")
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(8)
        .y_max_light_lines(1)
        .draw()
        .ctx("drawing the overhead axes")?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(x_lo, 0.0), (x_hi, 0.0)],
            8,
            5,
            BASELINE.stroke_width(1),
        ))
        .ctx("drawing the zero line")?;
    let m = series.len() as f64;
    for (k, s) in series.iter().enumerate() {
        let dx = (k as f64 - (m - 1.0) / 2.0) * DODGE;
        metric(&mut chart, s, dx)?;
    }
    Ok(())
}

/// One metric's points, shifted `dx` along the rate axis: a thin line through the medians and
/// an error bar over each interval.
fn metric<DB: DrawingBackend>(
    chart: &mut Plot<DB, Ticks, RangedCoordf64>,
    s: &Series,
    dx: f64,
) -> Result<()> {
    let (colour, pts) = (s.colour, &s.points);
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|(x, i)| (x + dx, i.value)),
            colour.stroke_width(1),
        ))
        .ctx("drawing an overhead line")?;
    chart
        .draw_series(pts.iter().map(|(x, i)| {
            ErrorBar::new_vertical(
                x + dx,
                i.low,
                i.value,
                i.high,
                colour.filled().stroke_width(2),
                9,
            )
        }))
        .ctx("drawing overhead error bars")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_labels_carry_their_sign() {
        assert_eq!(signed_pct(12.0), "+12%");
        assert_eq!(signed_pct(-3.5), "−3.5%");
        assert_eq!(signed_pct(0.0), "0%");
    }
}
