//! `otelbench compare` on real results: two runs of `scenarios/ci.toml` made on the development
//! machine with the same code (`tests/data/ci-a.json`, `ci-b.json`). The gate must pass them,
//! fail the same data with one variant's CPU per request made 20% worse, and refuse mismatched
//! files with exit code 2.

use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn compare(base: &Path, new: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .arg("compare")
        .arg(base)
        .arg(new)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("ci-b.json")).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    path
}

#[test]
fn two_runs_of_the_same_code_pass() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("summary.md");
    let (code, stdout, stderr) = compare(
        &data("ci-a.json"),
        &data("ci-b.json"),
        &["--markdown", md.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("PASS"), "{stdout}");
    let summary = std::fs::read_to_string(md).unwrap();
    assert!(
        summary.contains("| 100% | CPU per request, speed-adjusted (gated) |"),
        "{summary}"
    );
}

#[test]
fn a_twenty_percent_cpu_regression_fails() {
    let dir = tempfile::tempdir().unwrap();
    let worse = edited(dir.path(), "worse.json", |v| {
        for run in v["runs"].as_array_mut().unwrap() {
            if run["variant"] == "100%" {
                let cpu = &mut run["cpu"]["target_us_per_request"];
                *cpu = serde_json::json!(cpu.as_f64().unwrap() * 1.2);
            }
        }
    });
    let (code, stdout, stderr) = compare(&data("ci-b.json"), &worse, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("FAIL: regression in 100% cpu_adjusted"),
        "{stdout}"
    );
}

#[test]
fn mismatched_or_unusable_files_exit_2_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let other = edited(dir.path(), "other.json", |v| {
        v["scenario"]["name"] = "quick".into();
    });
    let (code, _, stderr) = compare(&data("ci-a.json"), &other, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("different scenarios"), "{stderr}");

    let fewer = edited(dir.path(), "fewer.json", |v| {
        v["scenario"]["variants"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n != "100%");
    });
    let (code, _, stderr) = compare(&data("ci-a.json"), &fewer, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("variant `100%` is in BASE but not in NEW"),
        "{stderr}"
    );

    let future = edited(dir.path(), "v2.json", |v| {
        v["schema_version"] = 2.into();
    });
    let (code, _, stderr) = compare(&data("ci-a.json"), &future, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("schema_version 2"), "{stderr}");

    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"runs\": 3}").unwrap();
    let (code, _, stderr) = compare(&data("ci-a.json"), &garbage, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("garbage.json"), "{stderr}");

    let (code, _, stderr) = compare(
        &data("ci-a.json"),
        &data("ci-b.json"),
        &["--max-regression", "latency=5%"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("`latency` is not a metric"), "{stderr}");
}
