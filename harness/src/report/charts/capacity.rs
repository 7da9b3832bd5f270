//! `capacity`: latency against the offered rate over every capacity step, p99 (solid) and p50
//! (thin) per variant, the SLO's p99 bound drawn across, each variant's capacity marked. The
//! latency axis is logarithmic: past the knee p99 grows by orders of magnitude.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::super::model::{CapacityPoint, ChartModel, VariantChart};
use super::axes::{Plot, cartesian, mesh};
use super::legend::{Entry, Swatch, beside};
use super::style::{Ctx, baseline_last, fmt_num, titled, variant_colours};

/// File stem.
pub(super) const NAME: &str = "capacity";

/// Chart title.
pub(super) fn title(model: &ChartModel) -> String {
    titled("Latency against offered rate (capacity search)", model)
}

/// True when some variant has a measured capacity step.
pub(super) fn has_data(model: &ChartModel) -> bool {
    model.variants.iter().any(|v| !v.capacity_steps.is_empty())
}

/// The first search's steps in rate order: the curve (later searches probe only the knee, and
/// a line through every repetition would zigzag there).
fn curve(steps: &[CapacityPoint]) -> Vec<CapacityPoint> {
    let mut s: Vec<CapacityPoint> = steps.iter().filter(|p| p.first).copied().collect();
    s.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    s
}

/// The grey line under the title.
pub(super) const SUBTITLE: &str = "Points: every step's p99 (● held the SLO, ○ did not); lines: \
                                   the first search's p99 and (thin) p50; dotted: capacity";

/// The capacity chart's plot: rate across, latency up on a log scale.
type Chart<'a, DB> = Plot<'a, DB, RangedCoordf64, LogCoord<f64>>;

/// The legend: each variant with its capacity, and the SLO.
fn legend(model: &ChartModel, colours: &[RGBColor]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = model
        .variants
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.capacity_steps.is_empty())
        .map(|(i, v)| Entry {
            label: match &v.capacity_rps {
                Some(c) => format!("{}: {} req/s", v.name, fmt_num(c.value)),
                None => v.name.clone(),
            },
            swatch: Swatch::Line {
                colour: colours[i],
                marker: true,
            },
        })
        .collect();
    if let Some(slo) = model.slo_p99_ms {
        entries.push(Entry {
            label: format!("SLO: p99 ≤ {} ms", fmt_num(slo)),
            swatch: Swatch::Line {
                colour: RED,
                marker: false,
            },
        });
    }
    entries
}

/// The axes' reach: the highest rate, and the latencies (with the SLO), padded.
fn ranges(model: &ChartModel) -> (f64, (f64, f64)) {
    let steps = model.variants.iter().flat_map(|v| &v.capacity_steps);
    let max_rate = steps.clone().map(|s| s.rate).fold(0.0, f64::max);
    let latencies = steps
        .flat_map(|s| [s.p50_ms, s.p99_ms])
        .chain(model.slo_p99_ms)
        .filter(|v| *v > 0.0);
    let lo = latencies.clone().fold(f64::INFINITY, f64::min);
    let hi = latencies.fold(0.0, f64::max);
    let y = if lo.is_finite() && hi > 0.0 {
        (lo / 1.5, hi * 1.5)
    } else {
        (0.1, 10.0)
    };
    let x_hi = if max_rate > 0.0 { max_rate * 1.05 } else { 1.0 };
    (x_hi, y)
}

/// Draws the chart in `area` (below its title).
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &ChartModel,
) -> Result<()> {
    let colours = variant_colours(model);
    let plot_area = beside(area, &legend(model, &colours))?;
    let (x_hi, (y_lo, y_hi)) = ranges(model);
    let mut chart = cartesian(
        &plot_area,
        64,
        0.0..x_hi,
        (y_lo..y_hi).log_scale(),
        "capacity",
    )?;
    mesh(
        &mut chart,
        "Offered rate (requests/s)",
        "Latency (ms, log scale)",
    )
    .x_label_formatter(&|x| fmt_num(*x))
    .y_label_formatter(&|y| fmt_num(*y))
    .x_labels(10)
    .y_labels(10)
    .draw()
    .ctx("drawing the capacity axes")?;
    if let Some(slo) = model.slo_p99_ms {
        chart
            .draw_series(LineSeries::new(
                [(0.0, slo), (x_hi, slo)],
                RED.stroke_width(2),
            ))
            .ctx("drawing the SLO")?;
    }
    let measured: Vec<usize> = (0..model.variants.len())
        .filter(|i| !model.variants[*i].capacity_steps.is_empty())
        .collect();
    for &i in baseline_last(model, &measured, |i| *i) {
        variant(&mut chart, &model.variants[i], colours[i], (y_lo, y_hi))?;
    }
    Ok(())
}

/// One variant: its capacity mark across the latency range `y`, its first search's p50 and
/// p99 lines, and every step's p99 point.
fn variant<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    v: &VariantChart,
    colour: RGBColor,
    (y_lo, y_hi): (f64, f64),
) -> Result<()> {
    let line = curve(&v.capacity_steps);
    if let Some(c) = &v.capacity_rps {
        chart
            .draw_series(DashedLineSeries::new(
                [(c.value, y_lo), (c.value, y_hi)],
                3,
                4,
                colour.stroke_width(1),
            ))
            .ctx("drawing a capacity mark")?;
    }
    chart
        .draw_series(LineSeries::new(
            line.iter().map(|p| (p.rate, p.p50_ms)),
            colour.mix(0.6).stroke_width(1),
        ))
        .ctx("drawing a p50 line")?;
    chart
        .draw_series(LineSeries::new(
            line.iter().map(|p| (p.rate, p.p99_ms)),
            colour.stroke_width(2),
        ))
        .ctx("drawing a p99 line")?;
    chart
        .draw_series(v.capacity_steps.iter().map(|p| {
            let style = if p.pass {
                colour.filled()
            } else {
                colour.stroke_width(1)
            };
            Circle::new((p.rate, p.p99_ms), 3, style)
        }))
        .ctx("drawing the steps")?;
    Ok(())
}
