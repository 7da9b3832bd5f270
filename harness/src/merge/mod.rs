//! `otelbench merge`: the shards of one scaled-out run (`run --shard I/N`) combined into one
//! results file, exactly: latency histograms added, counts and rates summed, validity merged
//! with the shard named; target-side CPU and RSS joined from `otelbench sample` files.
//!
//! `check` refuses inputs that are not the shards of one run; `runs` merges one place of the
//! plan; `samples` joins the sidecar's readings.

pub mod check;
pub mod runs;
pub mod samples;

use crate::results::shard::{SampleSource, ShardSource};
use crate::results::{Results, RunResult};
use crate::sidecar::file::Samples;

pub use check::Input;

/// The merged results (statistics not yet computed), and warnings for the terminal.
#[derive(Debug)]
pub struct Merged {
    /// The merged file.
    pub results: Results,
    /// What the merge could not do (samples that do not cover a run).
    pub warnings: Vec<String>,
}

/// Merges `inputs` (path, results) and joins `sample_files` (path, samples); `command` is the
/// merge's own command line. An error names the file and the fix.
pub fn merge(
    inputs: Vec<Input>,
    sample_files: &[(String, Samples)],
    command: String,
) -> Result<Merged, String> {
    let shards = check::shards(inputs)?;
    let first = &shards[0].1;
    let places = places(&shards);
    let mut runs = Vec::with_capacity(places.len());
    for (variant, repetition) in &places {
        let of_place: Vec<runs::ShardRun<'_>> = shards
            .iter()
            .map(|(_, r)| {
                let index = r.shard.as_ref().map_or(0, |s| s.index);
                let run = r
                    .kept_runs()
                    .find(|x| &x.variant == variant && x.repetition == *repetition);
                (index, run)
            })
            .collect();
        runs.push(runs::merge(&of_place).map_err(|e| {
            format!("{variant} repetition {repetition}: {e}; fix: give the results files unchanged")
        })?);
    }
    let mut warnings = Vec::new();
    let parsed: Vec<&Samples> = sample_files.iter().map(|(_, s)| s).collect();
    let series = samples::series(&parsed);
    if !series.is_empty() {
        for run in &mut runs {
            if let Err(uncovered) = samples::fill(run, &series) {
                warnings.push(format!(
                    "{} repetition {}: the samples of {} do not cover its window ({}); its target CPU and memory are left out",
                    run.variant,
                    run.repetition,
                    uncovered.join(", "),
                    run.window
                        .as_ref()
                        .map_or_else(|| "unknown".to_string(), |w| format!("{} to {}", w.start, w.end))
                ));
            }
        }
    }
    let results = Results {
        finished_at: shards
            .iter()
            .map(|(_, r)| r.finished_at.clone())
            .max()
            .unwrap_or_default(),
        interrupted: shards.iter().any(|(_, r)| r.interrupted),
        runs,
        merged_from: shards.iter().map(|(f, r)| source(f, r)).collect(),
        samples: sample_files
            .iter()
            .map(|(file, s)| SampleSource {
                file: file.clone(),
                hostname: s.header.hostname.clone(),
                processes: s.header.processes.clone(),
                samples: s.samples.len(),
            })
            .collect(),
        ..Results::new(
            first.scenario.clone(),
            first.environment.clone(),
            command,
            shards
                .iter()
                .map(|(_, r)| r.started_at.clone())
                .min()
                .unwrap_or_default(),
        )
    };
    Ok(Merged { results, warnings })
}

/// Every (variant, repetition) any shard ran, in the order of the lowest shard that ran it.
fn places(shards: &[Input]) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for (_, r) in shards {
        for run in r.kept_runs() {
            let place = (run.variant.clone(), run.repetition);
            if !out.contains(&place) {
                out.push(place);
            }
        }
    }
    out
}

fn source(file: &str, r: &Results) -> ShardSource {
    ShardSource {
        file: file.to_string(),
        index: r.shard.as_ref().map_or(0, |s| s.index),
        target_url: r
            .shard
            .as_ref()
            .map(|s| s.target_url.clone())
            .unwrap_or_default(),
        start_at: r
            .shard
            .as_ref()
            .map(|s| s.start_at.clone())
            .unwrap_or_default(),
        hostname: r.environment.hostname.clone(),
        command: r.command.clone(),
        started_at: r.started_at.clone(),
        finished_at: r.finished_at.clone(),
        requests: r.kept_runs().map(|x| x.load.requests).sum(),
        invalid_runs: r.kept_runs().filter(|x: &&RunResult| !x.valid).count(),
    }
}
