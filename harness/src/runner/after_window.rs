//! CPU a target uses after the measured window, until it has exited: the work the window's
//! requests left behind. Exporters send their last batches after the window (the batch span
//! processor waits up to 5 s, the periodic metric reader 60 s by default), and on SIGTERM the
//! SDK flushes what it holds and exports metrics one last time. None of it falls in the window.
//!
//! Two readings bracket it, both exact to the microsecond:
//! - at the window's end, each tree's lifetime CPU so far: every process's own CPU clock
//!   (`clock_getcpuclockid`, exited threads included) plus what it has reaped
//!   (`cutime + cstime`, clock ticks: 0 unless a process of the tree reaped a child before);
//! - once the root has been reaped, its whole life (`getrusage(RUSAGE_CHILDREN)` before and after
//!   the harness reaps it: self and every descendant reaped inside the tree).
//!
//! The difference is what the tree used after the window. A descendant that leaves the tree (it
//! is orphaned, then reaped by init) takes its time with it: when the difference comes out
//! negative beyond the readings' resolution it is not trusted ([`after_window_us`]).

use std::collections::BTreeMap;

use nix::sys::resource::{UsageWho, getrusage};
use nix::time::{clock_getcpuclockid, clock_gettime};
use nix::unistd::Pid;

/// Lifetime CPU of each tree so far, µs: `trees` lists every process with its tree's name.
pub fn lifetime_so_far_us(trees: &[(String, u32)]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (name, pid) in trees {
        let own = process_clock_us(*pid);
        let reaped = crate::procfs::reaped_cpu_us(*pid);
        if let (Some(own), Some(reaped)) = (own, reaped) {
            *out.entry(name.clone()).or_default() += own + reaped;
        }
    }
    out
}

/// A process's own CPU, µs (every thread, exited ones too; not its children).
fn process_clock_us(pid: u32) -> Option<f64> {
    let clock = clock_getcpuclockid(Pid::from_raw(i32::try_from(pid).ok()?)).ok()?;
    let t = clock_gettime(clock).ok()?;
    Some(t.tv_sec() as f64 * 1e6 + t.tv_nsec() as f64 / 1e3)
}

/// CPU of every child this process has reaped so far, µs. Read before and after reaping one
/// target process, the difference is that process's whole life (nothing else is reaped then:
/// the harness stops its targets one at a time).
pub fn reaped_children_us() -> Option<f64> {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
    let us = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1e6 + t.tv_usec() as f64;
    Some(us(usage.user_time()) + us(usage.system_time()))
}

/// How far below zero the difference may fall and still be a reading error: the tick-counted
/// part of the first reading (two 10 ms ticks) and the microsecond rounding of the rest.
const TOLERANCE_US: f64 = 20_000.0;

/// CPU used after the window, µs, from the tree's lifetime CPU at the window's end and its whole
/// life once reaped; `None` when the second is missing or the difference is negative beyond the
/// readings' resolution (a descendant left the tree and took its time with it).
pub fn after_window_us(at_end: Option<f64>, whole_life: Option<f64>) -> Option<f64> {
    let d = whole_life? - at_end?;
    (d > -TOLERANCE_US).then_some(d.max(0.0))
}

/// The run's work after the window beyond the same processes' shutdown at rest, µs: `None`
/// unless both were read for every process of the run. Not clamped at zero: a noisy reading
/// below the control must count as such, or the median would lean upwards.
pub fn beyond_idle_us(run: &BTreeMap<String, f64>, idle: &BTreeMap<String, f64>) -> Option<f64> {
    if run.is_empty() {
        return None;
    }
    run.iter()
        .map(|(name, us)| idle.get(name).map(|i| us - i))
        .sum()
}

/// Each process's median over `repeats` (a process missing from one repeat is left out).
pub fn median_per_process(repeats: &[BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let Some(first) = repeats.first() else {
        return BTreeMap::new();
    };
    first
        .keys()
        .filter_map(|name| {
            let v: Vec<f64> = repeats
                .iter()
                .map(|r| r.get(name).copied())
                .collect::<Option<_>>()?;
            Some((name.clone(), crate::stats::median::median(&v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_beyond_the_shutdown_at_rest() {
        let run: BTreeMap<String, f64> = [("web".into(), 50.0), ("worker".into(), 20.0)].into();
        let idle: BTreeMap<String, f64> = [("web".into(), 30.0), ("worker".into(), 25.0)].into();
        assert_eq!(beyond_idle_us(&run, &idle), Some(15.0));
        let web_only: BTreeMap<String, f64> = [("web".into(), 30.0)].into();
        assert_eq!(
            beyond_idle_us(&run, &web_only),
            None,
            "every process or none"
        );
        assert_eq!(beyond_idle_us(&BTreeMap::new(), &idle), None);
    }

    #[test]
    fn the_control_is_the_median_of_its_repeats() {
        let r = |web: f64, worker: f64| -> BTreeMap<String, f64> {
            [("web".into(), web), ("worker".into(), worker)].into()
        };
        let m = median_per_process(&[r(1.9, 6.5), r(2.6, 29.0), r(2.0, 6.7)]);
        assert_eq!(m, r(2.0, 6.7), "one slow reading does not move it");
        assert_eq!(median_per_process(&[r(1.0, 2.0), r(3.0, 4.0)]), r(2.0, 3.0));
        assert!(median_per_process(&[]).is_empty());
        let web_only: BTreeMap<String, f64> = [("web".into(), 1.0)].into();
        assert_eq!(median_per_process(&[r(1.0, 2.0), web_only]).len(), 1);
    }

    #[test]
    fn a_negative_difference_is_trusted_only_within_the_resolution() {
        assert_eq!(after_window_us(Some(1_000.0), Some(6_000.0)), Some(5_000.0));
        assert_eq!(after_window_us(Some(10_000.0), Some(5_000.0)), Some(0.0));
        assert_eq!(after_window_us(Some(100_000.0), Some(5_000.0)), None);
        assert_eq!(after_window_us(None, Some(5_000.0)), None);
        assert_eq!(after_window_us(Some(5_000.0), None), None);
    }

    #[test]
    fn the_work_a_process_does_on_sigterm_is_counted() {
        // It spins for 300 ms of CPU when told to stop, as an SDK's shutdown flush works after
        // the window. Concurrent tests that reap children can only add to the figure.
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import signal, time, sys\n\
                 def stop(*_):\n    e = time.process_time() + 0.3\n    \
                 while time.process_time() < e: pass\n    sys.exit(0)\n\
                 signal.signal(signal.SIGTERM, stop)\nprint('ready', flush=True)\n\
                 while True: time.sleep(1)",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let pid = child.id();
        let at_end = lifetime_so_far_us(&[("web".into(), pid)])
            .get("web")
            .copied();
        assert!(at_end.is_some_and(|us| us > 0.0), "{at_end:?}");
        let before = reaped_children_us();
        nix::sys::signal::kill(Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM)
            .unwrap();
        assert!(child.wait().unwrap().success());
        let whole = reaped_children_us().zip(before).map(|(a, b)| a - b);
        let after = after_window_us(at_end, whole).unwrap();
        assert!(after >= 280_000.0, "the shutdown work was {after} µs");
    }
}
