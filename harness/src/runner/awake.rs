//! `placement.keep_awake`: one thread per generator CPU that spins at idle priority, so that the
//! CPU never halts between two sends.
//!
//! Why: on a virtual machine, a vCPU with nothing to run halts, and the hypervisor may take tens
//! of µs to milliseconds to run it again when the next send's timer fires. Measured at
//! 1,000 req/s (telemetry off, 3 runs each): generator lag p99 478 to 1,472 µs without a spinner,
//! 69 and 195 µs with one (a third run, which the spinner did not cover to its end, 594 µs).
//! The spinner yields at every turn and runs under `SCHED_IDLE`, so every other thread on the
//! CPU, the generator's and the sink's included, takes the CPU from it at once; its CPU time is
//! left out of the generator's (see `cpu::AWAKE_THREAD`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;

use super::cpu::AWAKE_THREAD;
use crate::scenario::KeepAwake as Setting;

/// Whether the generator's CPUs are kept awake, and how the setting came to it (recorded as
/// `placement.keep_awake_setting`): `auto` is on when the CPU reports a hypervisor (a halted
/// vCPU wakes late) and the generator is pinned (there is a CPU to keep awake); off otherwise.
pub fn resolve(setting: Setting, pin: bool, hypervisor: bool) -> (bool, String) {
    match setting {
        Setting::On => (pin, "true".into()),
        Setting::Off => (false, "false".into()),
        Setting::Auto if !pin => (false, "auto: off (not pinned)".into()),
        Setting::Auto if hypervisor => (true, "auto: on (hypervisor)".into()),
        Setting::Auto => (false, "auto: off (no hypervisor)".into()),
    }
}

/// The spinning threads; they stop when this is dropped.
#[derive(Debug)]
pub struct KeepAwake {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl KeepAwake {
    /// Starts one spinner pinned to each CPU of `cpus`.
    pub fn start(cpus: &[usize]) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut awake = Self {
            stop: stop.clone(),
            threads: Vec::new(),
        };
        for &cpu in cpus {
            let stop = stop.clone();
            let thread = std::thread::Builder::new()
                .name(format!("{AWAKE_THREAD}-{cpu}"))
                .spawn(move || spin(cpu, &stop))
                .context("starting a keep-awake thread")?;
            awake.threads.push(thread);
        }
        Ok(awake)
    }
}

fn spin(cpu: usize, stop: &AtomicBool) {
    let mut set = CpuSet::new();
    if set.set(cpu).is_err() || sched_setaffinity(Pid::from_raw(0), &set).is_err() {
        log::warn!("keep_awake: cannot pin a thread to CPU {cpu}; CPU {cpu} may halt");
        return;
    }
    if let Err(e) = super::placement::idle_priority() {
        // At normal priority the spinner would take turns with the generator: better none.
        log::warn!("keep_awake: idle priority refused ({e}); CPU {cpu} may halt");
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        std::thread::yield_now();
    }
}

impl Drop for KeepAwake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The /proc entries of this process's keep-awake threads.
    fn spinners() -> Vec<std::path::PathBuf> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .map(|t| t.path())
            .filter(|t| {
                std::fs::read_to_string(t.join("comm")).is_ok_and(|c| c.starts_with(AWAKE_THREAD))
            })
            .collect()
    }

    #[test]
    fn auto_keeps_awake_only_a_pinned_generator_under_a_hypervisor() {
        assert_eq!(
            resolve(Setting::Auto, true, true),
            (true, "auto: on (hypervisor)".into())
        );
        assert_eq!(
            resolve(Setting::Auto, true, false),
            (false, "auto: off (no hypervisor)".into())
        );
        assert_eq!(
            resolve(Setting::Auto, false, true),
            (false, "auto: off (not pinned)".into())
        );
        assert_eq!(resolve(Setting::On, true, false), (true, "true".into()));
        assert_eq!(resolve(Setting::Off, true, true), (false, "false".into()));
    }

    #[test]
    fn spins_on_each_cpu_at_idle_priority_until_dropped() {
        let awake = KeepAwake::start(&[0]).unwrap();
        // The thread has started once it shows in /proc (hang guard only).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let tid = loop {
            if let Some(t) = spinners().pop() {
                break t;
            }
            assert!(std::time::Instant::now() < deadline, "no spinner started");
            std::thread::yield_now();
        };
        // Field 41 of stat is the policy: 5 is SCHED_IDLE (once the thread has set it).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let stat = std::fs::read_to_string(tid.join("stat")).unwrap_or_default();
            if crate::procfs::stat_field(&stat, 41) == Some("5") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not SCHED_IDLE: {stat}"
            );
            std::thread::yield_now();
        }
        drop(awake);
        assert!(spinners().is_empty(), "a spinner outlived its KeepAwake");
    }
}
