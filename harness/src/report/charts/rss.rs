//! `rss`: mean resident memory per variant, one panel per process side by side (sharing the
//! variant rows), bars with CI whiskers.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::model::ChartModel;
use super::bars::{Panel, Rows, draw_panel};
use super::metric::bars_of;
use super::style::{titled, variant_colours};

/// File stem.
pub(super) const NAME: &str = "rss";

/// Chart title.
pub(super) fn title(model: &ChartModel) -> String {
    titled("Mean resident memory (RSS) per process", model)
}

/// True when some variant has an RSS figure.
pub(super) fn has_data(model: &ChartModel) -> bool {
    model.variants.iter().any(|v| !v.rss_mean_mb.is_empty())
}

/// Process names over all variants, sorted, without repeats.
fn processes(model: &ChartModel) -> Vec<&str> {
    let mut names: Vec<&str> = model
        .variants
        .iter()
        .flat_map(|v| v.rss_mean_mb.iter().map(|(p, _)| p.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Draws the chart in `area` (below its title).
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &ChartModel,
) -> Result<()> {
    let rows = Rows::new(area, model);
    let colours = variant_colours(model);
    let procs = processes(model);
    let (w, _) = area.dim_in_pixel();
    let k = procs.len().max(1) as u32;
    let each = w.saturating_sub(rows.width) / k;
    let breaks: Vec<u32> = (1..k).map(|i| rows.width + each * i).collect();
    let panels = area.split_by_breakpoints(breaks, Vec::<u32>::new());
    for (i, (proc_name, panel_area)) in procs.iter().zip(panels.iter()).enumerate() {
        let (bars, reference) = bars_of(model, &colours, |v| {
            v.rss_mean_mb
                .iter()
                .find(|(p, _)| p == proc_name)
                .map(|(_, value)| *value)
        });
        let caption = format!("process: {proc_name}");
        let panel = Panel {
            caption: Some(&caption),
            x_desc: "Mean RSS (MB)",
            slots: 1,
            bars,
            reference,
            labels: i == 0,
        };
        draw_panel(panel_area, &rows, &panel)?;
    }
    Ok(())
}
