//! Rendering tests over hand-built models: every chart renders, is well-formed, and charts
//! without data are skipped.

use super::super::model::ChartModel;
use super::fixtures;
use super::style::{BASELINE, SIZE, variant_colours};
use super::{Chart, render_all};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn check(chart: &Chart) {
    let svg = chart.svg.trim();
    assert!(svg.starts_with("<svg"), "{}: not an SVG", chart.name);
    assert!(svg.ends_with("</svg>"), "{}: SVG not closed", chart.name);
    assert_eq!(
        svg.matches("<text").count(),
        svg.matches("</text>").count(),
        "{}: unbalanced text tags",
        chart.name
    );
    assert!(
        svg.contains(&escape(&chart.title)),
        "{}: title missing",
        chart.name
    );
    assert!(
        chart.png.starts_with(&PNG_SIGNATURE),
        "{}: no PNG signature",
        chart.name
    );
    let img = image::load_from_memory_with_format(&chart.png, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{}: PNG does not decode: {e}", chart.name));
    assert_eq!(
        (img.width(), img.height()),
        SIZE,
        "{}: PNG size",
        chart.name
    );
}

fn names(model: &ChartModel) -> Vec<&'static str> {
    let charts = render_all(model).unwrap_or_else(|e| panic!("render_all failed: {e:#}"));
    charts.iter().for_each(check);
    charts.iter().map(|c| c.name).collect()
}

#[test]
fn realistic_model_renders_every_chart() {
    assert_eq!(
        names(&fixtures::realistic()),
        [
            "latency",
            "overhead",
            "cpu",
            "rss",
            "throughput",
            "delivery"
        ]
    );
}

#[test]
fn capacity_searches_render_the_capacity_chart_first() {
    let model = fixtures::capacity();
    assert_eq!(names(&model)[0], "capacity");
    let chart = render_all(&model).unwrap().remove(0);
    assert!(chart.svg.contains("SLO: p99 ≤ 10 ms"), "the SLO is named");
    assert!(
        chart.svg.contains("off: 2.4k req/s"),
        "capacities are in the legend"
    );
    if let Ok(dir) = std::env::var("OTELBENCH_CHART_DIR") {
        std::fs::write(format!("{dir}/capacity.png"), &chart.png).unwrap();
    }
}

#[test]
fn seven_variant_sweep_renders_every_chart() {
    assert_eq!(names(&fixtures::sweep()).len(), 6);
}

#[test]
fn many_long_named_variants_render() {
    assert_eq!(
        names(&fixtures::many(24)),
        ["latency", "cpu", "rss", "throughput", "delivery"]
    );
}

#[test]
fn single_variant_renders_without_overhead() {
    assert_eq!(
        names(&fixtures::single()),
        ["latency", "cpu", "rss", "throughput", "delivery"]
    );
}

#[test]
fn degenerate_figures_render() {
    assert_eq!(names(&fixtures::degenerate()).len(), 6);
}

#[test]
fn absent_data_skips_charts() {
    let mut model = fixtures::realistic();
    model.overhead.clear();
    for v in &mut model.variants {
        v.spans_received = None;
        v.cpu_us_per_request = None;
    }
    assert_eq!(names(&model), ["latency", "rss", "throughput"]);
    let empty = ChartModel {
        scenario: "nothing".to_string(),
        variants: Vec::new(),
        overhead: Vec::new(),
        slo_p99_ms: None,
    };
    assert!(names(&empty).is_empty());
}

#[test]
fn variants_missing_a_figure_still_render() {
    let mut model = fixtures::sweep();
    model.variants[2].cpu_us_per_request = None;
    model.variants[3].rss_mean_mb.clear();
    model.variants[4].latency_percentiles.clear();
    model.variants[5].spans_expected = None;
    assert_eq!(names(&model).len(), 6);
}

#[test]
fn names_are_escaped_in_svg() {
    let mut model = fixtures::realistic();
    model.scenario = "a<b & \"c\"".to_string();
    model.variants[1].name = "<script>&".to_string();
    let charts = render_all(&model).unwrap_or_else(|e| panic!("{e:#}"));
    for c in &charts {
        check(c);
        assert!(!c.svg.contains("<script>"), "{}: unescaped name", c.name);
    }
}

#[test]
fn colours_are_stable_and_baseline_is_grey() {
    let model = fixtures::sweep();
    let colours = variant_colours(&model);
    assert_eq!(colours.len(), model.variants.len());
    assert_eq!(colours[0], BASELINE);
    assert!(colours[1..].iter().all(|c| *c != BASELINE));
    assert_eq!(colours, variant_colours(&model));
}
