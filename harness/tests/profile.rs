//! Profiling runs end to end: a short profiled run of the built-in target-app must produce
//! stacks that resolve to named target-app frames, flame graphs (per variant and against the
//! baseline) and the "where the overhead goes" table; without perf it must say so and keep the
//! measured runs. Needs `perf` (Debian: linux-perf); where it is missing the first test says so
//! and returns, and with `OTELBENCH_REQUIRE_PERF=1` (set by `.ci/run`) it fails instead.

mod common;

use std::process::Command;
use std::sync::Mutex;

use harness::results::writer::read;

const PROFILED: &str = r#"
name = "profile-test"
repetitions = 1
baseline = "off"
profile = true

[profiler]
frequency_hz = 199

[load]
model = "rate"
rate = 60
users = 8
warmup_s = 1
duration_s = 3

[[variants]]
name = "off"
env = { OTEL_SDK_DISABLED = "true" }

[[variants]]
name = "on"
env = { OTEL_TRACES_SAMPLER = "parentbased_always_on" }
"#;

fn scenario(dir: &std::path::Path) -> std::path::PathBuf {
    let text = PROFILED.replacen(
        "[load]",
        &format!(
            "[target]\nkind = \"builtin\"\nbinary = \"{}\"\n\n[load]",
            common::target_app().display()
        ),
        1,
    );
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One profiled run at a time: two at once on a small machine make each other's generator lag.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn perf_runs() -> bool {
    Command::new("perf")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_profiled_run_resolves_target_app_frames_and_draws_flame_graphs() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !perf_runs() {
        assert!(
            std::env::var("OTELBENCH_REQUIRE_PERF").as_deref() != Ok("1"),
            "perf is required here but does not run; fix: apt-get install linux-perf"
        );
        eprintln!("perf is not installed: skipping the profile test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .arg("run")
        .arg(scenario(dir.path()))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(2), "{stderr}");
    let results = read(&out.join("results.json")).unwrap();
    // The profiling runs are extra: the measured runs are the plan's two.
    assert_eq!(results.kept_runs().count(), 2, "{stderr}");
    assert_eq!(results.profiles.len(), 2, "{stderr}");
    for p in &results.profiles {
        // At 199 Hz over 3 s of a target at about 0.1 cores: dozens of samples, 10 ms each.
        assert!(
            p.sampled_ns > 100_000_000,
            "{}: {} ns sampled; {stderr}",
            p.variant,
            p.sampled_ns
        );
        assert!(p.requests > 0, "{}", p.variant);
        assert!(p.resolved_share > 0.5, "{}: {:?}", p.variant, p.notes);
        assert!(
            p.by_owner.get("target_app").copied().unwrap_or(0) > 0,
            "{}: no sample owned by target_app: {:?}",
            p.variant,
            p.by_owner
        );
        let folded = std::fs::read_to_string(out.join(&p.folded)).unwrap();
        assert!(folded.contains("target_app::"), "{}", p.variant);
    }
    // With tracing on, the telemetry crates own samples that `off` does not have.
    let on = results.profiles.iter().find(|p| p.variant == "on").unwrap();
    let telemetry: u64 = on
        .by_owner
        .iter()
        .filter(|(k, _)| k.starts_with("tracing") || k.starts_with("opentelemetry"))
        .map(|(_, v)| v)
        .sum();
    assert!(telemetry > 0, "{:?}", on.by_owner);

    for svg in [
        "profiles/off.svg",
        "profiles/on.svg",
        "profiles/on-vs-off.svg",
    ] {
        let text = std::fs::read_to_string(out.join(svg)).unwrap_or_default();
        assert!(
            text.contains("<svg") && text.contains("target_app"),
            "{svg}"
        );
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Where the overhead goes"), "{md}");
    assert!(md.contains("(profiles/on-vs-off.svg)"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data:image/svg+xml;base64,"));

    // `report` elsewhere takes the folded stacks along and draws the same graphs.
    let again = dir.path().join("again");
    let status = Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .arg("report")
        .arg(out.join("results.json"))
        .arg("--out")
        .arg(&again)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(again.join("profiles/on-vs-off.svg").is_file());
}

#[test]
fn without_perf_the_run_says_so_and_keeps_its_measurements() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A PATH with what the run needs (taskset, for pinning) and no perf.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(taskset) = std::env::split_paths(&path)
        .map(|d| d.join("taskset"))
        .find(|p| p.is_file())
    {
        std::os::unix::fs::symlink(taskset, bin.join("taskset")).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .arg("run")
        .arg(scenario(dir.path()))
        .arg("--quick")
        .arg("--out")
        .arg(&out)
        .env("PATH", &bin)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("perf was not found"), "{stderr}");
    let results = read(&out.join("results.json")).unwrap();
    assert_eq!(results.kept_runs().count(), 2);
    assert!(
        results
            .profiles
            .iter()
            .all(|p| !p.has_samples() && p.notes.iter().any(|n| n.contains("linux-perf")))
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("perf was not found"), "{md}");
}
