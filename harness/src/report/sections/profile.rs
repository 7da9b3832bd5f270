//! "Where the overhead goes" (profiling runs): per variant, the owners (crates, Python
//! packages, libraries) and functions that add the most CPU per request against the baseline,
//! how much of the measured difference they account for, the flame graphs, and what each
//! profile could not show.

use crate::report::document::{Block, Inline, Section, Table, cell, para, text};
use crate::report::flames::Flame;
use crate::report::format;
use crate::results::Results;
use crate::stats::profile::{self as attribution, Explanation, Row};

/// The section, when the run was profiled.
pub fn section(results: &Results, flames: &[Flame]) -> Option<Section> {
    let first = results.profiles.first()?;
    let mut blocks = vec![intro(first)];
    let explanations = attribution::explain(results);
    if explanations.is_empty() {
        blocks.push(para(format!(
            "No variant can be set against the baseline `{}`: its profile holds no samples \
             (see the notes below).",
            results.scenario.baseline
        )));
    }
    for e in &explanations {
        blocks.extend(variant(e, flames));
    }
    if !flames.is_empty() {
        let mut links = vec![text(
            "Flame graphs (open one in a browser: click a frame to zoom, Ctrl-F to search): ",
        )];
        for (i, f) in flames.iter().enumerate() {
            if i > 0 {
                links.push(text(", "));
            }
            links.push(Inline::Link {
                text: f.title.clone(),
                href: f.path.clone(),
            });
        }
        links.push(text("."));
        blocks.push(Block::Paragraph(links));
    }
    blocks.push(Block::Details {
        summary: "Every profile: samples, resolution, the profiler's cost, notes".into(),
        blocks: vec![Block::Table(profiles(results))],
    });
    Some(Section {
        title: "Where the overhead goes (CPU profiles)".into(),
        blocks,
    })
}

fn intro(p: &crate::results::profile::VariantProfile) -> Block {
    Block::Paragraph(vec![
        text(format!(
            "From {} extra profiling run(s) per variant after the measured plan, which never \
             enter the statistics: ",
            p.runs.max(1)
        )),
        Inline::Code(format!(
            "perf record -e cpu-clock -F {} --call-graph {}",
            p.frequency_hz, p.call_graph
        )),
        text(
            " on every process of the target over the measured window. Each stack sample is \
             charged to its owner, the first frame from the leaf up that does work of its own: \
             a syscall, an allocation, a hash-map lookup or a lock is charged to the crate that \
             asked for it. An owner's CPU per request is its share of the variant's samples \
             times the variant's measured median CPU per request, so the rows add up to the \
             measured difference, and the machine's speed, which varies from run to run, \
             scales every owner alike and cancels out of the shares.",
        ),
    ])
}

fn us(v: f64) -> String {
    format!("{v:.1}")
}

fn signed(v: f64) -> String {
    format!("{v:+.1}")
}

fn share(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.0}%", 100.0 * part / whole)
    } else {
        String::new()
    }
}

fn rows_table(e: &Explanation, first: &str, rows: &[Row], total: Option<&Row>) -> Table {
    let measured = e.measured_added_us();
    let mut out: Vec<Vec<Vec<String>>> = rows
        .iter()
        .map(|r| {
            vec![
                cell(truncate(&r.name, 110)),
                cell(us(r.baseline_us)),
                cell(us(r.variant_us)),
                cell(signed(r.added_us())),
                cell(share(r.added_us(), measured)),
            ]
        })
        .collect();
    if let Some(rest) = total {
        out.push(vec![
            cell(rest.name.clone()),
            cell(us(rest.baseline_us)),
            cell(us(rest.variant_us)),
            cell(signed(rest.added_us())),
            cell(share(rest.added_us(), measured)),
        ]);
        out.push(vec![
            cell("measured: the target's CPU per request"),
            cell(us(e.baseline_us)),
            cell(us(e.variant_us)),
            cell(signed(measured)),
            cell(if measured > 0.0 { "100%" } else { "" }),
        ]);
    }
    Table {
        header: vec![
            first.into(),
            format!("{} µs/request", e.baseline),
            format!("{} µs/request", e.variant),
            "added".into(),
            "of the measured difference".into(),
        ],
        numeric: vec![false, true, true, true, true],
        rows: out,
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn variant(e: &Explanation, flames: &[Flame]) -> Vec<Block> {
    let measured = e.measured_added_us();
    let listed = e.listed_added_us();
    let mut summary = vec![
        Inline::Strong(format!("{} against {}", e.variant, e.baseline)),
        text(format!(
            ": the target spends {} µs of CPU per request more ({} against {}, {}). The {} \
             owners below account for {} µs of it{}; every other owner nets {} µs.",
            signed(measured),
            us(e.variant_us),
            us(e.baseline_us),
            e.basis.words(),
            e.owners.len(),
            signed(listed),
            e.explained_share()
                .map(|s| format!(" ({:.0}%)", 100.0 * s))
                .unwrap_or_default(),
            signed(e.other_owners.added_us()),
        )),
    ];
    if let Some(o) = e.profiler_overhead {
        summary.push(text(format!(
            " Profiling itself cost the target {} CPU per request in the profiling runs.",
            format::change(1.0 + o)
        )));
    }
    let mut blocks = vec![
        Block::Paragraph(summary),
        Block::Table(rows_table(e, "Owner", &e.owners, Some(&e.other_owners))),
        Block::Details {
            summary: format!(
                "The {} functions with the largest change ({} against {})",
                e.functions.len(),
                e.variant,
                e.baseline
            ),
            blocks: vec![Block::Table(rows_table(e, "Function", &e.functions, None))],
        },
    ];
    blocks.extend(
        flames
            .iter()
            .filter(|f| f.differential && f.variant == e.variant)
            .map(|f| Block::Figure {
                path: f.path.clone(),
                title: f.title.clone(),
            }),
    );
    blocks
}

fn profiles(results: &Results) -> Table {
    let rows = results
        .profiles
        .iter()
        .map(|p| {
            let measured = attribution::cpu_per_request(results, p);
            vec![
                cell(p.variant.clone()),
                cell(format!(
                    "{:.2} s in {} run(s)",
                    p.sampled_ns as f64 / 1e9,
                    p.runs
                )),
                cell(format!("{:.0}%", 100.0 * p.complete_share)),
                cell(format!("{:.0}%", 100.0 * p.resolved_share)),
                cell(if p.requests > 0 {
                    us(p.sampled_ns as f64 / 1e3 / p.requests as f64)
                } else {
                    String::new()
                }),
                cell(if p.cpu_us_per_request > 0.0 {
                    format!("{} (measured {})", us(p.cpu_us_per_request), us(measured))
                } else {
                    String::new()
                }),
                cell(if p.perf_us_per_request > 0.0 {
                    us(p.perf_us_per_request)
                } else {
                    String::new()
                }),
                p.notes.clone(),
            ]
        })
        .collect();
    Table {
        header: vec![
            "Variant".into(),
            "CPU sampled".into(),
            "Stacks complete".into(),
            "With named frames".into(),
            "Sampled µs/request".into(),
            "CPU µs/request in the profiling runs (/proc)".into(),
            "perf's own CPU µs/request".into(),
            "Notes".into(),
        ],
        numeric: vec![false, true, true, true, true, true, true, false],
        rows,
    }
}
