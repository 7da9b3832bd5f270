//! Legends drawn in their own strip beside or above the plot, so they never cover data.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{Ctx, INK, fit, text, text_width};

/// What marks a legend entry.
#[derive(Debug, Clone, Copy)]
pub(super) enum Swatch {
    /// A line, optionally with a point marker on it.
    Line { colour: RGBColor, marker: bool },
    /// A filled box.
    Filled(RGBColor),
    /// An empty box outlined in the colour.
    Hollow(RGBColor),
}

/// One legend entry.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Text shown next to the swatch.
    pub label: String,
    /// Its mark.
    pub swatch: Swatch,
}

const SWATCH_W: i32 = 26;
const GAP: i32 = 8;
const FONT_SIZE: f64 = 14.0;

/// Row height and font size for a column of `n` entries in `height` pixels.
fn column_metrics(n: usize, height: u32) -> (i32, f64) {
    let n = n.max(1) as i32;
    let row = ((height as i32 - 2 * GAP) / n).clamp(12, 24);
    (row, (f64::from(row) * 0.62).clamp(10.0, FONT_SIZE))
}

/// Pixel width a column legend of `entries` needs in `area` (whose height it uses to pick the
/// text size), at most `max`.
fn column_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    max: u32,
) -> u32 {
    let (_, size) = column_metrics(entries.len(), area.dim_in_pixel().1);
    let style = text(size, INK);
    let widest = entries
        .iter()
        .map(|e| text_width(area, &e.label, &style))
        .max()
        .unwrap_or(0);
    (widest + (SWATCH_W + 4 * GAP) as u32).min(max)
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    (x, y): (i32, i32),
) -> Result<()> {
    let half = 6;
    match swatch {
        Swatch::Line { colour, marker } => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + SWATCH_W, y)],
                colour.stroke_width(3),
            ))
            .ctx("legend line")?;
            if marker {
                area.draw(&Circle::new((x + SWATCH_W / 2, y), 4, colour.filled()))
                    .ctx("legend marker")?;
            }
        }
        Swatch::Filled(colour) => {
            area.draw(&Rectangle::new(
                [(x + 4, y - half), (x + SWATCH_W - 4, y + half)],
                colour.filled(),
            ))
            .ctx("legend box")?;
        }
        Swatch::Hollow(colour) => {
            area.draw(&Rectangle::new(
                [(x + 4, y - half), (x + SWATCH_W - 4, y + half)],
                colour.stroke_width(2),
            ))
            .ctx("legend box")?;
        }
    }
    Ok(())
}

/// Draws `entries` top to bottom in `area` (a strip to the right of the plot), shrinking the
/// row height and text when there are many.
fn draw_column<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (w, h) = area.dim_in_pixel();
    let (row, size) = column_metrics(entries.len(), h);
    let style = text(size, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let max_text = (w as i32 - SWATCH_W - 4 * GAP).max(20) as u32;
    for (i, e) in entries.iter().enumerate() {
        let y = GAP + row / 2 + row * i as i32;
        draw_swatch(area, e.swatch, (GAP, y))?;
        let label = fit(area, &e.label, &style, max_text);
        area.draw_text(&label, &style, (GAP * 2 + SWATCH_W, y))
            .ctx("legend text")?;
    }
    Ok(())
}

/// Splits a legend column (at most 36% of the width) off the right of `area`, draws `entries`
/// in it, and returns the plot's part.
pub(super) fn beside<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> Result<DrawingArea<DB, Shift>> {
    let (w, _) = area.dim_in_pixel();
    let legend_w = column_width(area, entries, w * 36 / 100);
    let (plot_area, legend_area) = area.split_horizontally(w.saturating_sub(legend_w));
    draw_column(&legend_area, entries)?;
    Ok(plot_area)
}

/// Draws `entries` left to right, centred, in a one-line strip (above a plot).
pub(super) fn draw_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> Result<()> {
    let style = text(FONT_SIZE, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let widths: Vec<i32> = entries
        .iter()
        .map(|e| SWATCH_W + GAP + text_width(area, &e.label, &style) as i32)
        .collect();
    let total: i32 = widths.iter().sum::<i32>() + 3 * GAP * (widths.len() as i32 - 1).max(0);
    let (w, h) = area.dim_in_pixel();
    let mut x = ((w as i32 - total) / 2).max(0);
    let y = h as i32 / 2;
    for (e, width) in entries.iter().zip(widths) {
        draw_swatch(area, e.swatch, (x, y))?;
        area.draw_text(&e.label, &style, (x + SWATCH_W + GAP, y))
            .ctx("legend text")?;
        x += width + 3 * GAP;
    }
    Ok(())
}
