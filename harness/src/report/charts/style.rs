//! The look every chart shares: canvas size, the embedded font, colours, text styles, the
//! title block, number formatting and error mapping.

use std::fmt::Display;
use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use super::super::model::ChartModel;

/// Canvas size of every chart, in pixels.
pub(super) const SIZE: (u32, u32) = (960, 540);
/// The only font family used; registered from the embedded DejaVu Sans.
pub(super) const FONT: &str = "sans-serif";
/// Text colour for labels and titles.
pub(super) const INK: RGBColor = RGBColor(34, 34, 34);
/// Secondary text (subtitles, notes).
pub(super) const MUTED: RGBColor = RGBColor(110, 110, 110);
/// Major grid lines.
pub(super) const GRID: RGBColor = RGBColor(222, 222, 222);
/// Minor grid lines.
pub(super) const GRID_LIGHT: RGBColor = RGBColor(242, 242, 242);
/// The baseline variant's colour everywhere.
pub(super) const BASELINE: RGBColor = RGBColor(64, 64, 64);

const FONT_BYTES: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

/// Colours for non-baseline variants (and overhead metrics), in order: Tableau 10 without its
/// grey, then its light and a darker companion row so that ~24 variants stay distinguishable.
const PALETTE: [RGBColor; 27] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(174, 199, 232),
    RGBColor(255, 187, 120),
    RGBColor(152, 223, 138),
    RGBColor(255, 152, 150),
    RGBColor(197, 176, 213),
    RGBColor(196, 156, 148),
    RGBColor(247, 182, 210),
    RGBColor(219, 219, 141),
    RGBColor(158, 218, 229),
    RGBColor(8, 69, 148),
    RGBColor(166, 54, 3),
    RGBColor(0, 109, 44),
    RGBColor(122, 1, 119),
    RGBColor(84, 39, 143),
    RGBColor(93, 58, 26),
    RGBColor(0, 90, 100),
    RGBColor(120, 120, 0),
    RGBColor(165, 15, 21),
];

/// Registers the embedded font under [`FONT`], once per process.
pub(super) fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded DejaVu Sans font could not be loaded"))
    }
}

/// The `i`-th palette colour (cycling).
pub(super) fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One colour per variant, index-aligned with `model.variants`: the baseline grey, the others
/// palette colours in scenario order. The same model always gives the same colours.
pub(super) fn variant_colours(model: &ChartModel) -> Vec<RGBColor> {
    let mut next = 0;
    model
        .variants
        .iter()
        .map(|v| {
            if v.baseline {
                BASELINE
            } else {
                next += 1;
                palette(next - 1)
            }
        })
        .collect()
}

/// `items` in drawing order: the baseline's last, so that it stays visible on top of the
/// others (otherwise in the order given); `variant` is an item's index into `model.variants`.
pub(super) fn baseline_last<'a, T>(
    model: &ChartModel,
    items: &'a [T],
    variant: impl Fn(&T) -> usize,
) -> Vec<&'a T> {
    let mut order: Vec<&T> = items.iter().collect();
    order.sort_by_key(|item| model.variants[variant(item)].baseline);
    order
}

/// A text style in the chart font.
pub(super) fn text(size: f64, colour: RGBColor) -> TextStyle<'static> {
    let mut style = TextStyle::from((FONT, size).into_font());
    style.color = colour.to_backend_color();
    style
}

/// Maps any displayable drawing error to an `anyhow` error naming what was being drawn.
pub(super) trait Ctx<T> {
    /// Adds `what` to the error.
    fn ctx(self, what: &str) -> Result<T>;
}

impl<T, E: Display> Ctx<T> for std::result::Result<T, E> {
    fn ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| anyhow!("{what}: {e}"))
    }
}

/// Pixel width of `s` in `style` (0 when it cannot be measured).
pub(super) fn text_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle,
) -> u32 {
    area.estimate_text_size(s, style).map_or(0, |(w, _)| w)
}

/// `s`, shortened with an ellipsis until it is at most `max_px` wide in `style`.
pub(super) fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle,
    max_px: u32,
) -> String {
    if text_width(area, s, style) <= max_px {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut keep = chars.len();
    while keep > 1 {
        keep -= 1;
        let candidate: String = chars[..keep].iter().chain(std::iter::once(&'…')).collect();
        if text_width(area, &candidate, style) <= max_px {
            return candidate;
        }
    }
    "…".to_string()
}

/// Clears the canvas, draws the title (and an optional grey subtitle) centred at the top and
/// returns the area left below them.
pub(super) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: Option<&str>,
) -> Result<DrawingArea<DB, Shift>> {
    root.fill(&WHITE).ctx("clearing the canvas")?;
    let (w, _) = root.dim_in_pixel();
    let centre = Pos::new(HPos::Center, VPos::Top);
    let title_style = text(22.0, INK);
    let shown = fit(root, title, &title_style, w.saturating_sub(40));
    root.draw_text(&shown, &title_style.pos(centre), (w as i32 / 2, 10))
        .ctx("drawing the title")?;
    let mut top = 42;
    if let Some(sub) = subtitle {
        let sub_style = text(14.0, MUTED);
        let shown = fit(root, sub, &sub_style, w.saturating_sub(40));
        root.draw_text(&shown, &sub_style.pos(centre), (w as i32 / 2, 38))
            .ctx("drawing the subtitle")?;
        top = 62;
    }
    Ok(root.margin(top, 8, 12, 20))
}

/// `"{base} — {scenario}"`, or `base` alone when the scenario has no name.
pub(super) fn titled(base: &str, model: &ChartModel) -> String {
    if model.scenario.trim().is_empty() {
        base.to_string()
    } else {
        format!("{base} — {}", model.scenario)
    }
}

/// A compact number for ticks and bar labels: "0", "2.5", "310", "1.2k", "20k", "3.4M".
pub(super) fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let decimals = match scaled.abs() {
        x if x >= 100.0 || x == 0.0 => 0,
        x if x >= 10.0 => 1,
        _ => 2,
    };
    let s = format!("{scaled:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    let s = if s == "-0" { "0".to_string() } else { s };
    format!("{s}{suffix}")
}

/// A bar's value label: whole numbers with thousands separators from 1000 up ("19,950"),
/// otherwise as [`fmt_num`].
pub(super) fn fmt_value(v: f64) -> String {
    if v.abs() < 1e3 {
        return fmt_num(v);
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// `lo..hi` widened so it is never empty: `frac` of the span on each side, or a fixed margin
/// when `lo == hi`.
pub(super) fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let span = hi - lo;
    if span > f64::EPSILON * hi.abs().max(1.0) {
        (lo - span * frac, hi + span * frac)
    } else {
        let m = (hi.abs() * 0.1).max(1.0);
        (lo - m, hi + m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(310.4), "310");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(20_000.0), "20k");
        assert_eq!(fmt_num(12_500.0), "12.5k");
        assert_eq!(fmt_num(3_400_000.0), "3.4M");
        assert_eq!(fmt_num(-0.001), "0");
        assert_eq!(fmt_num(5000.0), "5k");
        assert_eq!(fmt_value(19_950.0), "19,950");
        assert_eq!(fmt_value(1_234_567.4), "1,234,567");
        assert_eq!(fmt_value(999.0), "999");
        assert_eq!(fmt_value(258.4), "258");
    }

    #[test]
    fn padding_never_leaves_an_empty_range() {
        let (lo, hi) = padded(5.0, 5.0, 0.1);
        assert!(lo < 5.0 && hi > 5.0);
        let (lo, hi) = padded(0.0, 0.0, 0.1);
        assert!(lo < 0.0 && hi > 0.0);
        let (lo, hi) = padded(0.0, 10.0, 0.1);
        assert!((lo + 1.0).abs() < 1e-9 && (hi - 11.0).abs() < 1e-9);
    }
}
