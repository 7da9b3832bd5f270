//! `profile = true` and `[profiler]`: extra profiling runs per variant, sampled with `perf`, as
//! written and as checked (no I/O).

use serde::{Deserialize, Serialize};

use super::Problem;

/// `[profiler]` as written: how the profiling runs sample.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilerSpec {
    /// Profiling runs per variant (default 1), after the measured plan.
    pub runs: Option<u32>,
    /// Samples per second of CPU time, per thread (default 499: off the beat of 100 Hz and
    /// 1 kHz timers).
    pub frequency_hz: Option<u32>,
    /// How stacks are unwound: `dwarf` (default; any build with unwind tables; `dwarf,SIZE`
    /// copies SIZE bytes of stack per sample, default 65528) or `fp` (frame pointers: cheaper,
    /// but only builds with `-C force-frame-pointers=yes` resolve).
    pub call_graph: Option<String>,
}

/// Bytes of stack perf copies per sample with `dwarf` unless told: perf's largest. On the
/// built-in target (tokio, axum, sqlx, the subscriber's layers) 8 KiB unwound 50 to 56% of
/// the sampled CPU to its thread's start, 16 KiB 61 to 66%, this 100%, at about the same
/// cost (benches/README.md, "Profiles").
pub const DWARF_STACK: u32 = 65_528;

/// How stacks are unwound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallGraph {
    /// `perf record --call-graph dwarf,SIZE`: SIZE bytes of stack copied per sample, unwound
    /// afterwards.
    Dwarf(u32),
    /// `perf record --call-graph fp`: walks frame pointers at the sample.
    Fp,
}

impl CallGraph {
    /// perf's `--call-graph` argument, which is also how a scenario writes it.
    pub fn perf_arg(self) -> String {
        match self {
            Self::Dwarf(size) => format!("dwarf,{size}"),
            Self::Fp => "fp".into(),
        }
    }

    /// Parses `dwarf`, `dwarf,SIZE` (8 to 65528, a multiple of 8: perf's limits) or `fp`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.split_once(',') {
            None if s == "dwarf" => Some(Self::Dwarf(DWARF_STACK)),
            None if s == "fp" => Some(Self::Fp),
            Some(("dwarf", size)) => size
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (8..=65_528).contains(n) && n % 8 == 0)
                .map(Self::Dwarf),
            _ => None,
        }
    }
}

/// The profiler's settings, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profiler {
    /// Profiling runs per variant.
    pub runs: u32,
    /// Samples per second of CPU time.
    pub frequency_hz: u32,
    /// Unwinding.
    pub call_graph: CallGraph,
}

impl Default for Profiler {
    fn default() -> Self {
        Self {
            runs: 1,
            frequency_hz: 499,
            call_graph: CallGraph::Dwarf(DWARF_STACK),
        }
    }
}

/// Checks `[profiler]` (at `line`); returns the settings and any problems.
pub fn check(spec: Option<&ProfilerSpec>, line: Option<usize>) -> (Profiler, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut out = Profiler::default();
    let Some(spec) = spec else {
        return (out, problems);
    };
    let mut problem = |field: &str, message: String, fix: &str| {
        problems.push(Problem {
            line,
            field: format!("profiler.{field}"),
            message,
            fix: fix.into(),
        });
    };
    match spec.runs {
        Some(r) if r == 0 || r > 10 => problem(
            "runs",
            format!("{r} profiling runs per variant"),
            "give 1 to 10 (one is usually enough: a profile's shares vary little between runs)",
        ),
        Some(r) => out.runs = r,
        None => {}
    }
    match spec.frequency_hz {
        Some(f) if !(10..=10_000).contains(&f) => problem(
            "frequency_hz",
            format!("{f} Hz"),
            "give 10 to 10000 (499 is the default; more samples cost the target more)",
        ),
        Some(f) => out.frequency_hz = f,
        None => {}
    }
    if let Some(written) = spec.call_graph.as_deref() {
        match CallGraph::parse(written) {
            Some(c) => out.call_graph = c,
            None => problem(
                "call_graph",
                format!("{written:?} is not a way to unwind stacks"),
                "give \"dwarf\" (any build), \"dwarf,SIZE\" (SIZE bytes of stack per sample, 8 to 65528, a multiple of 8) or \"fp\" (a build with frame pointers)",
            ),
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_section() {
        let (p, problems) = check(None, None);
        assert_eq!(p, Profiler::default());
        assert!(problems.is_empty());
    }

    #[test]
    fn every_bad_field_is_named_with_a_fix() {
        let spec = ProfilerSpec {
            runs: Some(0),
            frequency_hz: Some(1_000_000),
            call_graph: Some("lbr".into()),
        };
        let (_, problems) = check(Some(&spec), Some(7));
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "profiler.runs",
                "profiler.frequency_hz",
                "profiler.call_graph"
            ]
        );
        assert!(
            problems
                .iter()
                .all(|p| p.line == Some(7) && !p.fix.is_empty())
        );
    }

    #[test]
    fn frame_pointers_are_chosen_by_name() {
        let spec = ProfilerSpec {
            call_graph: Some("fp".into()),
            ..ProfilerSpec::default()
        };
        assert_eq!(check(Some(&spec), None).0.call_graph, CallGraph::Fp);
        assert_eq!(CallGraph::Fp.perf_arg(), "fp");
        assert_eq!(
            CallGraph::parse("dwarf"),
            Some(CallGraph::Dwarf(DWARF_STACK))
        );
        assert_eq!(
            CallGraph::parse("dwarf,65528"),
            Some(CallGraph::Dwarf(65_528))
        );
        assert_eq!(CallGraph::parse("dwarf,65536"), None);
        assert_eq!(CallGraph::parse("dwarf,100"), None);
        assert_eq!(CallGraph::parse("lbr"), None);
    }
}
