//! `otelbench run --baseline-target A --candidate-target B`: two builds of the real target-app
//! measured interleaved in one plan and judged in one file. The candidate is the same binary
//! made costlier by the calibration knob (a wrapper that sets `CALIBRATION_CPU_US` and execs
//! it, as a slower build would be): the gate must see the regression and exit 1, with both
//! builds' runs in results.json and the verdict in ab.md.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use harness::results::writer::read;

/// A build that costs `extra_us` more CPU per API request: the real binary behind a wrapper.
fn slower_build(dir: &std::path::Path, extra_us: u32) -> std::path::PathBuf {
    let path = dir.join("slower-target-app");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nCALIBRATION_CPU_US={extra_us} exec {} \"$@\"\n",
            common::target_app().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_costlier_candidate_build_fails_the_gate_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::root().join("scenarios/smoke.toml");
    let out = dir.path().join("out");
    // 3 ms of CPU per API request: several times what a debug build spends on one.
    let candidate = slower_build(dir.path(), 3_000);
    let output = Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .args(["--repetitions", "3", "--duration", "1"])
        .arg("--baseline-target")
        .arg(common::target_app())
        .arg("--candidate-target")
        .arg(&candidate)
        .args(["--max-regression", "cpu_per_request=5%"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a regression exits 1\n{stdout}\n{stderr}"
    );
    let results = read(&out.join("results.json")).unwrap();
    let plan = results.scenario.ab.as_ref().expect("the A/B is recorded");
    assert_eq!(plan.candidate, candidate.display().to_string());
    assert_eq!(
        results.scenario.variants,
        [
            "off [base]",
            "off [candidate]",
            "100% [base]",
            "100% [candidate]"
        ]
    );
    assert_eq!(results.scenario.baseline, "off [base]");
    // Interleaved: each block runs every variant on both builds before the next block, and
    // the builds take turns at going first.
    let order: Vec<&str> = results
        .kept_runs()
        .take(8)
        .map(|r| r.variant.as_str())
        .collect();
    assert_eq!(order[..4], results.scenario.variants);
    assert_eq!(
        order[4..],
        [
            "off [candidate]",
            "off [base]",
            "100% [candidate]",
            "100% [base]"
        ]
    );
    let ab = std::fs::read_to_string(out.join("ab.md")).unwrap();
    assert!(ab.contains("FAIL: regression in"), "{ab}");
    assert!(ab.contains("cpu_per_request"), "{ab}");
    assert!(stdout.contains("FAIL: regression in"), "{stdout}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("A/B: the candidate build against the base build"),
        "the report carries the verdict"
    );
    // The verdict is re-rendered from results.json alone.
    let rerun = Command::new(env!("CARGO_BIN_EXE_otelbench"))
        .arg("report")
        .arg(out.join("results.json"))
        .arg("--out")
        .arg(dir.path().join("again"))
        .output()
        .unwrap();
    assert!(rerun.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again/ab.md")).unwrap(),
        ab
    );
}

#[test]
fn ab_options_are_checked_before_anything_runs() {
    let scenario = common::root().join("scenarios/smoke.toml");
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_otelbench"))
            .arg("run")
            .arg(&scenario)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let app = common::target_app().display().to_string();
    let (code, err) = run(&["--baseline-target", &app]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--candidate-target"), "{err}");
    let (code, err) = run(&[
        "--baseline-target",
        &app,
        "--candidate-target",
        "/nonexistent/target-app",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--candidate-target /nonexistent/target-app: not a file"),
        "{err}"
    );
    let (code, err) = run(&[
        "--baseline-target",
        &app,
        "--candidate-target",
        &app,
        "--max-regression",
        "cpu=5%",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`cpu` is not a metric"), "{err}");
}

/// A command target's A/B: each build's checkout is the directory its command runs in. One
/// repetition cannot be judged: reported, exit 0; with `--strict`, exit 1.
#[test]
fn a_command_targets_builds_run_in_their_checkouts_and_an_unjudged_ab_is_said() {
    let dir = tempfile::tempdir().unwrap();
    for build in ["base", "head"] {
        let checkout = dir.path().join(build);
        std::fs::create_dir(&checkout).unwrap();
        let serve = checkout.join("serve.sh");
        std::fs::write(
            &serve,
            "#!/bin/sh\ntouch ran\nexec python3 -m http.server --bind 127.0.0.1 \"$PORT\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&serve, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let scenario = dir.path().join("command.toml");
    std::fs::write(
        &scenario,
        common::command_scenario(r#"["./serve.sh"]"#, "/serve.sh", 1, "", r#"X = "1""#),
    )
    .unwrap();
    let run = |strict: bool| {
        let out = dir.path().join(if strict { "strict" } else { "lenient" });
        let output = Command::new(env!("CARGO_BIN_EXE_otelbench"))
            .arg("run")
            .arg(&scenario)
            .arg("--out")
            .arg(&out)
            .arg("--baseline-target")
            .arg(dir.path().join("base"))
            .arg("--candidate-target")
            .arg(dir.path().join("head"))
            .args(if strict { &["--strict"][..] } else { &[][..] })
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), out, stderr)
    };
    let (code, out, stderr) = run(false);
    assert_eq!(code, Some(0), "not judged is not a failure\n{stderr}");
    for build in ["base", "head"] {
        assert!(
            dir.path().join(build).join("ran").exists(),
            "{build}'s command ran in its checkout"
        );
    }
    let results = read(&out.join("results.json")).unwrap();
    // One kept run per build, each of which measured the target (a run the generator's lag
    // spoiled is replaced, so check the kept ones).
    let kept: Vec<_> = results.kept_runs().collect();
    assert_eq!(kept.len(), 2, "{stderr}");
    assert!(kept.iter().all(|r| r.load.requests > 0), "{stderr}");
    let ab = std::fs::read_to_string(out.join("ab.md")).unwrap();
    assert!(ab.contains("NOT JUDGED (not a failure"), "{ab}");
    assert!(ab.contains("at least 3"), "{ab}");
    let (code, _, stderr) = run(true);
    assert_eq!(
        code,
        Some(1),
        "--strict fails what it cannot judge\n{stderr}"
    );
}

/// The README's adoption example is the file `.ci/run` checks against GitHub's workflow schema,
/// and it is under 10 lines.
#[test]
fn the_readme_quotes_the_checked_adoption_example() {
    let example =
        std::fs::read_to_string(common::root().join("examples/github-actions/otelbench.yml"))
            .unwrap();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{example}```")),
        "README.md must quote examples/github-actions/otelbench.yml exactly"
    );
    assert!(example.lines().count() < 10);
    let action =
        std::fs::read_to_string(common::root().join(".github/actions/ab/action.yml")).unwrap();
    for input in ["scenario:", "build:", "target:"] {
        assert!(example.contains(input) && action.contains(&format!("  {input}")));
    }
}
