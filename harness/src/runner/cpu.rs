//! CPU time of target processes over the measured window, to the nanosecond.
//!
//! `/proc/PID/stat` counts whole 10 ms clock ticks: over a 10 s window at a tenth of a core that
//! is ±2% per reading, as large as the effects being measured. So each thread's
//! `/proc/PID/task/TID/schedstat` (nanoseconds on the CPU) is read instead, for every thread of
//! every target process and of its descendants (e.g. a pre-fork server's workers). A thread
//! counts from its first reading in the window (0 when it started inside the window) to its last
//! reading; a thread that exits between two readings loses only what it ran since the last one,
//! and readings are taken every 100 ms.

use std::collections::{BTreeMap, HashMap};

/// Per-thread readings of a set of process trees.
#[derive(Debug, Default)]
pub struct CpuTracker {
    /// (process name, pid) of each tree's root.
    roots: Vec<(String, u32)>,
    /// tid -> (tree name, ns at the first reading, ns at the latest reading).
    threads: HashMap<u32, (String, u64, u64)>,
    started: bool,
    /// The processes of the trees, found again every [`TREE_REFRESH`] samples (a scan of /proc
    /// costs more than reading the threads).
    tree: Vec<(String, u32)>,
    samples: u32,
}

/// Samples between two scans for new descendant processes.
const TREE_REFRESH: u32 = 10;

/// Nanoseconds `tid` has run, from its schedstat line.
pub fn parse_schedstat(line: &str) -> Option<u64> {
    line.split_whitespace().next()?.parse().ok()
}

fn thread_ns(pid: u32, tid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat")).ok()?;
    parse_schedstat(&text)
}

fn threads_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The parent pid from a `/proc/PID/stat` line.
pub fn parse_ppid(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// `roots` and all their descendants, each labelled with its root's name.
fn process_trees(roots: &[(String, u32)]) -> Vec<(String, u32)> {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parse_ppid(&s))
            {
                parent.insert(pid, ppid);
            }
        }
    }
    let root_of = |mut pid: u32| -> Option<&String> {
        for _ in 0..64 {
            if let Some((name, _)) = roots.iter().find(|(_, r)| *r == pid) {
                return Some(name);
            }
            pid = *parent.get(&pid)?;
        }
        None
    };
    parent
        .keys()
        .filter_map(|&pid| Some((root_of(pid)?.clone(), pid)))
        .collect()
}

impl CpuTracker {
    /// A tracker of the trees rooted at `roots` (name, pid); nothing is read until `sample`.
    pub fn new(roots: Vec<(String, u32)>) -> Self {
        Self {
            roots,
            ..Self::default()
        }
    }

    /// Reads every thread. The first call sets each thread's starting point; threads first seen
    /// later start from 0 (they began inside the window).
    pub fn sample(&mut self) {
        if self.samples.is_multiple_of(TREE_REFRESH) {
            self.tree = process_trees(&self.roots);
        }
        self.samples += 1;
        for (name, pid) in &self.tree {
            let (name, pid) = (name, *pid);
            for tid in threads_of(pid) {
                let Some(ns) = thread_ns(pid, tid) else {
                    continue;
                };
                let first = if self.started { 0 } else { ns };
                self.threads
                    .entry(tid)
                    .and_modify(|t| t.2 = t.2.max(ns))
                    .or_insert_with(|| (name.clone(), first, ns));
            }
        }
        self.started = true;
    }

    /// CPU µs per tree since the first sample.
    pub fn totals_us(&self) -> BTreeMap<String, f64> {
        let mut out: BTreeMap<String, f64> =
            self.roots.iter().map(|(n, _)| (n.clone(), 0.0)).collect();
        for (name, first, last) in self.threads.values() {
            *out.entry(name.clone()).or_default() += last.saturating_sub(*first) as f64 / 1e3;
        }
        out
    }
}

/// The harness's own CPU, split by thread name into the embedded sink's threads and the rest
/// (the load generator, its metronome and the run loop).
#[derive(Debug, Default)]
pub struct SelfCpu {
    /// tid -> (is a sink thread, ns at the first reading, ns at the latest reading).
    threads: HashMap<u32, (bool, u64, u64)>,
    started: bool,
}

impl SelfCpu {
    /// Reads every thread of this process; see [`CpuTracker::sample`].
    pub fn sample(&mut self) {
        let pid = std::process::id();
        for tid in threads_of(pid) {
            let Some(ns) = thread_ns(pid, tid) else {
                continue;
            };
            let first = if self.started { 0 } else { ns };
            self.threads
                .entry(tid)
                .and_modify(|t| t.2 = t.2.max(ns))
                .or_insert_with(|| {
                    let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
                        .unwrap_or_default();
                    // Thread names are cut to 15 bytes.
                    let sink = comm.trim_end().starts_with(&crate::sink::THREAD_NAME[..14]);
                    (sink, first, ns)
                });
        }
        self.started = true;
    }

    /// (generator µs, sink µs) since the first sample.
    pub fn totals_us(&self) -> (f64, f64) {
        self.threads
            .values()
            .fold((0.0, 0.0), |(g, s), (sink, first, last)| {
                let us = last.saturating_sub(*first) as f64 / 1e3;
                if *sink { (g, s + us) } else { (g + us, s) }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_lines() {
        assert_eq!(
            parse_schedstat("154216327 91971814 450\n"),
            Some(154_216_327)
        );
        assert_eq!(parse_schedstat(""), None);
        let stat = "1234 (my (odd) app) S 77 1234 1234 0 -1";
        assert_eq!(parse_ppid(stat), Some(77));
    }

    #[test]
    fn counts_a_busy_grandchild() {
        use std::os::unix::process::CommandExt as _;
        // A shell whose own child spins: its CPU is found through the process tree.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sh -c 'while :; do :; done' & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let mut t = CpuTracker::new(vec![("shell".into(), child.id())]);
        std::thread::sleep(std::time::Duration::from_millis(100));
        t.sample();
        std::thread::sleep(std::time::Duration::from_millis(300));
        t.sample();
        let busy = t.totals_us()["shell"];
        let group = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        assert!(busy > 50_000.0, "the spinning grandchild used {busy} µs");
    }
}
