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
