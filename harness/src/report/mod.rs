//! Reports: renderers of analysed results. `write_all` writes report.md, report.html,
//! charts/*.svg and *.png, results.csv and benchmark.json into a directory (and ab.md, the
//! verdict alone, for an A/B of two builds). Renderers only
//! render: every figure comes from `stats`.

pub mod assemble;
pub mod benchmark;
pub mod charts;
pub mod comparison;
pub mod csv;
pub mod document;
pub mod flames;
pub mod format;
pub mod html;
pub mod markdown;
pub mod model;
pub mod sections;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::results::Results;
use crate::stats;

/// Writes every report of `results` (already analysed) into `dir`; returns the files written.
/// Flame graphs are drawn from the profiles' folded stacks under `dir` (`profiles/`).
pub fn write_all(dir: &Path, results: &Results) -> anyhow::Result<Vec<PathBuf>> {
    let delivery = stats::delivery::delivery(results);
    let model = assemble::chart_model(results, &delivery);
    let charts = charts::render_all(&model).context("drawing the charts")?;
    let refs: Vec<sections::ChartRef> = charts
        .iter()
        .map(|c| sections::ChartRef {
            name: c.name.to_string(),
            title: c.title.clone(),
        })
        .collect();
    let faults = stats::faults::summarize(results);
    let ab = stats::ab::judge(results);
    let flames = flames::render_all(dir, results);
    let doc = sections::document(results, &delivery, &faults, &refs, &flames, ab.as_ref());
    let svgs: BTreeMap<String, String> = charts
        .iter()
        .map(|c| (c.name.to_string(), c.svg.clone()))
        .chain(flames.iter().map(|f| (f.path.clone(), f.svg.clone())))
        .collect();

    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        ("report.md".into(), markdown::render(&doc).into_bytes()),
        ("report.html".into(), html::render(&doc, &svgs).into_bytes()),
        ("results.csv".into(), csv::render(results).into_bytes()),
        (
            "benchmark.json".into(),
            benchmark::render(results)?.into_bytes(),
        ),
    ];
    if let (Some(plan), Some(judged)) = (&results.scenario.ab, &ab) {
        let doc = document::Document {
            title: format!("otelbench A/B: {}", results.scenario.name),
            sections: vec![comparison::ab_section(plan, judged)],
        };
        files.push(("ab.md".into(), markdown::render(&doc).into_bytes()));
    }
    for c in &charts {
        files.push((
            format!("charts/{}.svg", c.name).into(),
            c.svg.clone().into_bytes(),
        ));
        files.push((format!("charts/{}.png", c.name).into(), c.png.clone()));
    }
    for f in &flames {
        files.push((f.path.clone().into(), f.svg.clone().into_bytes()));
    }
    let mut subdirs = vec![dir.join("charts")];
    if !flames.is_empty() {
        subdirs.push(dir.join("profiles"));
    }
    for sub in subdirs {
        std::fs::create_dir_all(&sub).with_context(|| format!("creating {}", sub.display()))?;
    }
    let mut written = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests;
