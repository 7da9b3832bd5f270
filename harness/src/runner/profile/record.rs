//! `perf record` over one run's window, on a thread of its own: started at the window's start
//! on every process of the target, stopped (SIGINT, so perf writes its data) at its end, and
//! stopped early when dropped (an interrupt, a failed run).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::perf::perf_failed;
use crate::runner::cpu;
use crate::scenario::profile::Profiler;

/// How long perf gets to write its data after SIGINT before it is killed.
const PERF_STOP_GRACE: Duration = Duration::from_secs(60);

/// One profiling run's request for a recording, and what became of it.
pub(in crate::runner) struct Slot {
    spec: Profiler,
    data: PathBuf,
    /// perf's own CPU over the window (µs), or why nothing usable was recorded.
    outcome: Mutex<Option<Result<f64, String>>>,
}

impl Slot {
    /// A recording of `spec` into `data`, not yet started.
    pub(super) fn new(spec: Profiler, data: PathBuf) -> Self {
        Self {
            spec,
            data,
            outcome: Mutex::new(None),
        }
    }

    /// Starts sampling `roots` and their descendants from `from` to `to`.
    pub(in crate::runner) fn record(
        &self,
        roots: Vec<(String, u32)>,
        from: Instant,
        to: Instant,
    ) -> Recording {
        Recording::start(self.spec, self.data.clone(), roots, from, to)
    }

    /// Keeps the recording's end.
    pub(in crate::runner) fn done(&self, outcome: Result<f64, String>) {
        if let Ok(mut o) = self.outcome.lock() {
            *o = Some(outcome);
        }
    }

    pub(super) fn take(&self) -> Result<f64, String> {
        self.outcome
            .lock()
            .ok()
            .and_then(|mut o| o.take())
            .unwrap_or_else(
                || Err("the run ended before its window, so nothing was sampled".into()),
            )
    }
}

/// A `perf record` over one window, on its own thread. Dropping it stops perf.
pub(in crate::runner) struct Recording {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<f64, String>>>,
}

impl Recording {
    fn start(
        spec: Profiler,
        data: PathBuf,
        roots: Vec<(String, u32)>,
        from: Instant,
        to: Instant,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("otelbench-perf".into())
            .spawn(move || record(spec, &data, &roots, from, to, &flag))
            .ok();
        Self { stop, thread }
    }

    /// Waits for perf to finish writing; returns perf's own CPU over the window (µs), or why
    /// nothing usable was recorded.
    pub(in crate::runner) fn finish(mut self) -> Result<f64, String> {
        self.thread
            .take()
            .map_or(Err("the profiler thread did not start".into()), |t| {
                t.join()
                    .unwrap_or(Err("the profiler thread panicked".into()))
            })
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sleeps until `until` or until `stop` is set; false when stopped.
fn sleep_until(until: Instant, stop: &AtomicBool) -> bool {
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
    }
    true
}

fn record(
    spec: Profiler,
    data: &Path,
    roots: &[(String, u32)],
    from: Instant,
    to: Instant,
    stop: &AtomicBool,
) -> Result<f64, String> {
    if !sleep_until(from, stop) {
        return Err("stopped before the window".into());
    }
    // Every process of the target as it stands at the window's start (a pre-forking server's
    // workers included); perf follows the threads of each.
    let pids: Vec<String> = cpu::process_trees(roots)
        .into_iter()
        .map(|(_, pid)| pid.to_string())
        .collect();
    if pids.is_empty() {
        return Err("the target had no processes to sample".into());
    }
    let log = data.with_extension("log");
    let stderr = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut perf = Command::new("perf")
        .args(["record", "-q", "-e", "cpu-clock", "-F"])
        .arg(spec.frequency_hz.to_string())
        .arg("--call-graph")
        .arg(spec.call_graph.perf_arg())
        .arg("-p")
        .arg(pids.join(","))
        .arg("-o")
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("perf could not be started: {e}"))?;
    let stopped = !sleep_until(to, stop);
    // perf's own CPU: what sampling costs the machine beside what it costs the target.
    let perf_us = crate::procfs::cpu_us(perf.id()).unwrap_or(0.0);
    let early = perf.try_wait().ok().flatten();
    let status = match early {
        Some(status) => Some(status),
        None => stop_perf(&mut perf),
    };
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        _ if stopped => Err("interrupted".into()),
        Some(s) if early.is_some() && !s.success() => Err(perf_failed(&said)),
        None => Err("perf did not stop; it was killed".into()),
        Some(_) if !data.is_file() => Err(perf_failed(&said)),
        Some(_) => Ok(perf_us),
    }
}

/// SIGINT (perf then writes its data), then SIGKILL after a grace period.
fn stop_perf(perf: &mut Child) -> Option<std::process::ExitStatus> {
    if let Ok(pid) = i32::try_from(perf.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
    let deadline = Instant::now() + PERF_STOP_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = perf.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = perf.kill();
    let _ = perf.wait();
    None
}
