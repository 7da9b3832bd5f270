//! Checks the meaning of a parsed scenario (no I/O) and fills in defaults. Every problem is
//! collected, so one `otelbench validate` shows them all.

mod load;
mod target;
mod variants;

use std::collections::BTreeMap;
use std::path::Path;

use serde_spanned::Spanned;

use super::error::line_of;
use super::{
    Load, Model, Problem, Retries, Scenario, ScenarioError, ScenarioFile, capacity, collector,
    decide, defaults, hash, limits, profile,
};

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

    /// Every problem, in the order of their lines (those without a line last), as one error.
    fn finish(mut self, path: &Path) -> Result<(), ScenarioError> {
        self.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError {
                file: path.to_path_buf(),
                problems: self.problems,
            })
        }
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Validates `file` (from `path`, whose text is `text`) into a [`Scenario`]: each section in
/// turn, every problem collected.
pub fn validate(path: &Path, text: &str, file: ScenarioFile) -> Result<Scenario, ScenarioError> {
    let mut c = Checker {
        text,
        problems: Vec::new(),
    };
    let (repetitions, max_error_rate) = top_level(&mut c, &file);
    let target = target::target(&mut c, &file);
    let load_line = Some(c.line(&file.load));
    let spec = file.load.get_ref();
    let mix = load::load(&mut c, spec, load_line, &target);
    let (default_fault, problems) = collector::check(&file.collector);
    for (field, message, fix) in problems {
        c.push(None, field, message, fix);
    }
    target::placement(&mut c, &file.placement);
    let mut variants = variants::variants(&mut c, &file, &target, default_fault);
    let baseline = file.baseline.get_ref().clone();
    variants::baseline(&mut c, &file.baseline, &variants);
    let decisions = decisions(&mut c, &file, load_line);
    let calibration_variant = file
        .aa_calibration
        .then(|| decide::calibration_name(&baseline));
    if let Some(copy) = &calibration_variant {
        variants::add_calibration(&mut c, copy, &baseline, &mut variants);
    }
    c.finish(path)?;
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
            users: spec.users.unwrap_or(defaults::RATE_USERS),
            warmup_s: spec.warmup_s,
            duration_s: spec.duration_s,
            timeout_s: spec.timeout_s,
            setup: mix.setup,
            requests: mix.requests,
        },
        collector: file.collector,
        placement: file.placement,
        variants: variants.into_iter().map(|(_, v)| v).collect(),
        calibration_variant,
        thresholds: decisions.thresholds,
        budget: decisions.budget,
        ab: None,
        capacity: decisions.capacity,
        profile: file.profile.then_some(decisions.profiler),
        profiler: decisions.profiler,
        external: None,
        shard: None,
    })
}

/// The top-level fields: name, repetitions (default 3) and max_error_rate (default 0.01).
fn top_level(c: &mut Checker<'_>, file: &ScenarioFile) -> (u32, f64) {
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
    (repetitions, max_error_rate)
}

/// What the decision sections ask for.
struct Decisions {
    thresholds: BTreeMap<String, f64>,
    budget: BTreeMap<String, f64>,
    capacity: Option<capacity::CapacityPlan>,
    profiler: profile::Profiler,
}

/// The decision sections: thresholds, budget, the capacity search and its SLO, the profiler.
fn decisions(c: &mut Checker<'_>, file: &ScenarioFile, load_line: Option<usize>) -> Decisions {
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
    let spec = file.load.get_ref();
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
    Decisions {
        thresholds,
        budget,
        capacity,
        profiler,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{KeepAwake, parse};

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
