//! Ctrl-C mid-run: every target process stops, and results.json holds the finished runs.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_the_targets_and_keeps_finished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenario_with_binary("smoke.toml", dir.path(), "");
    let out = dir.path().join("out");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--duration",
            "6",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    // Wait until the second run has started and its targets are up.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut targets = Vec::new();
    while Instant::now() < deadline {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap_or_default();
        log.push(line.clone());
        if line.contains("run 2/2") {
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                targets = common::children_of(pid);
                if targets.len() >= 2 {
                    break;
                }
            }
            break;
        }
    }
    assert!(
        targets.len() >= 2,
        "the second run's target processes never appeared; log:\n{}",
        log.join("\n")
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let tail = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            log.push(line);
        }
        log
    });
    let exit = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("otelbench did not stop within 40 s of SIGINT")
        .unwrap();
    let log = tail.await.unwrap();
    assert_eq!(exit.code(), Some(1), "log:\n{}", log.join("\n"));
    for t in &targets {
        assert!(
            !common::alive(*t),
            "target process {t} outlived the harness; log:\n{}",
            log.join("\n")
        );
    }
    let results = harness::results::writer::read(&out.join("results.json")).unwrap();
    assert!(results.interrupted);
    let kept: Vec<_> = results.kept_runs().collect();
    assert_eq!(kept.len(), 1, "the finished first run is kept");
    assert_eq!(kept[0].variant, "off");
    assert!(!results.finished_at.is_empty());
}
