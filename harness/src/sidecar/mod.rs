//! `otelbench sample`: the target-side sidecar for a service the harness does not start. It
//! reads the CPU and RSS of the given process trees from /proc every interval, on the
//! target's machine, and writes them as they are taken (see `file`); `otelbench merge
//! --samples` joins them to the shards' measured windows.

pub mod file;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use crate::procfs;
use crate::runner::cpu::CpuTracker;
use crate::runner::interrupt;

/// What to sample and where to write it.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Process trees: name -> root pid.
    pub processes: BTreeMap<String, u32>,
    /// Between readings.
    pub interval: Duration,
    /// Stop after this long (default: on SIGINT/SIGTERM, or when every process has exited).
    pub duration: Option<Duration>,
}

/// `[NAME=]PID`: the name defaults to the process's command name.
pub fn parse_pid(spec: &str) -> Result<(String, u32), String> {
    let (name, pid) = match spec.split_once('=') {
        Some((n, p)) => (Some(n.trim().to_string()), p.trim()),
        None => (None, spec.trim()),
    };
    let pid: u32 = pid
        .parse()
        .map_err(|_| format!("--pid {spec}: {pid:?} is not a process id; fix: give [NAME=]PID"))?;
    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Err(format!(
            "--pid {spec}: no process {pid} is visible here; fix: run the sampler on the target's machine (in Kubernetes: a container in the target's pod with shareProcessNamespace: true)"
        ));
    }
    let name = name.unwrap_or_else(|| procfs::comm(pid).unwrap_or_else(|| format!("pid{pid}")));
    Ok((name, pid))
}

/// `[NAME=]PATTERN`: the oldest process (not this one) whose command line contains PATTERN.
pub fn parse_pgrep(spec: &str) -> Result<(String, u32), String> {
    let (name, pattern) = match spec.split_once('=') {
        Some((n, p)) => (Some(n.trim().to_string()), p),
        None => (None, spec),
    };
    let me = std::process::id();
    let mut found: Vec<(u64, u32)> = procfs::pids()
        .into_iter()
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let line: Vec<u8> = c.iter().map(|b| if *b == 0 { b' ' } else { *b }).collect();
                String::from_utf8_lossy(&line).contains(pattern)
            })
        })
        .filter_map(|pid| Some((start_ticks(pid)?, pid)))
        .collect();
    found.sort_unstable();
    let (_, pid) = found.first().copied().ok_or_else(|| {
        format!("--pgrep {spec}: no process's command line contains {pattern:?}; fix: check `ps -eo pid,args` on the target's machine")
    })?;
    let name = name.unwrap_or_else(|| procfs::comm(pid).unwrap_or_else(|| format!("pid{pid}")));
    Ok((name, pid))
}

/// The process's start time, in clock ticks after boot (field 22 of /proc/PID/stat).
fn start_ticks(pid: u32) -> Option<u64> {
    procfs::stat_number(&procfs::stat(pid)?, 22)
}

fn unix_us(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Samples until stopped, writing each reading to `out` as it is taken. Returns the readings
/// written.
pub async fn record(options: &SampleOptions, out: &mut dyn std::io::Write) -> anyhow::Result<u64> {
    let header = file::Header {
        otelbench_samples: 1,
        hostname: crate::results::Environment::detect().hostname,
        interval_ms: u64::try_from(options.interval.as_millis()).unwrap_or(u64::MAX),
        processes: options.processes.clone(),
    };
    writeln!(out, "{}", serde_json::to_string(&header)?)?;
    out.flush()?;
    let roots: Vec<(String, u32)> = options
        .processes
        .iter()
        .map(|(n, p)| (n.clone(), *p))
        .collect();
    let mut tracker = CpuTracker::new(roots);
    let mut cancel = interrupt::install();
    let until = options.duration.map(|d| tokio::time::Instant::now() + d);
    let mut written = 0;
    let mut next = tokio::time::Instant::now();
    loop {
        tracker.sample();
        let t_us = unix_us(SystemTime::now());
        let mut rss: BTreeMap<String, f64> = BTreeMap::new();
        for (name, pid) in tracker.processes() {
            if let Some(mb) = procfs::rss_mb(*pid) {
                *rss.entry(name.clone()).or_default() += mb;
            }
        }
        let alive = !rss.is_empty();
        let sample = file::Sample {
            t_us,
            cpu_us: tracker.totals_us(),
            rss_mb: rss,
        };
        writeln!(out, "{}", serde_json::to_string(&sample)?).context("writing a reading")?;
        out.flush().context("writing a reading")?;
        written += 1;
        if !alive {
            eprintln!("otelbench sample: every sampled process has exited");
            break;
        }
        next += options.interval;
        if until.is_some_and(|u| next > u) {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = interrupt::interrupted(&mut cancel) => break,
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_process_by_pid_and_a_child_by_pattern() {
        let me = std::process::id();
        let (name, pid) = parse_pid(&format!("{me}")).unwrap();
        assert_eq!(pid, me);
        assert!(!name.is_empty());
        assert_eq!(parse_pid(&format!("web={me}")).unwrap().0, "web");
        assert!(parse_pid("4294967295").unwrap_err().contains("fix:"));
        let mut child = std::process::Command::new("sleep")
            .arg("31.4159")
            .spawn()
            .unwrap();
        // The child may not have exec'ed yet when spawn returns.
        let cmdline = || std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
        for _ in 0..200 {
            if cmdline().starts_with(b"sleep") {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let found = parse_pgrep("s=sleep 31.4159").unwrap();
        assert_eq!(found, ("s".to_string(), child.id()));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(parse_pgrep("no-such-process-anywhere-xyz").is_err());
    }

    #[tokio::test]
    async fn records_a_header_and_readings_that_parse_back() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let options = SampleOptions {
            processes: BTreeMap::from([("spin".to_string(), child.id())]),
            interval: Duration::from_millis(50),
            duration: Some(Duration::from_millis(500)),
        };
        let mut out = Vec::new();
        let n = record(&options, &mut out).await.unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let parsed = file::parse(&String::from_utf8(out).unwrap()).unwrap();
        assert_eq!(parsed.samples.len() as u64, n);
        assert!(n >= 5, "{n}");
        let last = parsed.samples.last().unwrap();
        // A spinning process used CPU, and its RSS was read.
        assert!(last.cpu_us["spin"] > 50_000.0, "{last:?}");
        assert!(last.rss_mb["spin"] > 0.0, "{last:?}");
    }
}
