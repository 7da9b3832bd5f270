//! Writes `results.json` atomically (temporary file, then rename), so a crash or an interrupt at
//! any moment leaves either the previous or the new complete file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::Results;

/// The results file of an output directory.
pub fn results_path(dir: &Path) -> PathBuf {
    dir.join("results.json")
}

/// Rewrites `dir/results.json` with `results`.
pub fn write(dir: &Path, results: &Results) -> anyhow::Result<()> {
    let path = results_path(dir);
    let tmp = dir.join(".results.json.tmp");
    let json = serde_json::to_vec_pretty(results).context("serialising results")?;
    std::fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// Reads a results file, checking the schema version.
pub fn read(path: &Path) -> anyhow::Result<Results> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let results: Results = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an otelbench results file", path.display()))?;
    anyhow::ensure!(
        results.schema_version == super::SCHEMA_VERSION,
        "{} has schema_version {}, this otelbench reads {}",
        path.display(),
        results.schema_version,
        super::SCHEMA_VERSION
    );
    Ok(results)
}
