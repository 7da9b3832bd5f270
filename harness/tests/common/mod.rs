//! Helpers for the harness's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The target-app binary built alongside these tests (`cargo test --workspace` builds it).
pub fn target_app() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("target-app");
    assert!(
        bin.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds it",
        bin.display()
    );
    bin
}

/// `scenarios/<name>` with `binary` set to the test build of target-app, written to `dir`.
pub fn scenario_with_binary(name: &str, dir: &Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios").join(name)).unwrap();
    let target = format!(
        "[target]\nkind = \"builtin\"\nbinary = \"{}\"\n",
        target_app().display()
    );
    let text = if text.contains("[target]") {
        text.replace("[target]\nkind = \"builtin\"\n", &target)
    } else {
        text.replacen("[load]", &format!("{target}\n[load]"), 1)
    };
    let path = dir.join(name);
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

/// Child processes of `pid` (from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    harness::procfs::pids()
        .into_iter()
        .filter(|child| {
            harness::procfs::stat(*child)
                .is_some_and(|s| harness::procfs::stat_number(&s, 4) == Some(u64::from(pid)))
        })
        .collect()
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    harness::procfs::stat(pid).is_some_and(|s| harness::procfs::stat_field(&s, 3) != Some("Z"))
}

/// `otelbench run SCENARIO --out OUT`, in process; returns the exit code.
pub async fn run_cli(scenario: &Path, out: &Path) -> std::process::ExitCode {
    let args = [
        "otelbench",
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    harness::cli::run(args).await.unwrap()
}

/// A scenario of one variant against a command target (`command`, a TOML array) that serves
/// HTTP on `$PORT`: 20 req/s of `GET path` (expecting 200) from 2 users, 1 s of warm-up and
/// `duration_s` measured. `extra` goes at the top level (e.g. `max_retries = 0`); `env` is the
/// variant's environment as TOML key-value pairs.
pub fn command_scenario(
    command: &str,
    path: &str,
    duration_s: u32,
    extra: &str,
    env: &str,
) -> String {
    format!(
        r#"
name = "command target"
repetitions = 1
baseline = "target"
{extra}

[target]
kind = "command"
command = {command}
ready_url = "http://127.0.0.1:{{port}}/"
ready_timeout_s = 20

[load]
model = "rate"
rate = 20
users = 2
warmup_s = 1
duration_s = {duration_s}

[[load.requests]]
name = "get"
path = "{path}"
expect = 200

[[variants]]
name = "target"
env = {{ {env} }}
"#
    )
}
