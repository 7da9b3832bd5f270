//! Profiling runs (`profile = true`, `run --profile`): after the measured plan, one or more
//! extra runs per variant, each an ordinary run (target started afresh, warm-up, window) with
//! `perf record` sampling every target process during the window (`record`). Their stacks are
//! folded (`perf`), merged per variant into `profiles/<variant>.folded`, and attributed to
//! owners (`stats::profile`); the runs themselves never enter the statistics.

mod perf;
mod record;

use std::path::Path;

use tokio::sync::watch;

pub use self::perf::{check_perf, fold};
pub(super) use self::record::Slot;
use super::{Ctx, Interrupted, run_one};
use crate::plan::PlannedRun;
use crate::results::profile::VariantProfile;
use crate::results::{self, Results, RunResult};
use crate::scenario::profile::Profiler;
use crate::scenario::{Model, TargetSpec, Variant};
use crate::stats::profile as attribution;

/// A file name for a variant's profile files: letters, digits and dashes.
pub fn slug(variant: &str) -> String {
    let mut out = String::new();
    for c in variant.chars() {
        match c {
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            '%' => out.push_str("pct"),
            '.' | '_' => out.push(c),
            _ if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "variant".into()
    } else {
        trimmed.into()
    }
}

/// What the profile of a stack set cannot show, in plain words.
fn notes_on(folded: &str, p: &VariantProfile) -> Vec<String> {
    let mut notes = Vec::new();
    if folded.contains("_PyEval_EvalFrame") && !folded.contains("py::") {
        notes.push(
            "Python functions are not named: this Python has no perf support, so the profile \
             shows CPython's C functions (the interpreter loop, the allocator) and the C \
             extensions; Python 3.12 or later names each Python function (`py::` frames) when \
             PYTHONPERFSUPPORT=1, which profiling runs set"
                .into(),
        );
    }
    if p.has_samples() && p.resolved_share < 0.5 {
        notes.push(format!(
            "only {:.0}% of the samples reach a named frame of the program: build it with \
             symbols (Rust: `debug = \"line-tables-only\"` in the release profile) and unwind \
             tables, or use call_graph = \"dwarf\"",
            100.0 * p.resolved_share
        ));
    }
    notes
}

/// A variant as profiled: for a command target, with Python's perf support asked for.
fn profiled_variant(ctx: &Ctx<'_>, variant: &Variant) -> Variant {
    let mut v = variant.clone();
    if matches!(ctx.scenario.target, TargetSpec::Command { .. }) {
        // Python 3.12+ then names its functions to perf (no effect elsewhere).
        v.env
            .entry("PYTHONPERFSUPPORT".into())
            .or_insert_with(|| "1".into());
    }
    v
}

/// One variant's profiling runs, merged.
#[derive(Default)]
struct Gathered {
    folded: Vec<String>,
    requests: u64,
    target_us: f64,
    perf_us: f64,
    data_bytes: u64,
    problems: Vec<String>,
    runs: u32,
}

async fn gather(
    ctx: &Ctx<'_>,
    variant: &Variant,
    spec: Profiler,
    scratch: &Path,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<Gathered> {
    let mut g = Gathered::default();
    let profiled = profiled_variant(ctx, variant);
    for run in 1..=spec.runs {
        let data = scratch.join(format!("{}-{run}.data", slug(&variant.name)));
        let slot = Slot::new(spec, data.clone());
        let run_ctx = Ctx {
            profile: Some(&slot),
            ..ctx.clone()
        };
        let planned = PlannedRun {
            variant: 0,
            repetition: run,
        };
        eprintln!(
            "otelbench: profiling run {run}/{}: {}",
            spec.runs, variant.name
        );
        let result: RunResult = run_one(&run_ctx, &profiled, planned, None, cancel).await?;
        match slot.take() {
            Ok(us) => g.perf_us += us,
            Err(e) => {
                g.problems.push(format!("profiling run {run}: {e}"));
                continue;
            }
        }
        if let Some(reason) = result
            .invalid_reason
            .as_ref()
            .filter(|_| !result.latency_only)
        {
            // The profile's shares stand; its CPU per request may not. (A profiling run's
            // latency is not measured: perf shares the machine.)
            g.problems.push(format!(
                "profiling run {run} was invalid as a measurement ({reason}); its stacks are kept"
            ));
        }
        g.data_bytes += std::fs::metadata(&data).map_or(0, |m| m.len());
        // Folded, the data goes: with dwarf stacks it runs to hundreds of MB per run.
        let folding = tokio::task::spawn_blocking(move || {
            let folded = fold(&data);
            let _ = std::fs::remove_file(&data);
            folded
        });
        match folding.await {
            Ok(Ok(folded)) => {
                g.folded.push(folded);
                g.requests += result.load.requests;
                g.target_us += result.cpu.target_us_per_request * result.load.requests as f64;
                g.runs += 1;
            }
            Ok(Err(e)) => g.problems.push(format!("profiling run {run}: {e}")),
            Err(e) => g.problems.push(format!("profiling run {run}: {e}")),
        }
    }
    Ok(g)
}

/// Runs the profiling runs of every variant (not the A/A copy: it is the baseline's
/// configuration), writes `out_dir/profiles/<variant>.folded` and adds each variant's profile
/// to `results`, rewriting results.json after each. Stops at an interrupt, keeping what was
/// profiled.
pub(super) async fn profile_all(
    ctx: &Ctx<'_>,
    spec: Profiler,
    results: &mut Results,
    out_dir: &Path,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if let Err(problem) = check_perf() {
        eprintln!("otelbench: no profiles: {problem}");
        results.profiles = ctx
            .scenario
            .variants
            .iter()
            .filter(|v| ctx.scenario.calibration_variant.as_ref() != Some(&v.name))
            .map(|v| VariantProfile {
                variant: v.name.clone(),
                notes: vec![problem.clone()],
                ..VariantProfile::default()
            })
            .collect();
        return results::writer::write(out_dir, results);
    }
    let dir = out_dir.join("profiles");
    std::fs::create_dir_all(&dir)?;
    let scratch = tempfile::Builder::new()
        .prefix("otelbench-perf-")
        .tempdir()?;
    let at_rate;
    let ctx = if ctx.scenario.load.model == Model::Capacity {
        at_rate = super::capacity::at_rate(
            ctx.scenario,
            ctx.scenario.capacity.map_or(100.0, |c| c.search.start),
        );
        Ctx {
            scenario: &at_rate,
            ..ctx.clone()
        }
    } else {
        ctx.clone()
    };
    for variant in &ctx.scenario.variants {
        if ctx.scenario.calibration_variant.as_ref() == Some(&variant.name) {
            continue;
        }
        let g = match gather(&ctx, variant, spec, scratch.path(), cancel).await {
            Err(e) if e.is::<Interrupted>() => return Err(e),
            other => other?,
        };
        let profile = summarize(variant, spec, &g, &dir)?;
        eprintln!(
            "otelbench:   {:.2} s of CPU sampled ({:.0} MB of perf data), {:.0}% of it unwound to \
             the thread's start{}",
            profile.sampled_ns as f64 / 1e9,
            g.data_bytes as f64 / 1e6,
            profile.complete_share * 100.0,
            profile
                .notes
                .iter()
                .fold(String::new(), |out, n| out + "; " + n)
        );
        results.profiles.push(profile);
        results::writer::write(out_dir, results)?;
    }
    Ok(())
}

fn summarize(
    variant: &Variant,
    spec: Profiler,
    g: &Gathered,
    dir: &Path,
) -> anyhow::Result<VariantProfile> {
    let merged = attribution::merge_folded(g.folded.iter().map(String::as_str));
    let slug = slug(&variant.name);
    std::fs::write(dir.join(format!("{slug}.folded")), &merged)?;
    let per_request = |us: f64| crate::stats::ratio::per(us, g.requests);
    let mut p = VariantProfile {
        variant: variant.name.clone(),
        runs: g.runs,
        call_graph: spec.call_graph.perf_arg(),
        frequency_hz: spec.frequency_hz,
        requests: g.requests,
        cpu_us_per_request: per_request(g.target_us),
        perf_us_per_request: per_request(g.perf_us),
        folded: format!("profiles/{slug}.folded"),
        notes: g.problems.clone(),
        ..VariantProfile::default()
    };
    attribution::fill(&mut p, &merged);
    p.notes.extend(notes_on(&merged, &p));
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("off"), "off");
        assert_eq!(slug("10%"), "10pct");
        assert_eq!(slug("off (A/A)"), "off-a-a");
        assert_eq!(slug("batch_512 x gzip"), "batch_512-x-gzip");
        assert_eq!(slug("///"), "variant");
    }

    #[test]
    fn a_python_without_perf_support_is_said_plainly() {
        let folded = "python3;_PyEval_EvalFrameDefault;PyObject_Call 40\n";
        let mut p = VariantProfile::default();
        attribution::fill(&mut p, folded);
        let notes = notes_on(folded, &p);
        assert!(
            notes.iter().any(|n| n.contains("PYTHONPERFSUPPORT")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("0% of the samples")),
            "{notes:?}"
        );
    }
}
