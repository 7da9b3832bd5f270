//! The report's charts, rendered from a [`ChartModel`] as SVG and PNG with plotters.
//!
//! Renderers only draw: every figure comes computed in the model. Text uses the embedded
//! DejaVu Sans, so no system font is needed. Each variant keeps one colour across charts
//! (the baseline dark grey).

mod axes;
mod bars;
mod capacity;
mod cpu;
mod delivery;
mod latency;
mod legend;
mod metric;
mod overhead;
mod rss;
mod style;
mod throughput;
mod ticks;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::model::ChartModel;
use style::{Ctx, SIZE};

/// One rendered chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem, e.g. "latency".
    pub name: &'static str,
    /// The chart's title.
    pub title: String,
    /// The chart as an SVG document.
    pub svg: String,
    /// The same chart as PNG bytes.
    pub png: Vec<u8>,
}

/// The charts, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Capacity,
    Latency,
    Overhead,
    Cpu,
    Rss,
    Throughput,
    Delivery,
}

impl Kind {
    const ALL: [Self; 7] = [
        Self::Capacity,
        Self::Latency,
        Self::Overhead,
        Self::Cpu,
        Self::Rss,
        Self::Throughput,
        Self::Delivery,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Capacity => capacity::NAME,
            Self::Latency => latency::NAME,
            Self::Overhead => overhead::NAME,
            Self::Cpu => cpu::NAME,
            Self::Rss => rss::NAME,
            Self::Throughput => throughput::NAME,
            Self::Delivery => delivery::NAME,
        }
    }

    fn title(self, model: &ChartModel) -> String {
        match self {
            Self::Capacity => capacity::title(model),
            Self::Latency => latency::title(model),
            Self::Overhead => overhead::title(model),
            Self::Cpu => cpu::title(model),
            Self::Rss => rss::title(model),
            Self::Throughput => throughput::title(model),
            Self::Delivery => delivery::title(model),
        }
    }

    /// The grey line under the title: how to read the chart.
    fn subtitle(self) -> &'static str {
        match self {
            Self::Capacity => capacity::SUBTITLE,
            Self::Latency => latency::SUBTITLE,
            Self::Overhead => overhead::SUBTITLE,
            Self::Cpu | Self::Rss | Self::Throughput => metric::SUBTITLE,
            Self::Delivery => delivery::SUBTITLE,
        }
    }

    fn has_data(self, model: &ChartModel) -> bool {
        match self {
            Self::Capacity => capacity::has_data(model),
            Self::Latency => latency::has_data(model),
            Self::Overhead => overhead::has_data(model),
            Self::Cpu => cpu::has_data(model),
            Self::Rss => rss::has_data(model),
            Self::Throughput => throughput::has_data(model),
            Self::Delivery => delivery::has_data(model),
        }
    }

    /// Draws the chart on `root`: the title block every chart shares, then the chart itself in
    /// the area left below it.
    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        model: &ChartModel,
    ) -> Result<()> {
        let area = style::frame(root, &self.title(model), Some(self.subtitle()))?;
        match self {
            Self::Capacity => capacity::draw(&area, model),
            Self::Latency => latency::draw(&area, model),
            Self::Overhead => overhead::draw(&area, model),
            Self::Cpu => cpu::draw(&area, model),
            Self::Rss => rss::draw(&area, model),
            Self::Throughput => throughput::draw(&area, model),
            Self::Delivery => delivery::draw(&area, model),
        }
    }
}

/// Renders every chart the model has data for (a chart whose data is absent is skipped).
pub fn render_all(model: &ChartModel) -> Result<Vec<Chart>> {
    style::ensure_font()?;
    Kind::ALL
        .into_iter()
        .filter(|k| k.has_data(model))
        .map(|k| render(k, model))
        .collect()
}

fn render(kind: Kind, model: &ChartModel) -> Result<Chart> {
    let name = kind.name();
    let svg =
        render_svg(kind, model).with_context(|| format!("rendering the {name} chart as SVG"))?;
    let png =
        render_png(kind, model).with_context(|| format!("rendering the {name} chart as PNG"))?;
    Ok(Chart {
        name,
        title: kind.title(model),
        svg,
        png,
    })
}

fn render_svg(kind: Kind, model: &ChartModel) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        kind.draw(&root, model)?;
        root.present().ctx("finishing the SVG")?;
    }
    Ok(svg)
}

fn render_png(kind: Kind, model: &ChartModel) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    use image::codecs::png::PngEncoder;

    let (w, h) = SIZE;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        kind.draw(&root, model)?;
        root.present().ctx("finishing the bitmap")?;
    }
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(&pixels, w, h, image::ColorType::Rgb8)
        .context("encoding the PNG")?;
    Ok(png)
}
