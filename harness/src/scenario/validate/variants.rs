//! The variants: the listed `[[variants]]`, the `[matrix]`'s expansion, their names and
//! environments, the baseline among them, and the A/A copy of the baseline.

use std::collections::BTreeSet;

use serde_spanned::Spanned;

use super::{Checker, is_env_name};
use crate::scenario::{
    MatrixSpec, ScenarioFile, TargetSpec, Variant, VariantSpec, collector, matrix,
};
use crate::sink::Fault;

/// Variables the harness sets itself; a variant may not set them.
const HARNESS_OWNED: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "TARGET_APP_TOTALS_FILE",
    "OTELBENCH_RUN_DIR",
];

/// A variant and the line it was defined on.
pub(super) type Placed = (Option<usize>, Variant);

/// Every variant, the listed ones first, then the matrix's; checked.
pub(super) fn variants(
    c: &mut Checker<'_>,
    file: &ScenarioFile,
    target: &TargetSpec,
    default_fault: Option<Fault>,
) -> Vec<Placed> {
    let mut variants: Vec<Placed> = file
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| listed(c, i, v, file, target, default_fault))
        .collect();
    if let Some(m) = &file.matrix {
        variants.extend(expand_matrix(c, m, file, default_fault));
    }
    if variants.is_empty() {
        c.push(
            None,
            "variants",
            "there are none",
            "add [[variants]] (name and env) or a [matrix]",
        );
    }
    names_and_env(c, &variants);
    variants
}

/// One `[[variants]]` entry: it sets a variable, its fault and its build fit the scenario.
fn listed(
    c: &mut Checker<'_>,
    i: usize,
    v: &Spanned<VariantSpec>,
    file: &ScenarioFile,
    target: &TargetSpec,
    default_fault: Option<Fault>,
) -> Placed {
    let line = Some(c.line(v));
    let spec = v.get_ref();
    if spec.env.is_empty() {
        c.push(
            line,
            format!("variants[{i}].env"),
            format!("variant {:?} sets no environment variable", spec.name),
            "add env = { OTEL_SDK_DISABLED = \"true\" } or the settings it stands for",
        );
    }
    let fault = match &spec.fault {
        None => default_fault,
        Some(f) => collector::fault(&format!("variants[{i}].fault"), f, &file.collector)
            .unwrap_or_else(|(field, message, fix)| {
                c.push(line, field, message, fix);
                None
            }),
    };
    if let Some((field, message, fix)) = build_problem(spec, target) {
        c.push(line, format!("variants[{i}].{field}"), message, fix);
    }
    let variant = Variant {
        name: spec.name.clone(),
        env: spec.env.clone(),
        fault,
        build: spec.build(),
    };
    (line, variant)
}

/// The `[matrix]`: its axes have values, with faults the collector can play and no builds of
/// their own; expanded, unless two axes set one variable.
fn expand_matrix(
    c: &mut Checker<'_>,
    m: &Spanned<MatrixSpec>,
    file: &ScenarioFile,
    default_fault: Option<Fault>,
) -> Vec<Placed> {
    let line = Some(c.line(m));
    let axes = &m.get_ref().axes;
    if axes.is_empty() {
        c.push(
            line,
            "matrix.axes",
            "is empty",
            "add [[matrix.axes]] with a name and values",
        );
    }
    for (i, axis) in axes.iter().enumerate() {
        for (j, value) in axis.values.iter().enumerate() {
            if let Some(f) = &value.fault
                && let Err((field, message, fix)) = collector::fault(
                    &format!("matrix.axes[{i}].values[{j}].fault"),
                    f,
                    &file.collector,
                )
            {
                c.push(line, field, message, fix);
            }
        }
        for (j, value) in axis.values.iter().enumerate() {
            if value.build().is_some() {
                c.push(
                    line,
                    format!("matrix.axes[{i}].values[{j}]"),
                    "a matrix value cannot carry its own build (binary, command, \
                     worker_command, dir)",
                    "give builds to [[variants]], or use `run --baseline-target PATH \
                     --candidate-target PATH` to run every variant on two builds",
                );
            }
        }
        if axis.values.is_empty() {
            c.push(
                line,
                format!("matrix.axes[{i}].values"),
                format!("axis {:?} has no values", axis.name),
                "add values = [{ name = \"...\", env = { ... } }]",
            );
        }
    }
    match matrix::expand(axes, default_fault) {
        Ok(expanded) => expanded.into_iter().map(|v| (line, v)).collect(),
        Err(conflict) => {
            c.push(
                line,
                "matrix.axes",
                format!(
                    "axes {:?} and {:?} both set {}",
                    conflict.axes.0, conflict.axes.1, conflict.key
                ),
                "set each variable on one axis only",
            );
            Vec::new()
        }
    }
}

/// Names are given and distinct; variables are variable names the harness does not own.
fn names_and_env(c: &mut Checker<'_>, variants: &[Placed]) {
    let mut seen = BTreeSet::new();
    for (line, v) in variants {
        if v.name.trim().is_empty() {
            c.push(
                *line,
                "variants.name",
                "is empty",
                "give every variant a name",
            );
        }
        if !seen.insert(v.name.as_str()) {
            c.push(
                *line,
                "variants.name",
                format!("{:?} appears twice", v.name),
                "give each variant its own name",
            );
        }
        for key in v.env.keys() {
            if !is_env_name(key) {
                c.push(
                    *line,
                    format!("variants.{}.env.{key}", v.name),
                    "is not a variable name",
                    "use letters, digits and _",
                );
            }
            if HARNESS_OWNED.contains(&key.as_str()) {
                c.push(
                    *line,
                    format!("variants.{}.env.{key}", v.name),
                    "is set by the harness",
                    "remove it (the harness sets it for every run: the collector endpoint, the run directory)",
                );
            }
        }
    }
}

/// The baseline names a variant.
pub(super) fn baseline(c: &mut Checker<'_>, baseline: &Spanned<String>, variants: &[Placed]) {
    let name = baseline.get_ref();
    if !variants.iter().any(|(_, v)| &v.name == name) {
        let names: Vec<_> = variants
            .iter()
            .map(|(_, v)| format!("{:?}", v.name))
            .collect();
        c.push(
            Some(c.line(baseline)),
            "baseline",
            format!("{name:?} is not the name of a variant"),
            format!("use one of {}", names.join(", ")),
        );
    }
}

/// The A/A calibration's copy of the baseline, named `copy`, added last (unless a variant
/// already has that name).
pub(super) fn add_calibration(
    c: &mut Checker<'_>,
    copy: &str,
    baseline: &str,
    variants: &mut Vec<Placed>,
) {
    if variants.iter().any(|(_, v)| v.name == copy) {
        c.push(
            None,
            "aa_calibration",
            format!("a variant is already named {copy:?}, the name of the A/A copy"),
            "rename that variant",
        );
    } else if let Some((line, base)) = variants.iter().find(|(_, v)| v.name == baseline) {
        let copy = Variant {
            name: copy.to_string(),
            env: base.env.clone(),
            fault: base.fault,
            build: base.build.clone(),
        };
        variants.push((*line, copy));
    }
}

/// What is wrong with a variant's own build for this target, as (field, message, fix).
fn build_problem(
    spec: &VariantSpec,
    target: &TargetSpec,
) -> Option<(&'static str, String, &'static str)> {
    match target {
        TargetSpec::Builtin { .. } => {
            let field = if spec.command.is_some() {
                "command"
            } else if spec.worker_command.is_some() {
                "worker_command"
            } else if spec.dir.is_some() {
                "dir"
            } else {
                return None;
            };
            Some((
                field,
                format!(
                    "is for a command target; variant {:?} runs the built-in target",
                    spec.name
                ),
                "give the built-in target's build as `binary = \"path/to/target-app\"`",
            ))
        }
        TargetSpec::Command { .. } => {
            if spec.binary.is_some() {
                return Some((
                    "binary",
                    format!(
                        "is for the built-in target; variant {:?} runs a command",
                        spec.name
                    ),
                    "give this build as `command` (and `worker_command`, `dir`)",
                ));
            }
            for (field, argv) in [
                ("command", &spec.command),
                ("worker_command", &spec.worker_command),
            ] {
                if argv
                    .as_ref()
                    .is_some_and(|a| a.first().is_none_or(|p| p.trim().is_empty()))
                {
                    return Some((
                        field,
                        "is empty".to_string(),
                        "give the program and its arguments, e.g. [\"./run.sh\", \"web\"]",
                    ));
                }
            }
            None
        }
    }
}
