//! Flame graphs (inferno) of the profiles: one per variant, and one differential graph per
//! variant against the baseline. Widths are CPU per request (ns), each profile scaled to its
//! variant's CPU per request as `stats::profile` scales the table, so the differential graph
//! shows what the table lists: red where the variant spends more per request, blue where less.

use std::path::Path;

use crate::results::Results;
use crate::results::profile::VariantProfile;
use crate::stats::profile as attribution;

/// A rendered flame graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flame {
    /// Path relative to the report (`profiles/<variant>.svg`).
    pub path: String,
    /// Title.
    pub title: String,
    /// The variant.
    pub variant: String,
    /// Whether it is the differential graph against the baseline.
    pub differential: bool,
    /// The SVG.
    pub svg: String,
}

/// Frames narrower than this (pixels at 1200 px) are left out: they cannot be read and make
/// the file large.
const MIN_WIDTH_PX: f64 = 0.5;

/// The profile's folded stacks in ns of CPU per request, from `dir`; `None` when the file is
/// missing or the profile has no samples.
fn per_request(dir: &Path, results: &Results, p: &VariantProfile) -> Option<String> {
    if !p.has_samples() {
        return None;
    }
    let folded = std::fs::read_to_string(dir.join(&p.folded)).ok()?;
    let us = attribution::cpu_per_request(results, p);
    Some(attribution::scale_folded(
        &folded,
        us * 1000.0 / p.sampled_ns as f64,
    ))
}

fn options(title: String, subtitle: String) -> inferno::flamegraph::Options<'static> {
    let mut o = inferno::flamegraph::Options::default();
    o.title = title;
    o.subtitle = Some(subtitle);
    o.count_name = "ns of CPU per request".into();
    o.min_width = MIN_WIDTH_PX;
    o.deterministic = true;
    o.hash = true;
    o
}

fn draw(lines: &str, mut o: inferno::flamegraph::Options<'_>) -> Option<String> {
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut o, lines.lines(), &mut svg).ok()?;
    String::from_utf8(svg).ok()
}

/// The file stem of a profile's graphs: its folded file's.
fn slug(p: &VariantProfile) -> String {
    Path::new(&p.folded)
        .file_stem()
        .map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned())
}

/// Every flame graph the profiles in `results` allow, their folded stacks read from `dir`.
pub fn render_all(dir: &Path, results: &Results) -> Vec<Flame> {
    let scaled: Vec<(&VariantProfile, String)> = results
        .profiles
        .iter()
        .filter_map(|p| per_request(dir, results, p).map(|f| (p, f)))
        .collect();
    let base = scaled
        .iter()
        .find(|(p, _)| p.variant == results.scenario.baseline);
    let mut out = Vec::new();
    for (p, folded) in &scaled {
        out.extend(plain(p, folded));
        if let Some((b, base_folded)) = base.filter(|(b, _)| b.variant != p.variant) {
            out.extend(differential(p, folded, b, base_folded));
        }
    }
    out
}

/// The flame graph of one profile's `folded` stacks.
fn plain(p: &VariantProfile, folded: &str) -> Option<Flame> {
    let title = format!("{}: where the CPU goes", p.variant);
    let subtitle = format!(
        "{:.2} s of CPU sampled at {} Hz ({} call graphs), widths in CPU per request",
        p.sampled_ns as f64 / 1e9,
        p.frequency_hz,
        p.call_graph
    );
    let svg = draw(folded, options(title.clone(), subtitle))?;
    Some(Flame {
        path: format!("profiles/{}.svg", slug(p)),
        title,
        variant: p.variant.clone(),
        differential: false,
        svg,
    })
}

/// The differential flame graph of `p`'s `folded` stacks against the baseline `b`'s.
fn differential(
    p: &VariantProfile,
    folded: &str,
    b: &VariantProfile,
    base_folded: &str,
) -> Option<Flame> {
    let mut diff = Vec::new();
    let opts = inferno::differential::Options {
        normalize: false,
        strip_hex: true,
    };
    inferno::differential::from_readers(opts, base_folded.as_bytes(), folded.as_bytes(), &mut diff)
        .ok()?;
    let title = format!(
        "{} against {}: CPU per request added (red) and saved (blue)",
        p.variant, b.variant
    );
    let subtitle = format!(
        "the variant's stacks, coloured by the change from {}; widths in CPU per request",
        b.variant
    );
    let svg = draw(
        &String::from_utf8_lossy(&diff),
        options(title.clone(), subtitle),
    )?;
    Some(Flame {
        path: format!("profiles/{}-vs-{}.svg", slug(p), slug(b)),
        title,
        variant: p.variant.clone(),
        differential: true,
        svg,
    })
}
