//! CPU placement: the harness pins its own threads; target processes are started through
//! `taskset`, so no unsafe code is needed in a pre-exec hook.

use anyhow::Context as _;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;

use crate::procfs;

/// Checks that every CPU in `cpus` exists here.
pub fn check(field: &str, cpus: &[usize]) -> anyhow::Result<()> {
    let online = procfs::online_cpus();
    if let Some(bad) = cpus.iter().find(|c| **c >= online) {
        anyhow::bail!(
            "placement.{field} names CPU {bad}, but this machine has CPUs 0..{}; fix: list existing CPUs or set placement.pin = false",
            online - 1
        );
    }
    Ok(())
}

/// Pins every thread of this process (and so the threads it starts later) to `cpus`.
pub fn pin_self(cpus: &[usize]) -> anyhow::Result<()> {
    let mut set = CpuSet::new();
    for cpu in cpus {
        set.set(*cpu)
            .with_context(|| format!("CPU {cpu} is out of range"))?;
    }
    let tasks = std::fs::read_dir("/proc/self/task").context("listing /proc/self/task")?;
    for task in tasks.flatten() {
        if let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<i32>().ok())
        {
            // A thread may exit meanwhile; that is fine.
            let _ = sched_setaffinity(Pid::from_raw(tid), &set);
        }
    }
    Ok(())
}

/// Puts the calling thread in `SCHED_IDLE`: it then runs only when no other thread of the CPU
/// wants to. Refused where the system forbids it; the caller decides what that costs.
pub fn idle_priority() -> Result<(), String> {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy, thread_native_id,
    };
    thread_priority::set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    )
    .map_err(|e| format!("{e:?}"))
}

/// The `taskset -c LIST` prefix for a target command.
pub fn taskset_prefix(cpus: &[usize]) -> Vec<String> {
    let list = cpus
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    vec!["taskset".into(), "-c".into(), list]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lists_cpus() {
        assert_eq!(taskset_prefix(&[1, 3]), ["taskset", "-c", "1,3"]);
    }

    #[test]
    fn a_missing_cpu_is_named() {
        let err = check("target_cpus", &[procfs::online_cpus() + 5])
            .unwrap_err()
            .to_string();
        assert!(err.contains("placement.target_cpus"), "{err}");
    }
}
