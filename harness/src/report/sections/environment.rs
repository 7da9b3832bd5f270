//! Where and how the figures were made, and the command that reproduces them.

use crate::report::document::{Block, Inline, Section, text};
use crate::results::Results;

/// The environment section.
pub fn section(results: &Results) -> Section {
    let e = &results.environment;
    let placement = results.runs.first().map_or_else(
        || "–".to_string(),
        |r| {
            let cpus = |c: &[usize]| {
                if c.is_empty() {
                    "any".to_string()
                } else {
                    c.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                }
            };
            format!(
                "generator and sink on CPU {}, target on CPU {}{}",
                cpus(&r.placement.generator_cpus),
                cpus(&r.placement.target_cpus),
                if r.placement.keep_awake {
                    "; generator CPUs kept from halting (keep_awake)"
                } else {
                    ""
                }
            )
        },
    );
    let item = |k: &str, v: String| vec![Inline::Strong(k.to_string()), text(format!(": {v}"))];
    let commit = if e.git_commit.is_empty() {
        "unknown".to_string()
    } else {
        e.git_commit.clone()
    };
    Section {
        title: "Environment and reproduction".into(),
        blocks: vec![
            Block::List(vec![
                item("CPU", format!("{} ({} cores)", e.cpu_model, e.cores)),
                item("Memory", format!("{} MB", e.memory_mb)),
                item("Kernel", e.kernel.clone()),
                item("Compiler", e.rustc.clone()),
                item(
                    "otelbench",
                    format!("{} at commit {commit}", e.otelbench_version),
                ),
                item("Host", e.hostname.clone()),
                item("Placement", placement),
                item(
                    "Scenario",
                    format!(
                        "{} (sha256 {})",
                        results.scenario.file, results.scenario.hash
                    ),
                ),
            ]),
            Block::Paragraph(vec![text("To reproduce, from the repository root:")]),
            Block::Code(results.command.clone()),
        ],
    }
}
