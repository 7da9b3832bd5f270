//! Checks the meaning of a parsed scenario (no I/O) and fills in defaults. Every problem is
//! collected, so one `otelbench validate` shows them all.

use std::collections::BTreeSet;
use std::path::Path;

use serde_spanned::Spanned;

use super::error::line_of;
use super::{
    KeepAwake, Load, Model, Problem, RequestSpec, Retries, Scenario, ScenarioError, ScenarioFile,
    TargetSpec, Variant, VariantSpec, capacity, collector, decide, defaults, hash, limits, matrix,
    profile,
};

/// Variables the harness sets itself; a variant may not set them.
const HARNESS_OWNED: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "TARGET_APP_TOTALS_FILE",
    "OTELBENCH_RUN_DIR",
];

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn line<T>(&self, s: &Spanned<T>) -> usize {
        line_of(self.text, s.span().start)
    }

    fn push(
        &mut self,
        line: Option<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.problems.push(Problem {
            line,
            field: field.into(),
            message: message.into(),
            fix: fix.into(),
        });
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or("");
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "localhost" || host.starts_with("127.") || rest.starts_with("[::1]")
}

fn check_requests(c: &mut Checker<'_>, line: Option<usize>, field: &str, requests: &[RequestSpec]) {
    let mut names = BTreeSet::new();
    for (i, r) in requests.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if r.name.trim().is_empty() {
            c.push(
                line,
                format!("{f}.name"),
                "is empty",
                "give the request a name",
            );
        }
        if !names.insert(r.name.as_str()) && field == "load.requests" {
            c.push(
                line,
                format!("{f}.name"),
                format!("{:?} appears twice", r.name),
                "give each request its own name",
            );
        }
        if !METHODS.contains(&r.method.to_ascii_uppercase().as_str()) {
            c.push(
                line,
                format!("{f}.method"),
                format!("{:?} is not supported", r.method),
                format!("use one of {}", METHODS.join(", ")),
            );
        }
        if !r.path.starts_with('/') {
            c.push(
                line,
                format!("{f}.path"),
                format!("{:?} does not start with /", r.path),
                "give a path such as /api/articles",
            );
        }
        if let Some(code) = r.expect.filter(|c| !(100..=599).contains(c)) {
            c.push(
                line,
                format!("{f}.expect"),
                format!("{code} is not an HTTP status"),
                "use a status such as 200",
            );
        }
        for (name, pointer) in &r.capture {
            if !pointer.starts_with('/') {
                c.push(
                    line,
                    format!("{f}.capture.{name}"),
                    format!("{pointer:?} is not a JSON pointer"),
                    "use a pointer such as /slug",
                );
            }
        }
    }
}

/// Validates `file` (from `path`, whose text is `text`) into a [`Scenario`].
pub fn validate(path: &Path, text: &str, file: ScenarioFile) -> Result<Scenario, ScenarioError> {
    let mut c = Checker {
        text,
        problems: Vec::new(),
    };
    if file.name.trim().is_empty() {
        c.push(Some(1), "name", "is empty", "give the scenario a name");
    }
    let repetitions = file.repetitions.as_ref().map_or(3, |r| *r.get_ref());
    if let Some(r) = file.repetitions.as_ref().filter(|r| *r.get_ref() == 0) {
        c.push(
            Some(c.line(r)),
            "repetitions",
            "must be at least 1",
            "set repetitions = 3 (3 or more are needed for a verdict)",
        );
    }
    if let Some(r) = file
        .repetitions
        .as_ref()
        .filter(|r| *r.get_ref() > limits::MAX_REPETITIONS)
    {
        c.push(
            Some(c.line(r)),
            "repetitions",
            format!("{} is more than {}", r.get_ref(), limits::MAX_REPETITIONS),
            "set repetitions = 3, or up to a few dozen for a fine noise floor",
        );
    }
    let max_error_rate = file.max_error_rate.as_ref().map_or(0.01, |r| *r.get_ref());
    if let Some(r) = file
        .max_error_rate
        .as_ref()
        .filter(|r| !(0.0..=1.0).contains(r.get_ref()))
    {
        c.push(
            Some(c.line(r)),
            "max_error_rate",
            "must be between 0 and 1",
            "set a share such as 0.01 for 1%",
        );
    }

    // Target.
    let target_line = file.target.as_ref().map(|t| c.line(t));
    let target = file
        .target
        .as_ref()
        .map_or_else(TargetSpec::default, |t| t.get_ref().clone());
    match &target {
        TargetSpec::Builtin { env, .. } => {
            for key in env.keys().filter(|k| !is_env_name(k)) {
                c.push(
                    target_line,
                    format!("target.env.{key}"),
                    "is not a variable name",
                    "use letters, digits and _",
                );
            }
        }
        TargetSpec::Command {
            command,
            worker_command,
            ready_url,
            port_env,
            ..
        } => {
            if command.first().is_none_or(|p| p.trim().is_empty()) {
                c.push(
                    target_line,
                    "target.command",
                    "is empty",
                    "give the program and its arguments, e.g. [\"./my-service\"]",
                );
            }
            if worker_command.as_ref().is_some_and(Vec::is_empty) {
                c.push(
                    target_line,
                    "target.worker_command",
                    "is empty",
                    "remove it or give the worker's program",
                );
            }
            if !is_loopback_url(ready_url) {
                c.push(
                    target_line,
                    "target.ready_url",
                    format!("{ready_url:?} is not on this machine"),
                    "load tests only target 127.0.0.1: use http://127.0.0.1:{port}/health",
                );
            }
            if !is_env_name(port_env) {
                c.push(
                    target_line,
                    "target.port_env",
                    "is not a variable name",
                    "use e.g. PORT",
                );
            }
        }
    }

    // Load.
    let load_line = Some(c.line(&file.load));
    let spec = file.load.get_ref();
    match spec.model {
        Model::Rate => match spec.rate {
            None => c.push(
                load_line,
                "load.rate",
                "is missing for model = \"rate\"",
                "set requests per second, e.g. rate = 400",
            ),
            Some(r) if !(r > 0.0 && r.is_finite()) => c.push(
                load_line,
                "load.rate",
                format!("{r} is not a positive rate"),
                "set requests per second greater than 0, e.g. rate = 400",
            ),
            Some(r) => {
                if let Some((message, fix)) = limits::RATE.check(r) {
                    c.push(load_line, "load.rate", message, fix);
                }
            }
        },
        // Checked with the `[capacity]` and `[slo]` sections below.
        Model::Capacity => {}
        Model::Users => {
            if spec.rate.is_some() {
                c.push(
                    load_line,
                    "load.rate",
                    "is only used with model = \"rate\"",
                    "remove rate, or set model = \"rate\"",
                );
            }
            if spec.users.is_none() {
                c.push(
                    load_line,
                    "load.users",
                    "is missing for model = \"users\"",
                    "set the closed-loop user count, e.g. users = 16",
                );
            }
        }
    }
    if spec.users == Some(0) {
        c.push(
            load_line,
            "load.users",
            "must be at least 1",
            "set e.g. users = 32",
        );
    }
    if let Some(u) = spec.users.filter(|u| *u > limits::MAX_USERS) {
        c.push(
            load_line,
            "load.users",
            format!("{u} is more than {}", limits::MAX_USERS),
            "set e.g. users = 32 (a user is a connection and a task)",
        );
    }
    for (field, value, limit) in [
        ("load.duration_s", spec.duration_s, limits::DURATION_S),
        ("load.warmup_s", spec.warmup_s, limits::WARMUP_S),
        ("load.timeout_s", spec.timeout_s, limits::TIMEOUT_S),
    ] {
        if let Some((message, fix)) = limit.check(value) {
            c.push(load_line, field, message, fix);
        }
    }
    let builtin = matches!(target, TargetSpec::Builtin { .. });
    let setup = match (&spec.setup, builtin) {
        (Some(s), _) => s.clone(),
        (None, true) => defaults::builtin_setup(),
        (None, false) => Vec::new(),
    };
    let requests = match (&spec.requests, builtin) {
        (Some(r), _) => r.clone(),
        (None, true) => defaults::builtin_requests(),
        (None, false) => {
            c.push(
                load_line,
                "load.requests",
                "is missing (only the built-in target has a default mix)",
                "add [[load.requests]] entries with name, method, path",
            );
            Vec::new()
        }
    };
    if spec.requests.as_ref().is_some_and(Vec::is_empty) {
        c.push(
            load_line,
            "load.requests",
            "is empty",
            "add at least one [[load.requests]]",
        );
    }
    if !requests.is_empty() && requests.iter().all(|r| r.weight == 0) {
        c.push(
            load_line,
            "load.requests",
            "every weight is 0",
            "give at least one request weight = 1 or more",
        );
    }
    check_requests(&mut c, load_line, "load.setup", &setup);
    check_requests(&mut c, load_line, "load.requests", &requests);

    // Collector.
    let (default_fault, problems) = collector::check(&file.collector);
    for (field, message, fix) in problems {
        c.push(None, field, message, fix);
    }

    // Placement.
    let p = &file.placement;
    if p.keep_awake == KeepAwake::On && !p.pin {
        c.push(
            None,
            "placement.keep_awake",
            "keep_awake needs pinned generator CPUs to keep awake",
            "set placement.pin = true, or keep_awake = \"auto\" (off when not pinned)",
        );
    }
    if p.pin {
        if p.generator_cpus.is_empty() || p.target_cpus.is_empty() {
            c.push(
                None,
                "placement",
                "a CPU list is empty",
                "list at least one CPU in generator_cpus and target_cpus",
            );
        }
        if p.generator_cpus.iter().any(|c| p.target_cpus.contains(c)) {
            c.push(
                None,
                "placement",
                "generator_cpus and target_cpus overlap",
                "give them disjoint CPUs, or set pin = false",
            );
        }
    }

    // Variants.
    let mut variants: Vec<(Option<usize>, Variant)> = Vec::new();
    for (i, v) in file.variants.iter().enumerate() {
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
        if let Some((field, message, fix)) = build_problem(spec, &target) {
            c.push(line, format!("variants[{i}].{field}"), message, fix);
        }
        variants.push((
            line,
            Variant {
                name: spec.name.clone(),
                env: spec.env.clone(),
                fault,
                build: spec.build(),
            },
        ));
    }
    if let Some(m) = &file.matrix {
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
            Ok(expanded) => variants.extend(expanded.into_iter().map(|v| (line, v))),
            Err(conflict) => c.push(
                line,
                "matrix.axes",
                format!(
                    "axes {:?} and {:?} both set {}",
                    conflict.axes.0, conflict.axes.1, conflict.key
                ),
                "set each variable on one axis only",
            ),
        }
    }
    if variants.is_empty() {
        c.push(
            None,
            "variants",
            "there are none",
            "add [[variants]] (name and env) or a [matrix]",
        );
    }
    let mut seen = BTreeSet::new();
    for (line, v) in &variants {
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
    let baseline = file.baseline.get_ref().clone();
    if !variants.iter().any(|(_, v)| v.name == baseline) {
        let names: Vec<_> = variants
            .iter()
            .map(|(_, v)| format!("{:?}", v.name))
            .collect();
        c.push(
            Some(c.line(&file.baseline)),
            "baseline",
            format!("{baseline:?} is not the name of a variant"),
            format!("use one of {}", names.join(", ")),
        );
    }

    // Decisions: thresholds, budget, A/A calibration.
    let mut decide_table = |name: &str, spec: Option<&Spanned<_>>| {
        let line = spec.map(|s| c.line(s));
        let (values, problems) = decide::percentages(name, spec);
        for (field, message, fix) in problems {
            c.push(line, field, message, fix);
        }
        values
    };
    let thresholds = decide_table("thresholds", file.thresholds.as_ref());
    let budget = decide_table("budget", file.budget.as_ref());
    let (capacity, problems) = capacity::check(
        spec.model == Model::Capacity,
        spec.rate,
        file.capacity.as_ref().map(Spanned::get_ref),
        file.slo.as_ref().map(Spanned::get_ref),
        capacity::Lines {
            load: load_line,
            capacity: file.capacity.as_ref().map(|s| c.line(s)),
            slo: file.slo.as_ref().map(|s| c.line(s)),
        },
    );
    c.problems.extend(problems);
    let (profiler, problems) = profile::check(
        file.profiler.as_ref().map(Spanned::get_ref),
        file.profiler.as_ref().map(|s| c.line(s)),
    );
    c.problems.extend(problems);
    let calibration_variant = file
        .aa_calibration
        .then(|| decide::calibration_name(&baseline));
    if let Some(copy) = &calibration_variant {
        if variants.iter().any(|(_, v)| &v.name == copy) {
            c.push(
                None,
                "aa_calibration",
                format!("a variant is already named {copy:?}, the name of the A/A copy"),
                "rename that variant",
            );
        } else if let Some((line, base)) = variants.iter().find(|(_, v)| v.name == baseline) {
            let copy = Variant {
                name: copy.clone(),
                env: base.env.clone(),
                fault: base.fault,
                build: base.build.clone(),
            };
            variants.push((*line, copy));
        }
    }

    c.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    if !c.problems.is_empty() {
        return Err(ScenarioError {
            file: path.to_path_buf(),
            problems: c.problems,
        });
    }
    let users = spec.users.unwrap_or(defaults::RATE_USERS);
    Ok(Scenario {
        name: file.name,
        description: file.description,
        file: path.to_path_buf(),
        hash: hash(text.as_bytes()),
        repetitions,
        order: file.order,
        seed: file.seed,
        baseline,
        max_error_rate,
        retries: Retries {
            per_run: file.max_retries.as_ref().map_or(2, |r| *r.get_ref()),
            total: file.max_total_retries.as_ref().map(|r| *r.get_ref()),
        },
        target,
        load: Load {
            model: spec.model,
            rate: spec.rate,
            users,
            warmup_s: spec.warmup_s,
            duration_s: spec.duration_s,
            timeout_s: spec.timeout_s,
            setup,
            requests,
        },
        collector: file.collector,
        placement: file.placement,
        variants: variants.into_iter().map(|(_, v)| v).collect(),
        calibration_variant,
        thresholds,
        budget,
        ab: None,
        capacity,
        profile: file.profile.then_some(profiler),
        profiler,
        external: None,
        shard: None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    const GOOD: &str = r#"
name = "t"
baseline = "off"

[load]
model = "rate"
rate = 100
duration_s = 2

[[variants]]
name = "off"
env = { OTEL_SDK_DISABLED = "true" }

[[variants]]
name = "on"
env = { OTEL_TRACES_SAMPLER = "always_on" }
"#;

    fn err(text: &str) -> ScenarioError {
        parse(Path::new("s.toml"), text).expect_err("should be rejected")
    }

    #[test]
    fn a_variants_own_build_must_fit_the_target() {
        let with = |extra: &str| GOOD.replace("name = \"on\"", &format!("name = \"on\"\n{extra}"));
        let s = parse(Path::new("s.toml"), &with("binary = \"other/target-app\"")).unwrap();
        let build = s.variants[1].build.as_ref().unwrap();
        assert_eq!(build.binary.as_deref(), Some(Path::new("other/target-app")));
        assert_eq!(s.variants[0].build, None);
        let e = err(&with("dir = \"../other\""));
        assert_eq!(e.problems[0].field, "variants[1].dir");
        assert_eq!(
            e.problems[0].line,
            Some(14),
            "the variant's [[variants]] line"
        );
        assert!(e.to_string().contains("is for a command target"), "{e}");
        assert!(e.to_string().contains("binary = "), "the fix: {e}");
        let command = format!(
            "{}\n[[load.requests]]\nname = \"home\"\npath = \"/\"\n",
            with("binary = \"x\"").replace(
                "[load]",
                "[target]\nkind = \"command\"\ncommand = [\"./run.sh\"]\nready_url = \"http://127.0.0.1:{port}/\"\n\n[load]"
            )
        );
        let e = err(&command);
        assert_eq!(e.problems[0].field, "variants[1].binary");
        assert!(
            e.to_string().contains("give this build as `command`"),
            "{e}"
        );
        let e = err(&command.replace("binary = \"x\"", "command = []"));
        assert_eq!(e.problems[0].field, "variants[1].command");
        let ok = command.replace(
            "binary = \"x\"",
            "command = [\"./run.sh\", \"v2\"]\ndir = \"../b\"",
        );
        let s = parse(Path::new("s.toml"), &ok).unwrap();
        assert_eq!(
            s.variants[1].build.as_ref().unwrap().dir.as_deref(),
            Some(Path::new("../b"))
        );
        let e = err(&format!(
            "{GOOD}\n[matrix]\n[[matrix.axes]]\nname = \"b\"\nvalues = [{{ name = \"x\", env = {{ A = \"1\" }}, binary = \"y\" }}]\n"
        ));
        assert_eq!(e.problems[0].field, "matrix.axes[0].values[0]");
    }

    #[test]
    fn a_good_scenario_gets_defaults() {
        let s = parse(Path::new("s.toml"), GOOD).unwrap();
        assert_eq!(s.repetitions, 3);
        assert_eq!(s.load.users, defaults::RATE_USERS);
        assert_eq!(s.load.requests.len(), 4, "the built-in mix");
        assert_eq!(s.load.setup.len(), 3);
        assert_eq!(s.variants.len(), 2);
        assert_eq!(s.hash.len(), 64);
    }

    #[test]
    fn keep_awake_needs_pinning() {
        let e = err(&format!(
            "{GOOD}\n[placement]\npin = false\nkeep_awake = true\n"
        ));
        assert_eq!(e.problems[0].field, "placement.keep_awake");
        assert!(e.to_string().contains("set placement.pin = true"), "{e}");
        let pinned = format!("{GOOD}\n[placement]\nkeep_awake = true\n");
        assert_eq!(
            parse(Path::new("s.toml"), &pinned)
                .unwrap()
                .placement
                .keep_awake,
            KeepAwake::On
        );
    }

    #[test]
    fn keep_awake_is_auto_by_default_and_auto_needs_no_pinning() {
        let s = parse(Path::new("s.toml"), GOOD).unwrap();
        assert_eq!(s.placement.keep_awake, KeepAwake::Auto);
        for (value, expected) in [
            ("\"auto\"", KeepAwake::Auto),
            ("false", KeepAwake::Off),
            ("\"true\"", KeepAwake::On),
        ] {
            let text = format!("{GOOD}\n[placement]\nkeep_awake = {value}\n");
            let s = parse(Path::new("s.toml"), &text).unwrap();
            assert_eq!(s.placement.keep_awake, expected, "{value}");
        }
        let unpinned = format!("{GOOD}\n[placement]\npin = false\nkeep_awake = \"auto\"\n");
        assert!(parse(Path::new("s.toml"), &unpinned).is_ok());
        let e = err(&format!("{GOOD}\n[placement]\nkeep_awake = \"always\"\n"));
        assert!(e.to_string().contains(r#"true, false or "auto""#), "{e}");
    }

    #[test]
    fn retries_default_to_two_per_run_and_half_the_plan() {
        let s = parse(Path::new("s.toml"), GOOD).unwrap();
        assert_eq!(s.retries.per_run, 2);
        assert_eq!(s.retries.total_for(9), 5);
        assert_eq!(s.retries.total_for(1), 1);
        let text = GOOD.replace(
            "name = \"t\"",
            "name = \"t\"\nmax_retries = 0\nmax_total_retries = 4",
        );
        let s = parse(Path::new("s.toml"), &text).unwrap();
        assert_eq!(s.retries.per_run, 0);
        assert_eq!(s.retries.total_for(9), 4);
    }

    #[test]
    fn unknown_field_names_its_line() {
        let e = err(&GOOD.replace("duration_s = 2", "duration_s = 2\nspeed = 3"));
        let p = &e.problems[0];
        assert_eq!(p.line, Some(9));
        assert!(p.message.contains("unknown field `speed`"), "{p:?}");
        assert!(p.fix.contains("remove"));
    }

    #[test]
    fn wrong_type_names_its_line() {
        let e = err(&GOOD.replace("rate = 100", "rate = \"fast\""));
        assert_eq!(e.problems[0].line, Some(7));
        assert!(e.problems[0].message.contains("invalid type"), "{e}");
    }

    #[test]
    fn numbers_past_what_the_code_can_hold_are_refused_not_panicked_on() {
        // Regression for issue 19: 1e300 s passed validation and panicked in
        // Duration::from_secs_f64; a tiny rate overflowed Instant arithmetic.
        for (from, to, field) in [
            ("duration_s = 2", "duration_s = 1e300", "load.duration_s"),
            (
                "duration_s = 2",
                "duration_s = 2\nwarmup_s = 1e300",
                "load.warmup_s",
            ),
            (
                "duration_s = 2",
                "duration_s = 2\ntimeout_s = 1e300",
                "load.timeout_s",
            ),
            ("rate = 100", "rate = 1e-300", "load.rate"),
            ("rate = 100", "rate = 1e300", "load.rate"),
            ("rate = 100", "rate = 100\nusers = 4000000000", "load.users"),
            (
                "name = \"t\"",
                "name = \"t\"\nrepetitions = 4000000000",
                "repetitions",
            ),
        ] {
            let e = err(&GOOD.replace(from, to));
            assert_eq!(e.problems[0].field, field, "{e}");
            assert!(
                e.to_string().contains("out of range") || e.to_string().contains("more than"),
                "{e}"
            );
        }
    }

    #[test]
    fn zero_rate_is_rejected_with_a_fix() {
        let e = err(&GOOD.replace("rate = 100", "rate = 0"));
        assert_eq!(e.problems[0].field, "load.rate");
        assert_eq!(e.problems[0].line, Some(5));
        assert!(
            e.to_string().contains("fix: set requests per second"),
            "{e}"
        );
    }

    #[test]
    fn a_variant_without_env_is_rejected() {
        let e = err(&GOOD.replace("env = { OTEL_TRACES_SAMPLER = \"always_on\" }", ""));
        assert_eq!(e.problems[0].field, "variants[1].env");
        assert_eq!(e.problems[0].line, Some(14));
    }

    #[test]
    fn an_unknown_baseline_lists_the_variants() {
        let e = err(&GOOD.replace("baseline = \"off\"", "baseline = \"none\""));
        assert_eq!(e.problems[0].field, "baseline");
        assert_eq!(e.problems[0].line, Some(3));
        assert!(e.problems[0].fix.contains("\"off\", \"on\""), "{e}");
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let e = err(&GOOD
            .replace("rate = 100", "rate = -1")
            .replace("duration_s = 2", "duration_s = 0"));
        assert_eq!(e.problems.len(), 2, "{e}");
    }

    #[test]
    fn harness_owned_variables_and_remote_targets_are_rejected() {
        let e = err(&GOOD.replace(
            "OTEL_TRACES_SAMPLER = \"always_on\"",
            "OTEL_EXPORTER_OTLP_ENDPOINT = \"http://x\"",
        ));
        assert!(e.problems[0].message.contains("set by the harness"));
        let external = GOOD.replace(
            "[load]",
            "[target]\nkind = \"command\"\ncommand = [\"svc\"]\nready_url = \"http://10.0.0.1:{port}/\"\n\n[load]",
        );
        let e = err(&external);
        assert!(
            e.problems.iter().any(|p| p.field == "target.ready_url"),
            "{e}"
        );
        assert!(
            e.problems.iter().any(|p| p.field == "load.requests"),
            "no default mix for a command target: {e}"
        );
    }

    #[test]
    fn matrix_expands_after_explicit_variants() {
        let text = format!(
            "{GOOD}\n[matrix]\n[[matrix.axes]]\nname = \"p\"\nvalues = [{{ name = \"grpc\", env = {{ OTEL_EXPORTER_OTLP_PROTOCOL = \"grpc\" }} }}, {{ name = \"http\", env = {{ OTEL_EXPORTER_OTLP_PROTOCOL = \"http/protobuf\" }} }}]\n"
        );
        let s = parse(Path::new("s.toml"), &text).unwrap();
        let names: Vec<_> = s.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["off", "on", "grpc", "http"]);
    }

    #[test]
    fn users_model_needs_users_and_no_rate() {
        let e = err(&GOOD.replace("model = \"rate\"", "model = \"users\""));
        let fields: Vec<_> = e.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["load.rate", "load.users"]);
    }
}
