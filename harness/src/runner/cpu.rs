//! CPU time of target processes over the measured window, to the nanosecond where possible.
//!
//! `/proc/PID/stat` counts whole 10 ms clock ticks: over a 10 s window at a tenth of a core that
//! is ±2% per reading, as large as the effects being measured. So each thread's
//! `/proc/PID/task/TID/schedstat` (nanoseconds on the CPU) is read, for every thread of every
//! target process and of its descendants (e.g. a pre-fork server's workers). A thread counts
//! from its first reading in the window (0 when it started inside the window) to its last one.
//!
//! Threads and processes that live for less than one reading interval (thread-per-request
//! servers, short-lived helpers) escape per-thread readings. Their time does reach the process's
//! own clock-tick counters (`utime + stime + cutime + cstime`, which keep exited threads and
//! reaped children), so both are kept: when the tick count exceeds the nanosecond count by more
//! than its own resolution, the tick count is used. In the tick count, a process that died in
//! the window is not counted itself: its whole life reached its parent's `cutime + cstime` when
//! it was reaped, so only its time before the window is taken off (see [`tick_total`]).

use std::collections::{BTreeMap, HashMap};

use crate::procfs;

/// Per-thread and per-process readings of a set of process trees.
#[derive(Debug, Default)]
pub struct CpuTracker {
    /// (process name, pid) of each tree's root.
    roots: Vec<(String, u32)>,
    /// tid -> (tree name, ns at the first reading, ns at the latest reading).
    threads: HashMap<u32, (String, u64, u64)>,
    /// pid -> its cumulative tick readings (self and reaped children).
    processes: HashMap<u32, Ticks>,
    started: bool,
    /// The processes of the trees, found again every [`TREE_REFRESH`] samples.
    tree: Vec<(String, u32)>,
    samples: u32,
}

/// One process's cumulative clock-tick CPU (`utime + stime + cutime + cstime`), µs.
#[derive(Debug, Clone, PartialEq)]
struct Ticks {
    /// The tree it belongs to.
    tree: String,
    /// At its first reading (0 when it started inside the window).
    first: f64,
    /// At its latest reading.
    last: f64,
    /// The sample that read it last.
    seen: u32,
}

/// CPU µs of one tree by its tick counters after sample `last_sample`: processes still there
/// count from their first reading to their last; a process gone by then was reaped by a parent
/// in the tree, whose counters took in its whole life, so only what it had used before the
/// window (its first reading) is taken off. Counting the dead process too, as before, counted
/// its time twice.
fn tick_total<'a>(processes: impl Iterator<Item = &'a Ticks>, last_sample: u32) -> f64 {
    processes
        .map(|p| {
            if p.seen == last_sample {
                (p.last - p.first).max(0.0)
            } else {
                -p.first
            }
        })
        .sum::<f64>()
        .max(0.0)
}

/// Samples between two walks of the process trees.
const TREE_REFRESH: u32 = 5;

/// Nanoseconds a thread has run, from its schedstat line.
pub fn parse_schedstat(line: &str) -> Option<u64> {
    line.split_whitespace().next()?.parse().ok()
}

fn thread_ns(pid: u32, tid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat")).ok()?;
    parse_schedstat(&text)
}

/// Child pids of every thread of `pid` (`/proc/PID/task/TID/children`).
fn children_of(pid: u32) -> Vec<u32> {
    procfs::threads_of(pid)
        .into_iter()
        .filter_map(|tid| std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// `roots` and all their descendants, each labelled with its root's name.
pub(super) fn process_trees(roots: &[(String, u32)]) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (name, root) in roots {
        let mut stack = vec![*root];
        while let Some(pid) = stack.pop() {
            // A loop cannot form in a process tree, but bound the walk anyway.
            if out.len() > 10_000 {
                break;
            }
            out.push((name.clone(), pid));
            stack.extend(children_of(pid));
        }
    }
    out
}

/// Records reading `now` of counter `id` (a thread's ns or a process's tick µs) as
/// (label, first reading, latest reading). Before the window's first sample is complete
/// (`started` false) a reading is a starting point; a counter first seen later began inside the
/// window and starts from zero.
fn record<K, V: Copy + PartialOrd + Default>(
    map: &mut HashMap<u32, (K, V, V)>,
    id: u32,
    now: V,
    started: bool,
    label: impl FnOnce() -> K,
) {
    let first = if started { V::default() } else { now };
    map.entry(id)
        .and_modify(|t| {
            if now > t.2 {
                t.2 = now;
            }
        })
        .or_insert_with(|| (label(), first, now));
}

/// How much larger the tick count must be before it replaces the nanosecond count: two ticks
/// of resolution at each end, or 2%.
fn ticks_win(sched_us: f64, ticks_us: f64) -> bool {
    ticks_us > sched_us + (40_000.0_f64).max(0.02 * sched_us)
}

impl CpuTracker {
    /// A tracker of the trees rooted at `roots` (name, pid); nothing is read until `sample`.
    pub fn new(roots: Vec<(String, u32)>) -> Self {
        Self {
            roots,
            ..Self::default()
        }
    }

    /// Reads every thread and process. The first call sets each one's starting point; those
    /// first seen later start from 0 (they began inside the window).
    pub fn sample(&mut self) {
        if self.samples.is_multiple_of(TREE_REFRESH) {
            self.tree = process_trees(&self.roots);
        }
        let sample = self.samples;
        self.samples += 1;
        for (name, pid) in &self.tree {
            let pid = *pid;
            if let Some(us) = procfs::cpu_us(pid) {
                let started = self.started;
                self.processes
                    .entry(pid)
                    .and_modify(|p| {
                        p.last = p.last.max(us);
                        p.seen = sample;
                    })
                    .or_insert_with(|| Ticks {
                        tree: name.clone(),
                        first: if started { 0.0 } else { us },
                        last: us,
                        seen: sample,
                    });
            }
            for tid in procfs::threads_of(pid) {
                if let Some(ns) = thread_ns(pid, tid) {
                    record(&mut self.threads, tid, ns, self.started, || name.clone());
                }
            }
        }
        self.started = true;
    }

    /// Every process of the trees as of the latest walk: (tree name, pid).
    pub fn processes(&self) -> &[(String, u32)] {
        &self.tree
    }

    /// Every process of the trees now (walks them afresh): (tree name, pid).
    pub fn walk(&self) -> Vec<(String, u32)> {
        process_trees(&self.roots)
    }

    /// RSS of all the trees' processes now, MB (walks the trees afresh).
    #[cfg(test)]
    pub fn tree_rss_mb(&self) -> f64 {
        process_trees(&self.roots)
            .iter()
            .filter_map(|(_, pid)| procfs::rss_mb(*pid))
            .sum()
    }

    /// CPU µs per tree since the first sample.
    pub fn totals_us(&self) -> BTreeMap<String, f64> {
        let mut sched: BTreeMap<String, f64> =
            self.roots.iter().map(|(n, _)| (n.clone(), 0.0)).collect();
        for (name, first, last) in self.threads.values() {
            *sched.entry(name.clone()).or_default() += last.saturating_sub(*first) as f64 / 1e3;
        }
        let last_sample = self.samples.saturating_sub(1);
        let ticks: BTreeMap<String, f64> = self
            .roots
            .iter()
            .map(|(name, _)| {
                let tree = self.processes.values().filter(|p| &p.tree == name);
                (name.clone(), tick_total(tree, last_sample))
            })
            .collect();
        sched
            .into_iter()
            .map(|(name, s)| {
                let t = ticks.get(&name).copied().unwrap_or(0.0);
                (name, if ticks_win(s, t) { t } else { s })
            })
            .collect()
    }
}

/// Thread-name prefixes (cut to the kernel's 15 bytes) of the harness's own threads.
const SINK_THREAD: &str = "otelbench-sink";
/// The sampler's thread: neither generator nor sink.
pub const SAMPLER_THREAD: &str = "otelbench-cpu";
/// The threads keeping the generator's CPUs awake (`placement.keep_awake`): left out of every
/// figure, the saturation check too (they take only time no other thread wanted).
pub const AWAKE_THREAD: &str = "otelbench-awake";

/// The harness's own CPU, split by thread name into the embedded sink's threads, the sampler's
/// (left out) and the rest (the load generator's runtime and the run loop).
#[derive(Debug, Default)]
pub struct SelfCpu {
    /// tid -> (role, ns at the first reading, ns at the latest reading).
    threads: HashMap<u32, (Role, u64, u64)>,
    started: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Generator,
    Sink,
    /// The sampler: not the generator's work, but the harness's.
    Sampler,
    /// The keep-awake spinners: they only fill time nothing else wanted.
    Awake,
}

fn role_of(comm: &str) -> Role {
    let comm = comm.trim_end();
    if comm.starts_with(SINK_THREAD) {
        Role::Sink
    } else if comm.starts_with(SAMPLER_THREAD) {
        Role::Sampler
    } else if comm.starts_with(AWAKE_THREAD) {
        Role::Awake
    } else {
        Role::Generator
    }
}

impl SelfCpu {
    /// Reads every thread of this process; see [`CpuTracker::sample`].
    pub fn sample(&mut self) {
        let pid = std::process::id();
        for tid in procfs::threads_of(pid) {
            if let Some(ns) = thread_ns(pid, tid) {
                record(&mut self.threads, tid, ns, self.started, || {
                    role_of(
                        &std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
                            .unwrap_or_default(),
                    )
                });
            }
        }
        self.started = true;
    }

    /// (generator µs, sink µs, all threads but the keep-awake spinners µs) since the first
    /// sample.
    pub fn totals_us(&self) -> (f64, f64, f64) {
        self.threads
            .values()
            .fold((0.0, 0.0, 0.0), |(g, s, all), (role, first, last)| {
                let us = last.saturating_sub(*first) as f64 / 1e3;
                match role {
                    Role::Generator => (g + us, s, all + us),
                    Role::Sink => (g, s + us, all + us),
                    Role::Sampler => (g, s, all + us),
                    Role::Awake => (g, s, all),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schedstat_and_names_roles() {
        assert_eq!(
            parse_schedstat("154216327 91971814 450\n"),
            Some(154_216_327)
        );
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(role_of("otelbench-sink\n"), Role::Sink);
        assert_eq!(role_of("otelbench-cpu"), Role::Sampler);
        assert_eq!(role_of("otelbench-awake"), Role::Awake);
        assert_eq!(role_of("tokio-rt-worker"), Role::Generator);
        assert!(crate::sink::THREAD_NAME.starts_with(SINK_THREAD));
    }

    #[test]
    fn the_keep_awake_spinners_count_nowhere() {
        let mut own = SelfCpu::default();
        own.threads.insert(1, (Role::Generator, 0, 5_000_000));
        own.threads.insert(2, (Role::Sink, 0, 1_000_000));
        own.threads.insert(3, (Role::Sampler, 0, 500_000));
        own.threads.insert(4, (Role::Awake, 0, 900_000_000));
        assert_eq!(own.totals_us(), (5_000.0, 1_000.0, 6_500.0));
    }

    #[test]
    fn a_child_reaped_in_the_window_is_counted_once() {
        let t = |first: f64, last: f64, seen: u32| Ticks {
            tree: "web".into(),
            first,
            last,
            seen,
        };
        // The parent used 100 µs itself in the window, and reaped a child that had used 50 µs
        // before the window and 300 µs in it: the parent's counters rose by 100 + 350.
        let parent = t(1_000.0, 1_450.0, 9);
        let child = t(50.0, 250.0, 6); // last read before it died, at 250
        assert!((tick_total([&parent, &child].into_iter(), 9) - 400.0).abs() < 1e-9);
        // A child still running at the end counts from its first reading to its last.
        let running = t(0.0, 120.0, 9);
        assert!((tick_total([&running].into_iter(), 9) - 120.0).abs() < 1e-9);
    }

    #[test]
    fn ticks_replace_nanoseconds_only_beyond_their_resolution() {
        assert!(!ticks_win(1_000_000.0, 1_030_000.0));
        assert!(ticks_win(1_000_000.0, 1_500_000.0));
        assert!(ticks_win(0.0, 50_000.0), "no schedstat at all");
    }

    fn spinning_group(script: &str) -> std::process::Child {
        use std::os::unix::process::CommandExt as _;
        std::process::Command::new("sh")
            .args(["-c", script])
            .process_group(0)
            .spawn()
            .unwrap()
    }

    fn kill_group(child: &mut std::process::Child) {
        let group = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
    }

    #[test]
    fn counts_a_busy_grandchild() {
        // A shell whose own child spins: its CPU is found through the process tree.
        let mut child = spinning_group("sh -c 'while :; do :; done' & wait");
        let mut t = CpuTracker::new(vec![("shell".into(), child.id())]);
        std::thread::sleep(std::time::Duration::from_millis(100));
        t.sample();
        std::thread::sleep(std::time::Duration::from_millis(300));
        t.sample();
        let busy = t.totals_us()["shell"];
        kill_group(&mut child);
        assert!(busy > 50_000.0, "the spinning grandchild used {busy} µs");
    }

    #[test]
    fn workers_forked_one_after_another_are_not_counted_twice() {
        // Regression for issue 19: each worker spins for 300 ms, is read while alive, and is
        // reaped by the shell. Its time then showed both as its own and in the shell's cutime.
        // One worker at a time runs, so the tree cannot have used more CPU than wall time.
        let mut child = spinning_group(
            "while :; do python3 -c 'import time\ne = time.time() + 0.3\nwhile time.time() < e: pass'; done",
        );
        let mut t = CpuTracker::new(vec![("shell".into(), child.id())]);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let start = std::time::Instant::now();
        t.sample();
        // At least 1.5 s, and until the workers have used 100 ms: on a loaded test machine
        // (the suite's other tests, a slow interpreter start) a worker gets a fraction of a CPU.
        loop {
            std::thread::sleep(std::time::Duration::from_millis(100));
            t.sample();
            let elapsed = start.elapsed();
            let enough = elapsed >= std::time::Duration::from_millis(1_500)
                && t.totals_us()["shell"] > 100_000.0;
            if enough || elapsed >= std::time::Duration::from_secs(20) {
                break;
            }
        }
        let wall_us = start.elapsed().as_secs_f64() * 1e6;
        let busy = t.totals_us()["shell"];
        kill_group(&mut child);
        // Two 10 ms ticks of resolution at each end of each worker's life (about six in 1.5 s).
        assert!(
            busy <= wall_us * 1.05 + 120_000.0,
            "{busy} µs of CPU in {wall_us} µs of wall time by one worker at a time"
        );
        assert!(busy > 100_000.0, "the workers were not counted: {busy} µs");
    }

    #[test]
    fn counts_short_lived_children_through_the_ticks() {
        // Children that each live for a few ms, never seen by a reading: their time is in the
        // shell's cutime/cstime once reaped.
        let mut child = spinning_group(
            "while :; do sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done'; done",
        );
        let mut t = CpuTracker::new(vec![("shell".into(), child.id())]);
        std::thread::sleep(std::time::Duration::from_millis(100));
        t.sample();
        std::thread::sleep(std::time::Duration::from_millis(800));
        t.sample();
        let busy = t.totals_us()["shell"];
        kill_group(&mut child);
        assert!(busy > 200_000.0, "short-lived children used {busy} µs");
    }
}
