//! Resolving a scenario against this machine before the plan starts: the CPUs it pins exist,
//! the programs it starts (the built-in target-app, a command, a variant's build, rotel) can be
//! found.

use std::path::PathBuf;

use anyhow::Context as _;

use super::{collector, placement};
use crate::scenario::{CollectorSpec, Scenario, TargetSpec};

/// Resolves the scenario against this machine: CPUs exist, programs can be found.
pub fn resolve(scenario: &Scenario) -> anyhow::Result<ResolvedTarget> {
    if scenario.placement.pin {
        placement::check("generator_cpus", &scenario.placement.generator_cpus)?;
        placement::check("target_cpus", &scenario.placement.target_cpus)?;
        which("taskset").context(
            "placement needs `taskset` (util-linux); install it or set placement.pin = false",
        )?;
    }
    // A service the harness does not start needs nothing on this machine but the generator.
    if scenario.external.is_some() {
        return Ok(ResolvedTarget {
            target_app: None,
            rotel: None,
        });
    }
    let rotel = match &scenario.collector {
        CollectorSpec::Rotel { binary, .. } => Some(collector::find_rotel(binary.as_deref())?),
        _ => None,
    };
    for v in &scenario.variants {
        check_build(&scenario.target, v)?;
    }
    match &scenario.target {
        TargetSpec::Builtin { binary, .. } => {
            let path = binary.clone().unwrap_or_else(builtin_target_app);
            anyhow::ensure!(
                path.is_file(),
                "the built-in target-app was not found at {}; fix: build it with `cargo build --release -p target-app` (or set target.binary / OTELBENCH_TARGET_APP)",
                path.display()
            );
            Ok(ResolvedTarget {
                target_app: Some(path),
                rotel,
            })
        }
        TargetSpec::Command { command, .. } => {
            // Variants with their own builds were checked above, where their commands run.
            let own_builds = scenario.variants.iter().all(|v| v.build.is_some());
            (if own_builds {
                Ok(PathBuf::new())
            } else {
                which(&command[0])
            })
            .with_context(|| {
                format!(
                    "target.command: {:?} was not found; fix: give a path or put it on PATH",
                    command[0]
                )
            })?;
            Ok(ResolvedTarget {
                target_app: None,
                rotel,
            })
        }
    }
}

/// Where the built-in target-app is when the scenario does not say: `OTELBENCH_TARGET_APP`,
/// else beside this executable, else on PATH.
fn builtin_target_app() -> PathBuf {
    std::env::var_os("OTELBENCH_TARGET_APP")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(|d| d.join("target-app")))
        })
        .unwrap_or_else(|| PathBuf::from("target-app"))
}

/// A variant's own build can be run: its binary exists, its commands are found (relative to
/// its directory).
fn check_build(target: &TargetSpec, v: &crate::scenario::Variant) -> anyhow::Result<()> {
    let Some(build) = &v.build else {
        return Ok(());
    };
    if let Some(bin) = &build.binary {
        anyhow::ensure!(
            bin.is_file(),
            "variant `{}`: binary {} was not found; fix: build it, or correct the path",
            v.name,
            bin.display()
        );
    }
    if let Some(dir) = &build.dir {
        anyhow::ensure!(
            dir.is_dir(),
            "variant `{}`: dir {} is not a directory; fix: give the checkout its commands run in",
            v.name,
            dir.display()
        );
    }
    if let TargetSpec::Command {
        command,
        worker_command,
        ..
    } = target
    {
        let web = build.command.as_ref().unwrap_or(command);
        let worker = build.worker_command.as_ref().or(worker_command.as_ref());
        for argv in std::iter::once(web).chain(worker) {
            let program = &argv[0];
            let found = match &build.dir {
                Some(dir) if program.contains('/') && !program.starts_with('/') => {
                    dir.join(program).is_file()
                }
                _ => which(program).is_ok(),
            };
            anyhow::ensure!(
                found,
                "variant `{}`: {program:?} was not found{}; fix: give a path or put it on PATH",
                v.name,
                build
                    .dir
                    .as_ref()
                    .map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// What [`resolve`] found.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    pub(super) target_app: Option<PathBuf>,
    pub(super) rotel: Option<PathBuf>,
}

/// Finds `program` (a path, or a name on PATH).
pub(super) fn which(program: &str) -> anyhow::Result<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return if p.is_file() {
            Ok(p)
        } else {
            anyhow::bail!("{program} does not exist")
        };
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("{program} is not on PATH"))
}
