//! Reading Linux's /proc: the one home of the parsing the runner, the sampler, the sidecar and
//! the environment record share (a process's stat fields, its RSS, its threads and children,
//! the processes and CPUs there are).

use std::ops::RangeInclusive;

/// Clock ticks per second of /proc/PID/stat's times (Linux's USER_HZ).
pub const TICKS_PER_SECOND: f64 = 100.0;

/// `/proc/PID/stat` of `pid`; `None` when it is gone.
pub fn stat(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()
}

/// Field `n` of a `/proc/PID/stat` line, numbered as in proc(5) (3: state, 4: ppid, 5: pgrp,
/// 14: utime, 22: starttime, 41: policy); the fields after the command name only.
pub fn stat_field(stat: &str, n: usize) -> Option<&str> {
    // The command name (field 2) may contain spaces and parentheses: count after the last ')'.
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(n.checked_sub(3)?)
}

/// Field `n` of a `/proc/PID/stat` line as a number.
pub fn stat_number(stat: &str, n: usize) -> Option<u64> {
    stat_field(stat, n)?.parse().ok()
}

/// The sum of fields `fields` of a `/proc/PID/stat` line (clock ticks, for the times);
/// `None` when one is missing or not a number.
pub fn stat_sum(stat: &str, fields: RangeInclusive<usize>) -> Option<f64> {
    fields
        .map(|n| stat_field(stat, n)?.parse::<f64>().ok())
        .sum()
}

/// Total CPU of `pid` (itself and its reaped children: utime + stime + cutime + cstime), µs,
/// counted in clock ticks; `None` when it is gone.
pub fn cpu_us(pid: u32) -> Option<f64> {
    stat_sum(&stat(pid)?, 14..=17).map(ticks_to_us)
}

/// CPU of the children `pid` has reaped (cutime + cstime: their whole lives), µs, counted in
/// clock ticks.
pub fn reaped_cpu_us(pid: u32) -> Option<f64> {
    stat_sum(&stat(pid)?, 16..=17).map(ticks_to_us)
}

fn ticks_to_us(ticks: f64) -> f64 {
    ticks * 1e6 / TICKS_PER_SECOND
}

/// RSS of `pid`, MB, from `VmRSS` in /proc/PID/status (in kB whatever the page size; statm
/// counts pages, whose size is not 4096 bytes everywhere).
pub fn rss_mb(pid: u32) -> Option<f64> {
    vm_rss_mb(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// `VmRSS` of a /proc/PID/status text, MB.
pub fn vm_rss_mb(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let kb: f64 = parts.next()?.parse().ok()?;
    (parts.next() == Some("kB")).then_some(kb * 1024.0 / 1e6)
}

/// The numeric entries of a /proc directory (`/proc`: processes; `/proc/PID/task`: threads);
/// empty when it cannot be read.
pub fn ids_in(dir: &str) -> Vec<u32> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Every process visible here.
pub fn pids() -> Vec<u32> {
    ids_in("/proc")
}

/// The threads of `pid`.
pub fn threads_of(pid: u32) -> Vec<u32> {
    ids_in(&format!("/proc/{pid}/task"))
}

/// The command name of `pid` (`/proc/PID/comm`, trimmed); `None` when gone or empty.
pub fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
}

/// CPUs this machine has online (not this process's affinity mask, which pinning narrows).
pub fn online_cpus() -> usize {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|t| t.lines().filter(|l| l.starts_with("processor")).count())
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_counted_after_the_command_name() {
        let line =
            "1234 (my (odd) app) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 7 3 20 0 4 0 100 0 0";
        assert_eq!(
            stat_sum(line, 14..=17),
            Some(310.0),
            "utime + stime + cutime + cstime"
        );
        assert_eq!(stat_field(line, 3), Some("S"), "state");
        assert_eq!(stat_number(line, 4), Some(1), "ppid");
        assert_eq!(stat_number(line, 5), Some(1234), "pgrp");
        assert_eq!(stat_number(line, 22), Some(100), "starttime");
        assert_eq!(stat_field(line, 2), None, "the name is not counted");
        assert_eq!(stat_field("no parenthesis", 3), None);
    }

    #[test]
    fn parses_the_reaped_children_fields() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 11 5 20 0 1 0 9 0";
        assert_eq!(stat_sum(stat, 16..=17), Some(16.0));
        assert_eq!(stat_sum("42 (x) S 1", 16..=17), None);
    }

    #[test]
    fn rss_is_read_in_kilobytes_not_assumed_pages() {
        // Regression for issue 19: statm pages were multiplied by a hard-coded 4096.
        let status = "Name:\tapp\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t4\n";
        let mb = vm_rss_mb(status).unwrap();
        assert!((mb - 2.097_152).abs() < 1e-9, "{mb}");
        assert_eq!(
            vm_rss_mb("Name:\tkthread\n"),
            None,
            "kernel threads have none"
        );
        let own = rss_mb(std::process::id()).unwrap();
        assert!(own > 1.0, "{own}");
    }

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(cpu_us(pid).is_some());
        assert!(rss_mb(pid).unwrap() > 1.0);
        assert!(pids().contains(&pid));
        assert!(
            threads_of(pid).contains(&pid),
            "the main thread's id is the pid"
        );
        assert!(online_cpus() >= 1);
    }
}
