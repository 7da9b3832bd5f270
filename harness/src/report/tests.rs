//! Snapshot tests of every renderer on the hand-built results, and the files `write_all` makes.

use std::collections::BTreeMap;

use super::*;
use crate::results::fixture;

fn analysed() -> Results {
    let mut r = fixture::results();
    fixture::vary_speed(&mut r);
    // One invalid run, so the invalid-runs section and the counts show.
    let mut bad = fixture::run("10%", 4, 900.0);
    bad.valid = false;
    bad.invalid_reason = Some("achieved 380.0 req/s, 5.0% below the target 400".into());
    r.runs.push(bad);
    // One attempt a late generator spoiled, replaced by the next attempt of its place: listed,
    // but in no statistic.
    let mut late = fixture::run("100%", 2, 2_000.0);
    late.valid = false;
    late.latency_only = true;
    late.transient = true;
    late.replaced_by = Some(2);
    late.invalid_reason = Some("scheduling lag p99 4210 µs exceeds 1000 µs".into());
    r.runs[5].attempt = 2;
    r.runs.insert(5, late);
    stats::refresh(&mut r);
    r
}

fn doc(r: &Results) -> document::Document {
    let delivery = stats::delivery::delivery(r);
    let faults = stats::faults::summarize(r);
    sections::document(
        r,
        &delivery,
        &faults,
        &[sections::ChartRef {
            name: "latency".into(),
            title: "Latency by percentile".into(),
        }],
        &[],
        stats::ab::judge(r).as_ref(),
    )
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(&doc(&analysed())));
}

#[test]
fn html_snapshot() {
    let svgs: BTreeMap<String, String> = [(
        "latency".to_string(),
        "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\"></svg>".to_string(),
    )]
    .into();
    insta::assert_snapshot!(html::render(&doc(&analysed()), &svgs));
}

#[test]
fn csv_snapshot() {
    insta::assert_snapshot!(csv::render(&analysed()));
}

#[test]
fn benchmark_json_snapshot() {
    insta::assert_snapshot!(benchmark::render(&analysed()).unwrap());
}

#[test]
fn comparison_snapshot() {
    let base = analysed();
    let mut new = analysed();
    for r in new.runs.iter_mut().filter(|r| r.variant == "100%") {
        r.cpu.target_us_per_request *= 1.2;
    }
    let c = stats::compare::compare(&base, &new, &stats::compare::default_gate()).unwrap();
    insta::assert_snapshot!(markdown::render(&comparison::document(
        &c,
        false,
        "base/results.json",
        "new/results.json"
    )));
}

#[test]
fn calibration_and_no_cost_model_sections() {
    let mut r = fixture::results();
    r.scenario.variants = vec!["off".into(), "off (A/A)".into()];
    r.scenario.calibration_variant = Some("off (A/A)".into());
    r.scenario.budget.clear();
    r.runs.retain(|run| run.variant == "off");
    let copies: Vec<_> = r
        .runs
        .iter()
        .map(|run| {
            let mut c = run.clone();
            c.variant = "off (A/A)".into();
            c.cpu.target_us_per_request *= 1.01;
            c
        })
        .collect();
    r.runs.extend(copies);
    stats::refresh(&mut r);
    let md = markdown::render(&doc(&r));
    assert!(md.contains("## Noise floor (A/A calibration)"), "{md}");
    assert!(md.contains("| CPU per request | +1.0% |"), "{md}");
    assert!(
        md.contains(
            "| Metric | A/A change | Interval | Noise (half-width) | Minimum detectable effect |"
        ),
        "{md}"
    );
    assert_tables_are_rectangular(
        &doc(&r)
            .sections
            .iter()
            .flat_map(|s| s.blocks.clone())
            .collect::<Vec<_>>(),
    );
    assert!(!md.contains("## Cost model"));
    assert!(!md.contains("## Recommendation"));
}

/// Every row of every table has as many cells as the header and the alignment list.
fn assert_tables_are_rectangular(blocks: &[document::Block]) {
    for b in blocks {
        match b {
            document::Block::Table(t) => {
                assert_eq!(t.numeric.len(), t.header.len(), "{:?}", t.header);
                for row in &t.rows {
                    assert_eq!(row.len(), t.header.len(), "{:?} vs {row:?}", t.header);
                }
            }
            document::Block::Details { blocks, .. } => assert_tables_are_rectangular(blocks),
            _ => {}
        }
    }
}

#[test]
fn every_table_is_rectangular() {
    let blocks: Vec<_> = doc(&analysed())
        .sections
        .into_iter()
        .flat_map(|s| s.blocks)
        .collect();
    assert_tables_are_rectangular(&blocks);
}

#[test]
fn write_all_makes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_all(dir.path(), &analysed()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    for expected in [
        "report.md",
        "report.html",
        "results.csv",
        "benchmark.json",
        "charts/latency.svg",
        "charts/latency.png",
        "charts/overhead.svg",
        "charts/cpu.png",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<svg"), "charts are inline");
    assert!(!html.contains("<?xml"), "no XML declaration inside HTML");
    assert!(!html.contains("src=\"http"), "no external assets");
    let png = std::fs::read(dir.path().join("charts/latency.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
