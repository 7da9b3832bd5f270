//! Joins `otelbench sample` readings to merged runs: each process tree's CPU over the run's
//! window (its cumulative CPU interpolated at the window's edges), per request and in cores,
//! and its RSS over the window.

use std::collections::BTreeMap;

use crate::results::RunResult;
use crate::sidecar::file::Samples;

/// One process tree's readings, named uniquely across the files.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// The name in results.json (`web`, or `web@host` when two files name a tree alike).
    pub name: String,
    tree: String,
    samples: &'a Samples,
}

/// Every tree of every file, with names that do not collide.
pub fn series<'a>(files: &[&'a Samples]) -> Vec<Series<'a>> {
    let mut out: Vec<Series<'a>> = Vec::new();
    for s in files {
        for tree in s.header.processes.keys() {
            let mut name = tree.clone();
            if out.iter().any(|x| x.name == name) {
                name = format!("{tree}@{}", s.header.hostname);
            }
            let base = name.clone();
            let mut k = 2;
            while out.iter().any(|x| x.name == name) {
                name = format!("{base}#{k}");
                k += 1;
            }
            out.push(Series {
                name,
                tree: tree.clone(),
                samples: s,
            });
        }
    }
    out
}

/// The tree's cumulative CPU at `t_us`, interpolated between the readings around it; `None`
/// outside the readings.
fn cpu_at(s: &Series<'_>, t_us: i64) -> Option<f64> {
    let readings = &s.samples.samples;
    let after = readings.iter().position(|r| r.t_us >= t_us)?;
    let b = &readings[after];
    let vb = *b.cpu_us.get(&s.tree)?;
    if b.t_us == t_us || after == 0 {
        return (b.t_us == t_us).then_some(vb);
    }
    let a = &readings[after - 1];
    let va = *a.cpu_us.get(&s.tree)?;
    let f = (t_us - a.t_us) as f64 / (b.t_us - a.t_us) as f64;
    Some(va + f * (vb - va))
}

/// Fills `run`'s target CPU and memory from `series` over its window. Returns the names of the
/// trees whose readings do not cover the window (nothing is filled then: a partial sum would
/// read as a small cost).
pub fn fill(run: &mut RunResult, series: &[Series<'_>]) -> Result<(), Vec<String>> {
    let Some((from, to)) = run
        .window
        .as_ref()
        .and_then(|w| Some((super::runs::micros(&w.start)?, super::runs::micros(&w.end)?)))
    else {
        return Err(series.iter().map(|s| s.name.clone()).collect());
    };
    let mut cpu: BTreeMap<String, f64> = BTreeMap::new();
    let mut uncovered = Vec::new();
    for s in series {
        match cpu_at(s, from).zip(cpu_at(s, to)) {
            Some((a, b)) => {
                cpu.insert(s.name.clone(), (b - a).max(0.0));
            }
            None => uncovered.push(s.name.clone()),
        }
    }
    if !uncovered.is_empty() {
        return Err(uncovered);
    }
    let requests = run.load.requests;
    let per = |us: f64| {
        if requests == 0 {
            0.0
        } else {
            us / requests as f64
        }
    };
    let total: f64 = cpu.values().sum();
    let wall_s = (to - from) as f64 / 1e6;
    run.cpu.target_us_per_request = per(total);
    run.cpu.target_cores = if wall_s > 0.0 {
        total / 1e6 / wall_s
    } else {
        0.0
    };
    run.cpu.per_process_us_per_request = cpu.iter().map(|(n, us)| (n.clone(), per(*us))).collect();
    run.memory_mb = series
        .iter()
        .map(|s| {
            let rss: Vec<f64> = s
                .samples
                .samples
                .iter()
                .filter(|r| (from..=to).contains(&r.t_us))
                .filter_map(|r| r.rss_mb.get(&s.tree).copied())
                .collect();
            (s.name.clone(), crate::runner::sampler::summarize(&rss))
        })
        .collect();
    Ok(())
}
