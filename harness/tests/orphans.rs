//! No orphans (issue 19): a command target behind `sh` that forks a grandchild leaves nothing
//! running, whether the harness stops it or is itself killed with SIGKILL.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

/// `sh` (not exec'd: it stays the group's leader) starts a grandchild that sleeps, marked by
/// `MARK` in its argv, then serves HTTP in the foreground.
fn scenario(mark: &str, duration_s: u32) -> String {
    let command = format!(
        r#"["sh", "-c", "python3 -c 'import time; time.sleep(600)' {mark} & python3 -m http.server --bind 127.0.0.1 $PORT"]"#
    );
    common::command_scenario(&command, "/", duration_s, "", r#"X = "1""#)
}

/// Pids whose command line holds `mark`.
fn marked(mark: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(mark))
                && common::alive(*pid)
        })
        .collect()
}

fn wait_until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grandchild_of_a_command_target_is_stopped_with_it() {
    let mark = format!("otelbench-orphan-{:08x}", rand::random::<u32>());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orphans.toml");
    std::fs::write(&path, scenario(&mark, 4)).unwrap();
    let out = dir.path().join("out");
    common::run_cli(&path, &out).await;
    let results = harness::results::writer::read(&out.join("results.json")).unwrap();
    assert!(
        results.runs[0].load.requests > 0,
        "{:?}",
        results.runs[0].invalid_reason
    );
    // The grandchild is killed with its group as the run ends (before: it outlived the run).
    wait_until(
        "the target's grandchild outlived the run",
        Duration::from_secs(5),
        || marked(&mark).is_empty(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkilled_harness_leaves_no_target_behind() {
    let mark = format!("otelbench-orphan-{:08x}", rand::random::<u32>());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orphans.toml");
    std::fs::write(&path, scenario(&mark, 60)).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .args(["run", path.to_str().unwrap(), "--out"])
        .arg(dir.path().join("out"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        "the target's grandchild never started",
        Duration::from_secs(60),
        || !marked(&mark).is_empty(),
    );
    let web = common::children_of(child.id());
    assert!(!web.is_empty());
    child.kill().unwrap(); // SIGKILL: no handler runs, no cleanup in the harness.
    child.wait().unwrap();
    wait_until(
        "the target outlived a SIGKILLed harness",
        Duration::from_secs(10),
        || marked(&mark).is_empty() && web.iter().all(|p| !common::alive(*p)),
    );
}
