//! The sampler: CPU and RSS of the target processes, and the harness's own CPU, over the
//! measured window, read from /proc on a thread of its own.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::cpu;
use crate::procfs;

/// What the sampler measured over the window.
#[derive(Debug, Default)]
pub struct WindowSamples {
    /// Seconds from the first to the last reading.
    pub wall_s: f64,
    /// CPU µs per target process tree (nanosecond readings, see `cpu`).
    pub target_us: BTreeMap<String, f64>,
    /// CPU µs of the harness's load generator (its threads other than the sink's and the
    /// sampler's own).
    pub generator_us: f64,
    /// CPU µs of the embedded sink's threads.
    pub sink_us: f64,
    /// CPU µs of every thread of the harness (generator, sink and sampler).
    pub harness_us: f64,
    /// RSS samples per target process tree (the process and its descendants), MB.
    pub rss_mb: BTreeMap<String, Vec<f64>>,
    /// Each tree's lifetime CPU at the window's last reading, µs (see `after_window`).
    pub lifetime_at_end_us: BTreeMap<String, f64>,
}

/// Reading interval.
const INTERVAL: Duration = Duration::from_millis(100);

/// Reads CPU and RSS on a thread of its own (named [`cpu::SAMPLER_THREAD`], so its work is
/// not counted as the generator's), from the window's start to its end, exactly at both edges
/// and every 100 ms between.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<WindowSamples>>,
}

impl Sampler {
    /// Starts sampling `processes` (name, pid) over `from..to`.
    pub fn start(
        processes: Vec<(String, u32)>,
        from: Instant,
        to: Instant,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name(cpu::SAMPLER_THREAD.into())
            .spawn(move || sample_window(&processes, from, to, &stopped))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops (at once, if the window has not ended) and returns the readings.
    pub fn finish(mut self) -> WindowSamples {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Sleeps until `until` in short steps; false when stopped first.
fn sleep_until(until: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

fn sample_window(
    processes: &[(String, u32)],
    from: Instant,
    to: Instant,
    stop: &AtomicBool,
) -> WindowSamples {
    let mut out = WindowSamples::default();
    if !sleep_until(from, stop) {
        return out;
    }
    let mut target = cpu::CpuTracker::new(processes.to_vec());
    let mut own = cpu::SelfCpu::default();
    let first = Instant::now();
    let mut last;
    loop {
        target.sample();
        own.sample();
        last = Instant::now();
        // RSS of each whole tree, like its CPU: a pre-fork server's workers are its memory too
        // (pages they share are counted once per process: an upper bound).
        let mut rss: BTreeMap<String, f64> = BTreeMap::new();
        for (name, pid) in target.processes() {
            if let Some(mb) = procfs::rss_mb(*pid) {
                *rss.entry(name.clone()).or_default() += mb;
            }
        }
        for (name, mb) in rss {
            out.rss_mb.entry(name).or_default().push(mb);
        }
        if last >= to {
            break;
        }
        let next = (last + INTERVAL).min(to);
        if !sleep_until(next, stop) {
            // Stopped early (the target died, or an interrupt): one last reading.
            target.sample();
            own.sample();
            last = Instant::now();
            break;
        }
    }
    out.wall_s = (last - first).as_secs_f64();
    out.lifetime_at_end_us = super::after_window::lifetime_so_far_us(&target.walk());
    out.target_us = target.totals_us();
    (out.generator_us, out.sink_us, out.harness_us) = own.totals_us();
    out
}

/// Mean, peak and growth (last minus first) of RSS samples.
pub fn summarize(samples: &[f64]) -> crate::results::Memory {
    if samples.is_empty() {
        return crate::results::Memory::default();
    }
    crate::results::Memory {
        mean: samples.iter().sum::<f64>() / samples.len() as f64,
        peak: samples.iter().copied().fold(f64::MIN, f64::max),
        growth: samples[samples.len() - 1] - samples[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_of_a_process_tree_includes_its_children() {
        // Regression for issue 19: RSS covered the root only while CPU covered descendants. A
        // shell whose child holds 60 MB.
        use std::os::unix::process::CommandExt as _;
        let mut shell = std::process::Command::new("sh")
            .args([
                "-c",
                "python3 -c 'import time; x = bytearray(60_000_000); time.sleep(30)' & wait",
            ])
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = shell.id();
        // Wait (hang guard only) until the child holds its memory.
        let deadline = Instant::now() + Duration::from_secs(20);
        while cpu::CpuTracker::new(vec![("shell".into(), pid)]).tree_rss_mb() < 50.0 {
            assert!(Instant::now() < deadline, "the child never allocated");
            std::thread::sleep(Duration::from_millis(50));
        }
        let now = Instant::now();
        let window = Sampler::start(
            vec![("shell".into(), pid)],
            now,
            now + Duration::from_millis(300),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        let samples = window.finish();
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = shell.wait();
        let rss = summarize(&samples.rss_mb["shell"]);
        assert!(rss.mean > 55.0, "{rss:?}");
    }

    #[test]
    fn summary_of_samples() {
        let m = summarize(&[10.0, 14.0, 12.0]);
        assert!((m.mean - 12.0).abs() < 1e-9);
        assert!((m.peak - 14.0).abs() < 1e-9);
        assert!((m.growth - 2.0).abs() < 1e-9);
    }
}
