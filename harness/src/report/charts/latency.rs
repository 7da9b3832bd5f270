//! `latency`: the HdrHistogram-style percentile distribution, one line per variant, the x axis
//! logarithmic in 1/(1-q) so the tail gets as much room as the body.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::model::ChartModel;
use super::axes::{cartesian, mesh};
use super::legend::{Entry, Swatch, beside};
use super::style::{Ctx, baseline_last, fmt_num, padded, titled, variant_colours};
use super::ticks::Ticks;

/// File stem.
pub(super) const NAME: &str = "latency";

/// The deepest percentile drawn: 1 - 10^-MAX_NINES.
const MAX_NINES: f64 = 6.0;

/// Chart title.
pub(super) fn title(model: &ChartModel) -> String {
    titled("Latency by percentile", model)
}

/// True when some variant has at least one usable percentile point.
pub(super) fn has_data(model: &ChartModel) -> bool {
    model
        .variants
        .iter()
        .any(|v| !points(&v.latency_percentiles).is_empty())
}

/// (x = log10(1/(1-q)), latency in ms) for the finite points, in display order.
fn points(percentiles: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = percentiles
        .iter()
        .filter(|(p, us)| p.is_finite() && us.is_finite())
        .map(|&(p, us)| {
            let rest = (1.0 - p.clamp(0.0, 100.0) / 100.0).max(10f64.powf(-MAX_NINES));
            (-rest.log10(), us / 1000.0)
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// Tick label for `nines` on the x axis: 0 → "0%", 1 → "90%", 3 → "99.9%".
fn tick_label(nines: f64) -> String {
    let k = nines.round().max(0.0) as usize;
    if k == 0 {
        return "0%".to_string();
    }
    let pct = 100.0 - 100.0 * 10f64.powi(-(k as i32));
    format!("{pct:.prec$}%", prec = k.saturating_sub(2))
}

/// The grey line under the title.
pub(super) const SUBTITLE: &str = "All valid runs' requests; x axis: log scale in 1/(1−percentile)";

/// One variant's line: its index into `model.variants` and its points.
type Series = (usize, Vec<(f64, f64)>);

/// The legend: one line per variant drawn.
fn legend(model: &ChartModel, series: &[Series], colours: &[RGBColor]) -> Vec<Entry> {
    series
        .iter()
        .map(|(i, _)| {
            let v = &model.variants[*i];
            Entry {
                label: if v.baseline {
                    format!("{} (baseline)", v.name)
                } else {
                    v.name.clone()
                },
                swatch: Swatch::Line {
                    colour: colours[*i],
                    marker: false,
                },
            }
        })
        .collect()
}

/// The x axis: the nines drawn (at least one), its major ticks (each nine) and minor ones (the
/// 2 and 5 between them).
fn x_axis(series: &[Series]) -> Ticks {
    let max_x = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|pt| pt.0))
        .fold(0.0, f64::max);
    let nines = (max_x - 1e-9).ceil().clamp(1.0, MAX_NINES);
    let bold: Vec<f64> = (0..=nines as usize).map(|k| k as f64).collect();
    let light: Vec<f64> = (0..nines as usize)
        .flat_map(|k| [2.0f64, 5.0].map(|m| k as f64 + m.log10()))
        .collect();
    Ticks::new(0.0, nines, bold).with_light(light)
}

/// The y axis's top: a little above the slowest point.
fn y_top(series: &[Series]) -> f64 {
    let max_ms = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|pt| pt.1))
        .fold(0.0, f64::max);
    if max_ms > 0.0 {
        max_ms * 1.08
    } else {
        padded(0.0, 0.0, 0.1).1
    }
}

/// Draws the chart in `area` (below its title).
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &ChartModel,
) -> Result<()> {
    let colours = variant_colours(model);
    let series: Vec<Series> = model
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| (i, points(&v.latency_percentiles)))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let plot_area = beside(area, &legend(model, &series, &colours))?;
    let mut chart = cartesian(
        &plot_area,
        64,
        x_axis(&series),
        0.0..y_top(&series),
        "latency",
    )?;
    let y_fmt = |y: &f64| fmt_num(*y);
    mesh(&mut chart, "Percentile", "Latency (ms)")
        .x_label_formatter(&|x| tick_label(*x))
        .y_label_formatter(&y_fmt)
        .y_labels(8)
        .y_max_light_lines(1)
        .draw()
        .ctx("drawing the latency axes")?;
    for (i, pts) in baseline_last(model, &series, |(i, _)| *i) {
        let colour = colours[*i];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .ctx("drawing a latency line")?;
        if pts.len() <= 12 {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .ctx("drawing latency points")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_as_percentiles() {
        let labels: Vec<String> = (0..=5).map(|k| tick_label(f64::from(k))).collect();
        assert_eq!(labels, ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]);
    }

    #[test]
    fn points_map_to_nines() {
        let p = points(&[(99.0, 8000.0), (0.0, 1000.0), (100.0, 9000.0)]);
        assert_eq!(p.len(), 3);
        assert!(p[0].0.abs() < 1e-9 && (p[0].1 - 1.0).abs() < 1e-9);
        assert!((p[1].0 - 2.0).abs() < 1e-9);
        assert!((p[2].0 - MAX_NINES).abs() < 1e-9);
    }
}
