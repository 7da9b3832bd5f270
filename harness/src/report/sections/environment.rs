//! Where and how the figures were made, and the command that reproduces them.

use crate::report::document::{Block, Inline, Section, text};
use crate::report::format;
use crate::results::Results;

/// The machine check before the plan, in one line.
fn machine_check(results: &Results) -> String {
    let Some(m) = &results.machine_check else {
        return "not run (closed model, or a file from before the check)".into();
    };
    let mut parts = vec![format!(
        "valid latency at {:.0} req/s? {}",
        m.rate,
        m.verdict.words()
    )];
    parts.extend(m.probes.iter().map(|p| {
        format!(
            "{}: timer lag p50 {}, p99 {} (limit {}), {:.1}% of a spinning thread's time lost, longest gap {}",
            p.cpu.map_or_else(|| "any CPU".to_string(), |c| format!("CPU {c}")),
            format::value("p50", p.timer_lag_p50_us as f64),
            format::value("p99", p.timer_lag_p99_us as f64),
            format::value("p99", m.lag_limit_us as f64),
            p.lost_pct,
            format::value("p99", p.longest_gap_us)
        )
    }));
    parts.extend(m.steal_pct.map(|s| format!("steal {s:.1}%")));
    if m.hypervisor {
        parts.push("virtual machine".into());
    }
    parts.extend(m.advice.iter().map(|a| format!("to change: {a}")));
    parts.join("; ")
}

/// The environment section.
pub fn section(results: &Results) -> Section {
    let e = &results.environment;
    let placement = results.kept_runs().next().map_or_else(
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
            let setting = &r.placement.keep_awake_setting;
            format!(
                "generator and sink on CPU {}, target on CPU {}{}",
                cpus(&r.placement.generator_cpus),
                cpus(&r.placement.target_cpus),
                match (r.placement.keep_awake, setting.is_empty()) {
                    (true, true) => "; generator CPUs kept from halting (keep_awake)".to_string(),
                    (true, false) =>
                        format!("; generator CPUs kept from halting (keep_awake = {setting})"),
                    (false, false) => format!("; keep_awake = {setting}"),
                    (false, true) => String::new(),
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
                item("Machine check", machine_check(results)),
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
