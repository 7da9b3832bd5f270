//! Profiles, as pure functions: which crate (or Python package, or library) owns each stack
//! sample, sample counts by owner and by function, and how much of a variant's measured CPU per
//! request over the baseline's each owner accounts for.
//!
//! **Owner of a sample.** Read from the leaf towards the root, the first frame that does work of
//! its own: frames of the kernel, of the C library and the allocator, of Rust's `core`, `alloc`
//! and `std`, of small data-structure and lock crates (`hashbrown`, `sharded_slab`,
//! `parking_lot`, ...) and of the CPython interpreter are passed over, so that a syscall, a
//! `malloc`, a hash-map lookup or a mutex is charged to the crate that asked for it. A generic
//! frame of `core`/`alloc`/`std` whose first type argument names a crate
//! (`core::ptr::drop_in_place<tracing::span::Span>`) belongs to that crate: dropping a span is
//! tracing's work, not `core`'s. A stack with no owning frame is charged to what its leaf is
//! (`kernel`, `native code`, `CPython interpreter`, `unresolved`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::results::Results;
use crate::results::profile::VariantProfile;

/// Rust crates whose frames are charged to their caller.
const HELPERS: &[&str] = &[
    "core",
    "alloc",
    "std",
    "hashbrown",
    "indexmap",
    "smallvec",
    "arrayvec",
    "memchr",
    "bytes",
    "itoa",
    "ryu",
    "once_cell",
    "lazy_static",
    "parking_lot",
    "parking_lot_core",
    "lock_api",
    "crossbeam_utils",
    "crossbeam_epoch",
    "crossbeam_channel",
    "crossbeam_queue",
    "sharded_slab",
    "thread_local",
    "slab",
    "pin_project_lite",
    "compiler_builtins",
    // The allocator shims (`__rustc::__rust_alloc`).
    "__rustc",
];

/// Primitive types, which appear as the self type of a trait's impl (`<str as
/// core::fmt::Display>::fmt`): the trait's crate owns such a frame.
const PRIMITIVES: &[&str] = &[
    "str", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

/// Owner of samples whose frames are all unresolved addresses.
pub const UNRESOLVED: &str = "unresolved";
/// Owner of samples with only kernel frames.
pub const KERNEL: &str = "kernel";
/// Owner of samples in C code with no owning frame above (libc, the allocator, a C library).
pub const NATIVE: &str = "native code (C library, allocator)";
/// Owner of samples in CPython's own C code with no Python frame above.
pub const INTERPRETER: &str = "CPython interpreter";
/// The row under which functions outside the kept ones are counted.
pub const OTHER_FUNCTIONS: &str = "(other functions)";

/// What a frame is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Frame {
    /// Does work of its own, for this owner.
    Owner(String),
    /// Charged to its caller; if nothing owns the stack, its own kind names the owner.
    PassOver(&'static str),
    /// A Rust frame of a helper crate: charged to its caller, else to the crate.
    Helper(String),
}

/// Strips the legacy mangling hash (`::h0123456789abcdef`) perf may leave on a Rust symbol.
fn strip_hash(frame: &str) -> &str {
    match frame.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            head
        }
        _ => frame,
    }
}

/// The crate of a Rust path (`<a::B as c::D>::f` -> `a`, `&mut x::Y` -> `x`).
fn crate_of(path: &str) -> &str {
    let p = path.trim_start_matches(['<', '&', '(', '[', '*', ' ']);
    let p = p
        .strip_prefix("mut ")
        .or_else(|| p.strip_prefix("dyn "))
        .or_else(|| p.strip_prefix("const "))
        .unwrap_or(p);
    let end = p
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(p.len());
    &p[..end]
}

/// The first crate named in a generic path's type arguments that is not a helper
/// (`core::ptr::drop_in_place<alloc::sync::Arc<tracing_core::Dispatch>>` -> `tracing_core`).
fn argument_crate(path: &str) -> Option<&str> {
    // Skip a leading `<` (a qualified path) so the argument list is the path's own.
    let body = path.strip_prefix('<').unwrap_or(path);
    let args = &body[body.find('<')? + 1..];
    args.split(|c: char| "<>,()[]&* ".contains(c))
        .filter(|token| token.contains("::"))
        .map(crate_of)
        .find(|krate| !krate.is_empty() && !HELPERS.contains(krate))
}

/// The package of a Python frame as Python's perf support names it
/// (`py::handler:/srv/venv/lib/python3.12/site-packages/flask/app.py`): the top-level package
/// under site-packages (two levels for the `opentelemetry` namespace), the standard library's
/// module, or the file.
fn python_package(frame: &str) -> String {
    let path = frame.split_once(':').map_or("", |(_, rest)| rest);
    let path = path.split_once(':').map_or(path, |(_, p)| p);
    let after = |marker: &str| path.split_once(marker).map(|(_, rest)| rest);
    if let Some(rest) = after("site-packages/") {
        let mut parts = rest.split('/').map(|p| p.trim_end_matches(".py"));
        let top = parts.next().unwrap_or("?");
        return match (top, parts.next()) {
            ("opentelemetry", Some(sub)) => format!("python: opentelemetry.{sub}"),
            _ => format!("python: {top}"),
        };
    }
    if let Some(module) = path
        .split('/')
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0].starts_with("python3") && !w[1].is_empty())
        .map(|w| w[1].trim_end_matches(".py"))
    {
        return format!("python: {module} (standard library)");
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    format!("python: {file}")
}

fn classify(frame: &str) -> Frame {
    if frame.ends_with("_[k]") {
        return Frame::PassOver(KERNEL);
    }
    if frame.starts_with("py::") {
        return Frame::Owner(python_package(frame));
    }
    if frame.starts_with('[') || frame.starts_with("0x") || frame == "unknown" {
        return Frame::PassOver(UNRESOLVED);
    }
    if !frame.contains("::") {
        let interpreter = frame.starts_with("_Py") || frame.starts_with("Py");
        return Frame::PassOver(if interpreter { INTERPRETER } else { NATIVE });
    }
    let mut krate = crate_of(frame);
    // `<T as tracing::instrument::Instrument>::instrument`: a type parameter implements a
    // crate's trait; the trait's crate owns the frame.
    let self_type_is_generic = krate.is_empty()
        || krate.starts_with(|c: char| c.is_ascii_uppercase())
        || PRIMITIVES.contains(&krate);
    if let Some((_, tr)) = frame.split_once(" as ").filter(|_| self_type_is_generic) {
        krate = crate_of(tr);
    }
    if let Some(inner) = argument_crate(frame).filter(|_| matches!(krate, "core" | "alloc" | "std"))
    {
        return Frame::Owner(inner.to_string());
    }
    if HELPERS.contains(&krate) || krate.is_empty() {
        return Frame::Helper(krate.to_string());
    }
    Frame::Owner(krate.to_string())
}

/// The owner of a stack (frames root first) and the frame that owns it.
pub fn owner<'a>(frames: &[&'a str]) -> (String, &'a str) {
    for frame in frames.iter().rev() {
        if let Frame::Owner(owner) = classify(frame) {
            return (owner, strip_hash(frame));
        }
    }
    // Nothing owns it: the innermost helper crate, else what the leaf is.
    for frame in frames.iter().rev() {
        if let Frame::Helper(krate) = classify(frame)
            && !krate.is_empty()
        {
            return (krate, strip_hash(frame));
        }
    }
    let leaf = frames.last().copied().unwrap_or("[unknown]");
    let kind = match classify(leaf) {
        Frame::PassOver(kind) => kind.to_string(),
        Frame::Owner(o) | Frame::Helper(o) => o,
    };
    (kind, strip_hash(leaf))
}

/// Whether a stack holds a named frame of the program's own code (a Rust path or a Python
/// function), rather than only the kernel, C code or unresolved addresses.
pub fn resolves(frames: &[&str]) -> bool {
    frames
        .iter()
        .any(|f| f.starts_with("py::") || (f.contains("::") && !f.ends_with("_[k]")))
}

/// Whether a stack (frames root first, the thread's name first of all) was unwound to its
/// thread's or process's start.
pub fn complete(frames: &[&str]) -> bool {
    frames.get(1).is_some_and(|f| {
        let f = f.trim_start_matches("__GI_").trim_start_matches('_');
        matches!(
            f,
            "clone"
                | "clone3"
                | "start"
                | "libc_start_main"
                | "libc_start_call_main"
                | "start_thread"
        )
    })
}

/// Weights of folded stacks (`a;b;c WEIGHT` per line: sampled CPU ns, or sample counts), by
/// owner and by owning function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attribution {
    /// All of it.
    pub total: u64,
    /// Of stacks that resolve (see [`resolves`]).
    pub resolved: u64,
    /// Of stacks unwound to their thread's start (see [`complete`]).
    pub complete: u64,
    /// By owner.
    pub by_owner: BTreeMap<String, u64>,
    /// By owning function (all of them; see [`keep_top`]).
    pub by_function: BTreeMap<String, u64>,
}

/// The `(stack, count)` of each `stack COUNT` line of folded stacks; other lines are skipped.
fn entries(folded: &str) -> impl Iterator<Item = (&str, u64)> {
    folded.lines().filter_map(|line| {
        let (stack, count) = line.rsplit_once(' ')?;
        Some((stack, count.trim().parse().ok()?))
    })
}

/// Attributes folded stacks; lines that are not `stack COUNT` are skipped.
pub fn attribute(folded: &str) -> Attribution {
    let mut a = Attribution::default();
    for (stack, count) in entries(folded) {
        let frames: Vec<&str> = stack.split(';').collect();
        let (o, function) = owner(&frames);
        a.total += count;
        if resolves(&frames) {
            a.resolved += count;
        }
        if complete(&frames) {
            a.complete += count;
        }
        *a.by_owner.entry(o).or_default() += count;
        *a.by_function.entry(function.to_string()).or_default() += count;
    }
    a
}

/// The `n` largest counts, the rest summed under [`OTHER_FUNCTIONS`].
pub fn keep_top(counts: &BTreeMap<String, u64>, n: usize) -> BTreeMap<String, u64> {
    let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut out: BTreeMap<String, u64> = sorted
        .iter()
        .take(n)
        .map(|(k, v)| ((*k).clone(), **v))
        .collect();
    let rest: u64 = sorted.iter().skip(n).map(|(_, v)| **v).sum();
    if rest > 0 {
        *out.entry(OTHER_FUNCTIONS.to_string()).or_default() += rest;
    }
    out
}

/// Functions kept per profile in results.json (the rest are summed in one row).
pub const FUNCTIONS_KEPT: usize = 400;

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Sets a profile's sampled CPU, shares and CPU by owner and function from its folded stacks
/// (`run` after folding; `report` again, so that what a later version attributes differently
/// is recomputed from the stacks, not taken from the file).
pub fn fill(p: &mut VariantProfile, folded: &str) {
    let a = attribute(folded);
    p.sampled_ns = a.total;
    p.resolved_share = share(a.resolved, a.total);
    p.complete_share = share(a.complete, a.total);
    p.by_function = keep_top(&a.by_function, FUNCTIONS_KEPT);
    p.by_owner = a.by_owner;
}

/// Sums folded stacks (`stack COUNT` lines) of several runs into one, sorted by stack.
pub fn merge_folded<'a>(runs: impl IntoIterator<Item = &'a str>) -> String {
    let mut stacks: BTreeMap<&str, u64> = BTreeMap::new();
    for (stack, count) in runs.into_iter().flat_map(entries) {
        *stacks.entry(stack).or_default() += count;
    }
    stacks.into_iter().fold(String::new(), |mut out, (s, c)| {
        let _ = writeln!(out, "{s} {c}");
        out
    })
}

/// Scales `before`'s counts by `factor` (rounded), so that two profiles of different lengths
/// compare per request in a differential flame graph.
pub fn scale_folded(folded: &str, factor: f64) -> String {
    entries(folded).fold(String::new(), |mut out, (stack, count)| {
        let count = (count as f64 * factor).round();
        if count >= 1.0 {
            let _ = writeln!(out, "{stack} {count:.0}");
        }
        out
    })
}

/// One row of a "where the overhead goes" table, µs of target CPU per request.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Owner or function.
    pub name: String,
    /// In the baseline.
    pub baseline_us: f64,
    /// In the variant.
    pub variant_us: f64,
}

impl Row {
    /// Variant minus baseline.
    pub fn added_us(&self) -> f64 {
        self.variant_us - self.baseline_us
    }
}

/// Where a variant's added CPU per request goes, against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The variant.
    pub variant: String,
    /// The baseline.
    pub baseline: String,
    /// The baseline's target CPU per request (see `basis`).
    pub baseline_us: f64,
    /// The variant's, likewise.
    pub variant_us: f64,
    /// Where both figures come from.
    pub basis: Basis,
    /// Owners with the largest added CPU (either sign), largest first.
    pub owners: Vec<Row>,
    /// Every other owner, summed.
    pub other_owners: Row,
    /// Functions with the largest added CPU, largest first.
    pub functions: Vec<Row>,
    /// The profiler's own cost: the variant's profiling runs' CPU per request over its measured
    /// median, minus 1 (when both exist).
    pub profiler_overhead: Option<f64>,
}

impl Explanation {
    /// The measured difference, µs per request.
    pub fn measured_added_us(&self) -> f64 {
        self.variant_us - self.baseline_us
    }

    /// What the listed owners add together, µs per request.
    pub fn listed_added_us(&self) -> f64 {
        self.owners.iter().map(Row::added_us).sum()
    }

    /// The listed owners' share of the measured difference (`None` when it is not positive).
    pub fn explained_share(&self) -> Option<f64> {
        let measured = self.measured_added_us();
        (measured > 0.0).then(|| self.listed_added_us() / measured)
    }
}

/// Where the CPU per request that scales a profile comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The speed-adjusted medians of the measured runs (`cpu_adjusted`): the machine's drift
    /// between runs taken out, so the difference is the configurations' own.
    Adjusted,
    /// The medians of the measured runs' CPU per request (too few runs to adjust for speed).
    Measured,
    /// The profiling runs' own figures (no valid measured runs).
    Profiled,
}

impl Basis {
    /// In words, for the report.
    pub fn words(self) -> &'static str {
        match self {
            Self::Adjusted => "speed-adjusted medians of the measured runs",
            Self::Measured => "medians of the measured runs (too few to adjust for speed)",
            Self::Profiled => "the profiling runs' own figures: no valid measured runs",
        }
    }
}

/// Owners listed per table.
pub const OWNERS_LISTED: usize = 12;
/// Functions listed per table.
pub const FUNCTIONS_LISTED: usize = 12;

/// A variant's measured CPU per request: its speed-adjusted median when the statistics have
/// one, else the median of its valid measured runs.
fn measured_us(results: &Results, variant: &str) -> Option<(f64, Basis)> {
    let adjusted = results
        .summary
        .iter()
        .find(|s| s.variant == variant)
        .and_then(|s| s.metrics.get("cpu_adjusted"))
        .map(|m| m.median)
        .filter(|m| *m > 0.0);
    match adjusted {
        Some(m) => Some((m, Basis::Adjusted)),
        None => measured_raw(results, variant).map(|m| (m, Basis::Measured)),
    }
}

/// The median CPU per request of a variant's valid measured runs.
fn measured_raw(results: &Results, variant: &str) -> Option<f64> {
    let values: Vec<f64> = results
        .kept_runs()
        .filter(|r| r.variant == variant && r.valid && r.load.requests > 0)
        .map(|r| r.cpu.target_us_per_request)
        .collect();
    super::median::median(&values)
}

/// A profile's CPU per request to scale its samples by: its variant's measured median, else
/// the profiling runs' own figure.
pub fn cpu_per_request(results: &Results, p: &VariantProfile) -> f64 {
    measured_us(results, &p.variant).map_or(p.cpu_us_per_request, |(us, _)| us)
}

/// Rows of `names`, each owner's share of its profile times that profile's CPU per request.
fn rows(
    base: (&BTreeMap<String, u64>, u64, f64),
    var: (&BTreeMap<String, u64>, u64, f64),
) -> Vec<Row> {
    let share = |counts: &BTreeMap<String, u64>, total: u64, us: f64, name: &str| {
        if total == 0 {
            0.0
        } else {
            counts.get(name).copied().unwrap_or(0) as f64 / total as f64 * us
        }
    };
    let mut names: Vec<&String> = base.0.keys().chain(var.0.keys()).collect();
    names.sort();
    names.dedup();
    let mut rows: Vec<Row> = names
        .into_iter()
        .map(|name| Row {
            name: name.clone(),
            baseline_us: share(base.0, base.1, base.2, name),
            variant_us: share(var.0, var.1, var.2, name),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.added_us()
            .abs()
            .total_cmp(&a.added_us().abs())
            .then(a.name.cmp(&b.name))
    });
    rows
}

/// Where each variant's added CPU goes, against the baseline's profile; empty without a
/// baseline profile.
///
/// Each owner's CPU per request is its share of the variant's samples times the variant's
/// measured median CPU per request: the machine's speed, which changes from run to run on a VM,
/// scales every owner alike and so cancels out of the shares, and the rows add up to the
/// measured difference exactly. Profiling runs without measured runs (or with no valid one) use
/// their own CPU per request instead.
pub fn explain(results: &Results) -> Vec<Explanation> {
    let baseline = &results.scenario.baseline;
    let Some(base) = results
        .profiles
        .iter()
        .find(|p| &p.variant == baseline && p.has_samples())
    else {
        return Vec::new();
    };
    results
        .profiles
        .iter()
        .filter(|p| &p.variant != baseline && p.has_samples())
        .map(|p| explain_one(results, base, p))
        .collect()
}

fn explain_one(results: &Results, base: &VariantProfile, p: &VariantProfile) -> Explanation {
    // Both figures from one basis: speed-adjusted only when both are.
    let measured = match (
        measured_us(results, &base.variant),
        measured_us(results, &p.variant),
    ) {
        (Some((b, Basis::Adjusted)), Some((v, Basis::Adjusted))) => Some((b, v, Basis::Adjusted)),
        (Some(_), Some(_)) => measured_raw(results, &base.variant)
            .zip(measured_raw(results, &p.variant))
            .map(|(b, v)| (b, v, Basis::Measured)),
        _ => None,
    };
    let (baseline_us, variant_us, basis) = measured.unwrap_or((
        base.cpu_us_per_request,
        p.cpu_us_per_request,
        Basis::Profiled,
    ));
    let owners = rows(
        (&base.by_owner, base.sampled_ns, baseline_us),
        (&p.by_owner, p.sampled_ns, variant_us),
    );
    let (listed, rest) = owners.split_at(owners.len().min(OWNERS_LISTED));
    let other_owners = Row {
        name: "every other owner".into(),
        baseline_us: rest.iter().map(|r| r.baseline_us).sum(),
        variant_us: rest.iter().map(|r| r.variant_us).sum(),
    };
    let functions = rows(
        (&base.by_function, base.sampled_ns, baseline_us),
        (&p.by_function, p.sampled_ns, variant_us),
    )
    .into_iter()
    .filter(|r| r.name != OTHER_FUNCTIONS)
    .take(FUNCTIONS_LISTED)
    .collect();
    Explanation {
        variant: p.variant.clone(),
        baseline: base.variant.clone(),
        baseline_us,
        variant_us,
        basis,
        owners: listed.to_vec(),
        other_owners,
        functions,
        // Against the raw median: the profiling run was not adjusted for speed either.
        profiler_overhead: measured_raw(results, &p.variant)
            .filter(|m| p.cpu_us_per_request > 0.0 && *m > 0.0)
            .map(|m| p.cpu_us_per_request / m - 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner_of(stack: &str) -> (String, String) {
        let frames: Vec<&str> = stack.split(';').collect();
        let (o, f) = owner(&frames);
        (o, f.to_string())
    }

    #[test]
    fn a_syscall_an_allocation_and_a_map_lookup_belong_to_the_crate_that_asked() {
        let (o, f) = owner_of(
            "tokio::runtime::task::harness::Harness<T,S>::poll;\
             <tracing_subscriber::registry::sharded::Registry as tracing_core::subscriber::Subscriber>::enter;\
             sharded_slab::shard::Shard<T,C>::get;hashbrown::map::HashMap<K,V,S,A>::get;malloc;\
             entry_SYSCALL_64_[k];do_syscall_64_[k]",
        );
        assert_eq!(o, "tracing_subscriber");
        assert!(f.contains("Registry as tracing_core"), "{f}");
    }

    #[test]
    fn dropping_a_span_is_tracings_work_not_cores() {
        let (o, _) = owner_of(
            "target_app::web::handler::{{closure}};core::ptr::drop_in_place<tracing::span::Span>;free",
        );
        assert_eq!(o, "tracing");
        let (o, _) = owner_of(
            "f;core::ptr::drop_in_place<alloc::sync::Arc<tracing_core::dispatcher::Dispatch>>",
        );
        assert_eq!(o, "tracing_core");
        // A generic frame without a named type argument passes to its caller.
        let (o, _) = owner_of(
            "sqlx_core::pool::inner::PoolInner<DB>::acquire;alloc::sync::Arc<T,A>::drop_slow",
        );
        assert_eq!(o, "sqlx_core");
        // A type parameter implementing a crate's trait belongs to the trait's crate.
        let (o, _) = owner_of("f;<T as opentelemetry::trace::context::FutureExt>::with_context");
        assert_eq!(o, "opentelemetry");
        let (o, _) =
            owner_of("serde_json::ser::format_escaped_str;<str as core::fmt::Display>::fmt");
        assert_eq!(o, "serde_json");
        let (o, _) = owner_of("prost::encoding::encode;__rustc::__rust_alloc;malloc");
        assert_eq!(o, "prost");
    }

    #[test]
    fn stacks_nothing_owns_are_named_by_their_leaf() {
        assert_eq!(owner_of("[unknown];[unknown]").0, UNRESOLVED);
        assert_eq!(owner_of("[unknown];schedule_[k]").0, KERNEL);
        assert_eq!(owner_of("__libc_start_main;main;memcpy").0, NATIVE);
        assert_eq!(
            owner_of("_PyEval_EvalFrameDefault;PyObject_Call").0,
            INTERPRETER
        );
        assert_eq!(owner_of("std::thread::local::LocalKey<T>::with").0, "std");
    }

    #[test]
    fn python_frames_are_grouped_by_package() {
        let site = "/srv/.venv/lib/python3.12/site-packages";
        let stack = format!(
            "_PyEval_EvalFrameDefault;py::wsgi_app:{site}/flask/app.py;\
             py::start_span:{site}/opentelemetry/sdk/trace/__init__.py;_PyObject_Malloc"
        );
        assert_eq!(owner_of(&stack).0, "python: opentelemetry.sdk");
        assert_eq!(
            owner_of("py::dumps:/usr/lib/python3.12/json/__init__.py").0,
            "python: json (standard library)"
        );
        assert_eq!(owner_of("py::index:/app/app.py").0, "python: app.py");
    }

    #[test]
    fn a_mangling_hash_is_stripped_from_function_names() {
        let (_, f) = owner_of("tracing_core::dispatcher::get_default::h0123456789abcdef");
        assert_eq!(f, "tracing_core::dispatcher::get_default");
    }

    #[test]
    fn attribution_counts_every_sample_once() {
        let folded = "main;target_app::db::query;memcpy 30\n\
                      main;tracing_core::event::Event::dispatch 10\n\
                      [unknown] 5\n\
                      garbage line\n";
        let a = attribute(folded);
        assert_eq!(a.total, 45);
        assert_eq!(a.resolved, 40);
        assert_eq!(a.complete, 0);
        assert!(complete(&[
            "tokio-rt-worker",
            "clone3",
            "start_thread",
            "f"
        ]));
        assert!(complete(&["python3", "_start", "__libc_start_main"]));
        assert!(!complete(&["tokio-rt-worker", "[unknown]", "tokio::x"]));
        assert_eq!(a.by_owner["target_app"], 30);
        assert_eq!(a.by_owner["tracing_core"], 10);
        assert_eq!(a.by_owner[UNRESOLVED], 5);
        assert_eq!(a.by_function.values().sum::<u64>(), 45);
        let top = keep_top(&a.by_function, 1);
        assert_eq!(top[OTHER_FUNCTIONS], 15);
        assert_eq!(top.values().sum::<u64>(), 45);
    }

    #[test]
    fn merging_and_scaling_folded_stacks() {
        let merged = merge_folded(["a;b 2\nc 1\n", "a;b 3\n"]);
        assert_eq!(merged, "a;b 5\nc 1\n");
        assert_eq!(scale_folded(&merged, 0.5), "a;b 3\nc 1\n");
        assert_eq!(scale_folded("a 1\n", 0.2), "");
    }

    fn profile(variant: &str, owners: &[(&str, u64)], cpu: f64) -> VariantProfile {
        let by_owner: BTreeMap<String, u64> =
            owners.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
        VariantProfile {
            variant: variant.into(),
            runs: 1,
            sampled_ns: by_owner.values().sum(),
            by_function: by_owner.clone(),
            by_owner,
            cpu_us_per_request: cpu,
            ..VariantProfile::default()
        }
    }

    #[test]
    fn the_rows_add_up_to_the_measured_difference() {
        let mut results = crate::results::fixture::results();
        let base = results.scenario.baseline.clone();
        let other = results
            .scenario
            .variants
            .iter()
            .find(|v| **v != base)
            .cloned()
            .unwrap();
        results.profiles = vec![
            profile(&base, &[("target_app", 900), ("kernel", 100)], 1100.0),
            profile(
                &other,
                &[
                    ("target_app", 800),
                    ("kernel", 100),
                    ("tracing_subscriber", 100),
                ],
                1300.0,
            ),
        ];
        let e = &explain(&results)[0];
        assert_ne!(e.basis, Basis::Profiled);
        let all: f64 = e.listed_added_us() + e.other_owners.added_us();
        assert!((all - e.measured_added_us()).abs() < 1e-6, "{all} vs {e:?}");
        assert_eq!(e.owners[0].name, "tracing_subscriber");
        assert!(e.profiler_overhead.is_some());
        // Without a baseline profile there is nothing to explain.
        results.profiles.remove(0);
        assert!(explain(&results).is_empty());
    }
}
