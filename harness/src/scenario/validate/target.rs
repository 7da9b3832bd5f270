//! The `[target]` and `[placement]` sections.

use super::{Checker, is_env_name};
use crate::scenario::{KeepAwake, PlacementSpec, ScenarioFile, TargetSpec};

/// The target (the built-in one by default), checked.
pub(super) fn target(c: &mut Checker<'_>, file: &ScenarioFile) -> TargetSpec {
    let line = file.target.as_ref().map(|t| c.line(t));
    let target = file
        .target
        .as_ref()
        .map_or_else(TargetSpec::default, |t| t.get_ref().clone());
    match &target {
        TargetSpec::Builtin { env, .. } => {
            for key in env.keys().filter(|k| !is_env_name(k)) {
                c.push(
                    line,
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
                    line,
                    "target.command",
                    "is empty",
                    "give the program and its arguments, e.g. [\"./my-service\"]",
                );
            }
            if worker_command.as_ref().is_some_and(Vec::is_empty) {
                c.push(
                    line,
                    "target.worker_command",
                    "is empty",
                    "remove it or give the worker's program",
                );
            }
            if !is_loopback_url(ready_url) {
                c.push(
                    line,
                    "target.ready_url",
                    format!("{ready_url:?} is not on this machine"),
                    "load tests only target 127.0.0.1: use http://127.0.0.1:{port}/health",
                );
            }
            if !is_env_name(port_env) {
                c.push(
                    line,
                    "target.port_env",
                    "is not a variable name",
                    "use e.g. PORT",
                );
            }
        }
    }
    target
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or("");
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "localhost" || host.starts_with("127.") || rest.starts_with("[::1]")
}

/// Pinning: keep-awake needs it; the CPU lists are not empty and do not overlap.
pub(super) fn placement(c: &mut Checker<'_>, p: &PlacementSpec) {
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
}
