//! A target that dies mid-run, or never becomes ready: that run is invalid with the reason and
//! the target's last stderr lines, no process is left behind, and the next run proceeds.

mod common;

const SCENARIO: &str = r#"
name = "crash"
repetitions = 1
baseline = "lives"

[target]
kind = "command"
command = ["bash", "-c", "echo starting >&2; exec timeout $LIFETIME python3 -m http.server --bind 127.0.0.1 $PORT"]
ready_url = "http://127.0.0.1:{port}/"
ready_timeout_s = 5

[load]
model = "rate"
rate = 20
users = 4
warmup_s = 1
duration_s = 4

[[load.requests]]
name = "index"
path = "/"
expect = 200

[[variants]]
name = "dies"
env = { LIFETIME = "3" }

[[variants]]
name = "never ready"
env = { LIFETIME = "60", NEVER_READY = "1" }

[[variants]]
name = "lives"
env = { LIFETIME = "60" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_run_is_invalid_and_the_plan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // "never ready" never listens, so its readiness check times out.
    let text = SCENARIO.replace(
        "exec timeout $LIFETIME",
        "test ${NEVER_READY:-0} = 1 && exec sleep 60; exec timeout $LIFETIME",
    );
    let path = dir.path().join("crash.toml");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("out");
    let code = common::run_cli(&path, &out).await;
    assert_eq!(
        code,
        std::process::ExitCode::FAILURE,
        "variants short of valid runs make the exit code 1"
    );
    let results = harness::results::writer::read(&out.join("results.json")).unwrap();
    let runs: Vec<_> = results.kept_runs().cloned().collect();
    assert_eq!(runs.len(), 3);
    for crashed in ["dies", "never ready"] {
        let attempts = results.runs.iter().filter(|r| r.variant == crashed).count();
        assert_eq!(
            attempts, 1,
            "{crashed}: a target's failure is a result, never retried"
        );
    }
    let tally = harness::stats::completeness::completeness(&results);
    let short: Vec<_> = tally.short.iter().map(|s| s.variant.as_str()).collect();
    assert!(short.starts_with(&["dies", "never ready"]), "{short:?}");
    let dies = &runs[0];
    assert!(!dies.valid);
    let reason = dies.invalid_reason.as_deref().unwrap();
    assert!(reason.contains("web process exited"), "{reason}");
    assert!(
        reason.contains("GET / HTTP/1.1"),
        "the target's last stderr lines: {reason}"
    );
    let never = &runs[1];
    let reason = never.invalid_reason.as_deref().unwrap();
    assert!(reason.contains("not ready within"), "{reason}");
    assert!(
        reason.contains("starting"),
        "stderr tail included: {reason}"
    );
    let lives = &runs[2];
    assert!(
        lives
            .invalid_reason
            .as_deref()
            .is_none_or(|r| !r.contains("exited")),
        "{:?}",
        lives.invalid_reason
    );
    assert!(lives.load.requests > 0);
    assert!(
        common::children_of(std::process::id())
            .iter()
            .all(|p| !common::alive(*p)),
        "no target process left"
    );
}

/// Regression for issue 19: a database that cannot be reached aborted the whole plan, and the
/// message printed the URL's password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_that_cannot_be_prepared_fails_that_run_and_hides_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let smoke = common::scenario_with_binary("smoke.toml", dir.path(), "");
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let text = std::fs::read_to_string(&smoke).unwrap().replace(
        "kind = \"builtin\"\n",
        "kind = \"builtin\"\ndb = \"postgres\"\npostgres_url = \"postgres://bench:s3cret@127.0.0.1:1/test\"\n",
    );
    std::fs::write(&smoke, text).unwrap();
    let out = dir.path().join("out");
    let code = common::run_cli(&smoke, &out).await;
    assert_eq!(code, std::process::ExitCode::FAILURE);
    let results = harness::results::writer::read(&out.join("results.json")).unwrap();
    assert_eq!(
        results.runs.len(),
        2,
        "the plan went on past the first failure"
    );
    for run in &results.runs {
        let reason = run.invalid_reason.as_deref().unwrap();
        assert!(reason.contains("connecting to PostgreSQL"), "{reason}");
        assert!(reason.contains("bench:***@"), "{reason}");
        assert!(!reason.contains("s3cret"), "{reason}");
        assert!(
            !run.transient,
            "a missing database is not the generator's fault"
        );
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!report.contains("s3cret"));
}

/// Regression for issue 19: a command target's port, chosen then released, can be taken by
/// another process before the target binds it; the readiness check then reached the stranger.
/// Here the first launch plays that race: a process in a session of its own takes the port and
/// the target does not bind at all. The run must notice, and start the target on another port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_taken_by_a_stranger_is_noticed_and_another_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("stranger.pid");
    // The target serves a file the stranger does not have: a request that reached the
    // stranger fails with 404.
    let (served, empty) = (dir.path().join("served"), dir.path().join("empty"));
    std::fs::create_dir_all(&served).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(served.join("only-here.txt"), "target").unwrap();
    let command = r#"["sh", "-c", "if [ ! -e \"$MARK\" ]; then setsid python3 -m http.server --directory \"$EMPTY\" --bind 127.0.0.1 $PORT >/dev/null 2>&1 & echo $! > \"$MARK\"; exec sleep 60; fi; exec python3 -m http.server --directory \"$SERVED\" --bind 127.0.0.1 $PORT"]"#;
    let env = format!(
        r#"MARK = "{}", SERVED = "{}", EMPTY = "{}""#,
        mark.display(),
        served.display(),
        empty.display()
    );
    let scenario = common::command_scenario(command, "/only-here.txt", 2, "max_retries = 0", &env);
    let path = dir.path().join("race.toml");
    std::fs::write(&path, scenario).unwrap();
    let out = dir.path().join("out");
    common::run_cli(&path, &out).await;
    let stranger: Option<u32> = std::fs::read_to_string(&mark)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    if let Some(pid) = stranger {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    assert!(
        stranger.is_some(),
        "the first launch did not start the stranger"
    );
    let results = harness::results::writer::read(&out.join("results.json")).unwrap();
    let run = &results.runs[0];
    assert!(
        run.invalid_reason
            .as_deref()
            .is_none_or(|r| !r.contains("taken")),
        "{:?}",
        run.invalid_reason
    );
    assert!(run.load.requests > 0, "{:?}", run.invalid_reason);
    assert_eq!(
        run.load.errors, 0,
        "the requests reached the target, not the stranger"
    );
}
