//! Scale-out: which instances a merged file came from, how closely their windows met, and the
//! target-side samples joined; for one shard's own file, how to merge it.

use crate::report::document::{Block, Inline, Section, cell, table, text};
use crate::report::format;
use crate::results::Results;
use crate::results::shard::{SampleSource, ShardRecord, ShardSource};

/// The section, for a shard or a merged file.
pub fn section(results: &Results) -> Option<Section> {
    if let Some(s) = &results.shard {
        return Some(shard(s));
    }
    let first = results.merged_from.first()?;
    Some(Section {
        title: "Shards".into(),
        blocks: vec![
            merged(results, first),
            instances(&results.merged_from),
            windows(results),
            Block::Paragraph(vec![text(
                "Starts apart: the latest shard's window start minus the earliest's, each by its own clock: their scheduling plus whatever offset NTP leaves between the machines' clocks, which no instance can see.",
            )]),
            samples(&results.samples),
        ],
    })
}

/// One shard's own file: what it is and how to merge it.
fn shard(s: &ShardRecord) -> Section {
    Section {
        title: "Shard".into(),
        blocks: vec![Block::Paragraph(vec![text(format!(
            "This file is shard {} of {} of a scaled-out run against {}, started at {}: it drove {} of the load. Its figures are one instance's; `otelbench merge` adds the {} shards' histograms into the run's.",
            s.index,
            s.count,
            s.target_url,
            s.start_at,
            if s.count == 1 {
                "all".to_string()
            } else {
                format!("1/{}", s.count)
            },
            s.count
        ))])],
    }
}

/// How a merged file was put together.
fn merged(results: &Results, first: &ShardSource) -> Block {
    Block::Paragraph(vec![text(format!(
        "Merged from {} instances of `otelbench run --shard I/{}` against {}, started at {}. The latency histograms were added (percentiles are those of every request the instances measured, not averages); requests, errors and rates are sums. A run is valid only where every shard's is, and its windows overlapped for at least 90% of their length.",
        results.merged_from.len(),
        results.merged_from.len(),
        first.target_url,
        first.start_at
    ))])
}

/// The instances a merged file came from.
fn instances(sources: &[ShardSource]) -> Block {
    table(
        &[
            ("Shard", true),
            ("Host", false),
            ("Requests", true),
            ("Invalid runs", true),
            ("File", false),
        ],
        sources
            .iter()
            .map(|s| {
                vec![
                    cell(s.index.to_string()),
                    cell(s.hostname.clone()),
                    cell(s.requests.to_string()),
                    cell(s.invalid_runs.to_string()),
                    cell(s.file.clone()),
                ]
            })
            .collect(),
    )
}

/// Each run's window and how far apart the shards started it.
fn windows(results: &Results) -> Block {
    table(
        &[
            ("Configuration", false),
            ("Rep.", true),
            ("Window", false),
            ("Shards' starts apart", true),
        ],
        results
            .runs
            .iter()
            .map(|r| {
                let w = r.window.as_ref();
                vec![
                    cell(r.variant.clone()),
                    cell(r.repetition.to_string()),
                    cell(w.map_or_else(|| "–".into(), |w| format!("{} to {}", w.start, w.end))),
                    cell(
                        w.and_then(|w| w.start_spread_ms)
                            .map_or_else(|| "–".into(), |ms| format::value("p50", ms * 1e3)),
                    ),
                ]
            })
            .collect(),
    )
}

/// The target-side samples joined, or how to join them.
fn samples(samples: &[SampleSource]) -> Block {
    if samples.is_empty() {
        return Block::Paragraph(vec![
            text(
                "No target-side samples were joined, so the target's CPU and memory are not known. Run ",
            ),
            Inline::Code("otelbench sample --pid web=PID --out samples.jsonl".into()),
            text(" on the target's machine during the run, and merge with "),
            Inline::Code("--samples samples.jsonl".into()),
            text("."),
        ]);
    }
    Block::Paragraph(vec![text(format!(
        "Target CPU and memory from `otelbench sample` over each run's window: {}.",
        samples
            .iter()
            .map(|s| format!(
                "{} on {} ({} readings of {})",
                s.file,
                s.hostname,
                s.samples,
                s.processes.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ))])
}
