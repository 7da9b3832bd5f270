//! The A/B of two builds in one plan (`run --baseline-target A --candidate-target B`): every
//! variant of the scenario runs on the base build and on the candidate build, side by side in
//! each block, so that both meet the same machine drift; the candidate is then judged against
//! the base with `compare`'s statistics and gate, inside one results file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Build, Scenario, TargetSpec, Variant};

/// The side of the base build.
pub const BASE: &str = "base";
/// The side of the candidate build.
pub const CANDIDATE: &str = "candidate";

/// What an A/B plan runs and how it is judged (recorded in results.json as `scenario.ab`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AbPlan {
    /// The base build as given: a `target-app` binary, or the directory a command target runs
    /// in.
    pub base: String,
    /// The candidate build, likewise.
    pub candidate: String,
    /// Per variant of the scenario, the names of its base and candidate runs.
    pub pairs: Vec<AbPair>,
    /// Gated metrics and their thresholds, as fractions (`--max-regression`).
    pub gate: BTreeMap<String, f64>,
    /// An inconclusive gated metric, or a variant short of valid runs, fails the gate too.
    pub strict: bool,
}

/// One variant of the scenario on both builds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AbPair {
    /// The scenario's variant.
    pub variant: String,
    /// Its runs on the base build.
    pub base: String,
    /// Its runs on the candidate build.
    pub candidate: String,
}

/// The name of `variant`'s runs on `side` ([`BASE`] or [`CANDIDATE`]).
pub fn side_name(variant: &str, side: &str) -> String {
    format!("{variant} [{side}]")
}

/// Turns `scenario` into its A/B: each variant becomes two, `<name> [base]` and
/// `<name> [candidate]`, adjacent in every block; the baseline is the base build's. The A/A copy
/// is dropped (the A/B's own intervals state what it can detect). The error is the message for
/// the user (bad input).
pub fn expand(
    scenario: &mut Scenario,
    base: &Path,
    candidate: &Path,
    gate: BTreeMap<String, f64>,
    strict: bool,
) -> Result<(), String> {
    if let Some(v) = scenario.variants.iter().find(|v| v.build.is_some()) {
        return Err(format!(
            "{}: variant `{}` carries its own build (binary, command or dir), and \
             --baseline-target/--candidate-target give every variant both builds; fix: remove the \
             variant's build, or drop the two options and compare the variants as the scenario \
             defines them",
            scenario.file.display(),
            v.name
        ));
    }
    let builtin = matches!(scenario.target, TargetSpec::Builtin { .. });
    let build = |option: &str, path: &Path| -> Result<Build, String> {
        if builtin {
            if !path.is_file() {
                return Err(format!(
                    "{option} {}: not a file; fix: give the target-app binary of that build \
                     (e.g. target/release/target-app of its checkout)",
                    path.display()
                ));
            }
            Ok(Build {
                binary: Some(path.to_path_buf()),
                ..Build::default()
            })
        } else {
            if !path.is_dir() {
                return Err(format!(
                    "{option} {}: not a directory; fix: for a command target give the checkout \
                     of that build: its commands run there",
                    path.display()
                ));
            }
            Ok(Build {
                dir: Some(path.to_path_buf()),
                ..Build::default()
            })
        }
    };
    let builds = [
        (BASE, build("--baseline-target", base)?),
        (CANDIDATE, build("--candidate-target", candidate)?),
    ];
    if let Some(copy) = scenario.calibration_variant.take() {
        scenario.variants.retain(|v| v.name != copy);
    }
    let mut variants = Vec::with_capacity(scenario.variants.len() * 2);
    let mut pairs = Vec::with_capacity(scenario.variants.len());
    for v in &scenario.variants {
        for (side, b) in &builds {
            variants.push(Variant {
                name: side_name(&v.name, side),
                build: Some(b.clone()),
                ..v.clone()
            });
        }
        pairs.push(AbPair {
            variant: v.name.clone(),
            base: side_name(&v.name, BASE),
            candidate: side_name(&v.name, CANDIDATE),
        });
    }
    scenario.variants = variants;
    scenario.baseline = side_name(&scenario.baseline, BASE);
    scenario.ab = Some(AbPlan {
        base: base.display().to_string(),
        candidate: candidate.display().to_string(),
        pairs,
        gate,
        strict,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    const CI: &str = r#"
name = "ci"
baseline = "off"
aa_calibration = true
[load]
model = "rate"
rate = 100
duration_s = 5
[[variants]]
name = "off"
env = { OTEL_SDK_DISABLED = "true" }
[[variants]]
name = "100%"
env = { OTEL_TRACES_SAMPLER = "always_on" }
"#;

    fn gate() -> BTreeMap<String, f64> {
        [("cpu_adjusted".to_string(), 0.05)].into()
    }

    #[test]
    fn every_variant_runs_on_both_builds_side_by_side() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "").unwrap();
        std::fs::write(&b, "").unwrap();
        let mut s = parse(Path::new("ci.toml"), CI).unwrap();
        expand(&mut s, &a, &b, gate(), false).unwrap();
        let names: Vec<&str> = s.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "off [base]",
                "off [candidate]",
                "100% [base]",
                "100% [candidate]"
            ]
        );
        assert_eq!(s.baseline, "off [base]");
        assert_eq!(s.calibration_variant, None, "the A/A copy is dropped");
        assert_eq!(
            s.variants[1].build.as_ref().unwrap().binary.as_ref(),
            Some(&b)
        );
        assert_eq!(
            s.variants[2].build.as_ref().unwrap().binary.as_ref(),
            Some(&a)
        );
        assert_eq!(s.variants[3].env["OTEL_TRACES_SAMPLER"], "always_on");
        let plan = s.ab.unwrap();
        assert_eq!(plan.pairs[1].candidate, "100% [candidate]");
        assert_eq!(plan.gate, gate());
    }

    #[test]
    fn a_missing_build_is_named() {
        let mut s = parse(Path::new("ci.toml"), CI).unwrap();
        let e = expand(
            &mut s,
            Path::new("/nonexistent/base"),
            Path::new("/nonexistent/head"),
            gate(),
            false,
        )
        .unwrap_err();
        assert!(
            e.contains("--baseline-target /nonexistent/base: not a file"),
            "{e}"
        );
    }

    #[test]
    fn a_command_target_takes_directories() {
        let text = CI.replace(
            "[load]",
            "[target]\nkind = \"command\"\ncommand = [\"./run.sh\"]\nready_url = \"http://127.0.0.1:{port}/\"\n[load]",
        ) + "[[load.requests]]\nname = \"home\"\npath = \"/\"\n";
        let dir = tempfile::tempdir().unwrap();
        let mut s = parse(Path::new("ci.toml"), &text).unwrap();
        expand(&mut s, dir.path(), dir.path(), gate(), true).unwrap();
        let b = s.variants[0].build.as_ref().unwrap();
        assert_eq!(b.dir.as_deref(), Some(dir.path()));
        assert_eq!(b.binary, None);
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        let mut s = parse(Path::new("ci.toml"), &text).unwrap();
        let e = expand(&mut s, &file, dir.path(), gate(), false).unwrap_err();
        assert!(e.contains("not a directory"), "{e}");
    }

    #[test]
    fn a_scenario_with_its_own_builds_is_refused() {
        let text = CI.replace(
            "name = \"100%\"",
            "name = \"100%\"\nbinary = \"/tmp/other-target-app\"",
        );
        let mut s = parse(Path::new("ci.toml"), &text).unwrap();
        let e = expand(&mut s, Path::new("a"), Path::new("b"), gate(), false).unwrap_err();
        assert!(e.contains("variant `100%` carries its own build"), "{e}");
    }
}
