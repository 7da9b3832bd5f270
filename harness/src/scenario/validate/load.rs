//! The `[load]` section: the model and its rate or users, the limits of its numbers, the
//! set-up steps and the request mix (the built-in target's by default).

use std::collections::BTreeSet;

use super::Checker;
use crate::scenario::{LoadSpec, Model, RequestSpec, TargetSpec, defaults, limits};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

/// The set-up steps and the mix, defaults applied.
pub(super) struct Mix {
    pub setup: Vec<RequestSpec>,
    pub requests: Vec<RequestSpec>,
}

/// Checks the load and returns its steps and mix.
pub(super) fn load(
    c: &mut Checker<'_>,
    spec: &LoadSpec,
    line: Option<usize>,
    target: &TargetSpec,
) -> Mix {
    model(c, spec, line);
    numbers(c, spec, line);
    let mix = mix(c, spec, line, matches!(target, TargetSpec::Builtin { .. }));
    check_requests(c, line, "load.setup", &mix.setup);
    check_requests(c, line, "load.requests", &mix.requests);
    mix
}

/// The model has what it needs: a positive rate within limits, or users and no rate.
fn model(c: &mut Checker<'_>, spec: &LoadSpec, line: Option<usize>) {
    match spec.model {
        Model::Rate => match spec.rate {
            None => c.push(
                line,
                "load.rate",
                "is missing for model = \"rate\"",
                "set requests per second, e.g. rate = 400",
            ),
            Some(r) if !(r > 0.0 && r.is_finite()) => c.push(
                line,
                "load.rate",
                format!("{r} is not a positive rate"),
                "set requests per second greater than 0, e.g. rate = 400",
            ),
            Some(r) => {
                if let Some((message, fix)) = limits::RATE.check(r) {
                    c.push(line, "load.rate", message, fix);
                }
            }
        },
        // Checked with the `[capacity]` and `[slo]` sections.
        Model::Capacity => {}
        Model::Users => {
            if spec.rate.is_some() {
                c.push(
                    line,
                    "load.rate",
                    "is only used with model = \"rate\"",
                    "remove rate, or set model = \"rate\"",
                );
            }
            if spec.users.is_none() {
                c.push(
                    line,
                    "load.users",
                    "is missing for model = \"users\"",
                    "set the closed-loop user count, e.g. users = 16",
                );
            }
        }
    }
}

/// Users, durations and the timeout within their limits.
fn numbers(c: &mut Checker<'_>, spec: &LoadSpec, line: Option<usize>) {
    if spec.users == Some(0) {
        c.push(
            line,
            "load.users",
            "must be at least 1",
            "set e.g. users = 32",
        );
    }
    if let Some(u) = spec.users.filter(|u| *u > limits::MAX_USERS) {
        c.push(
            line,
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
            c.push(line, field, message, fix);
        }
    }
}

/// The set-up steps and the mix: the file's, else the built-in target's; only the built-in
/// target has a default mix, and a mix needs a request with a weight.
fn mix(c: &mut Checker<'_>, spec: &LoadSpec, line: Option<usize>, builtin: bool) -> Mix {
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
                line,
                "load.requests",
                "is missing (only the built-in target has a default mix)",
                "add [[load.requests]] entries with name, method, path",
            );
            Vec::new()
        }
    };
    if spec.requests.as_ref().is_some_and(Vec::is_empty) {
        c.push(
            line,
            "load.requests",
            "is empty",
            "add at least one [[load.requests]]",
        );
    }
    if !requests.is_empty() && requests.iter().all(|r| r.weight == 0) {
        c.push(
            line,
            "load.requests",
            "every weight is 0",
            "give at least one request weight = 1 or more",
        );
    }
    Mix { setup, requests }
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
