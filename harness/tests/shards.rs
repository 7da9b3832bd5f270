//! Scale-out end to end: one built-in target on loopback, started by the test (a service the
//! harness does not start); three `otelbench run --shard I/3` processes against it from one
//! start time, while `otelbench sample` records the target's CPU and RSS; `otelbench merge`
//! combines them. The merged histogram must be exactly the histogram of every raw latency the
//! shards measured, the counts and rates their sums; inputs that are not the shards of one run
//! are refused with exit 2 naming the file.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harness::results::{Latency, Results, RunResult};

const SHARDS: u32 = 3;
const USERS: u32 = 6;

fn otelbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_otelbench"))
}

/// The built-in target's web and worker on SQLite in `dir`, telemetry off; the web's base URL.
struct Target {
    web: Child,
    worker: Child,
    url: String,
}

impl Target {
    fn start(dir: &Path) -> Self {
        let env = [
            (
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.join("target.db").display()),
            ),
            ("OTEL_SDK_DISABLED", "true".into()),
            ("PASSWORD_HASH_MEMORY_KIB", "64".into()),
            ("PASSWORD_HASH_ITERATIONS", "1".into()),
            ("PORT", "0".into()),
        ];
        let spawn = |role: &str, stdout: Stdio| {
            Command::new(common::target_app())
                .arg(role)
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdout(stdout)
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut web = spawn("web", Stdio::piped());
        let worker = spawn("worker", Stdio::null());
        let mut lines = BufReader::new(web.stdout.take().unwrap()).lines();
        let url = lines
            .find_map(|l| {
                l.ok()?
                    .split("listening on ")
                    .nth(1)
                    .map(|u| u.trim().to_string())
            })
            .expect("the web process says where it listens");
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { web, worker, url }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        for c in [&mut self.web, &mut self.worker] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn scenario(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"name = "{name}"
repetitions = 1
baseline = "off"

[target]
kind = "builtin"

[load]
model = "rate"
rate = 60
users = {USERS}
warmup_s = 1
duration_s = 5

[placement]
pin = false

[[variants]]
name = "off"
env = {{ OTEL_SDK_DISABLED = "true" }}
"#
        ),
    )
    .unwrap();
    path
}

fn read(path: &Path) -> Results {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn merge(args: &[&Path], out: &Path) -> std::process::Output {
    otelbench()
        .arg("merge")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// Every latency the shards wrote to their raw files.
fn raw_latencies(dirs: &[PathBuf]) -> Vec<u64> {
    dirs.iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .flat_map(|f| {
            std::fs::read_to_string(f.unwrap().path())
                .unwrap()
                .lines()
                .map(|l| l.parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn three_shards_merge_exactly_and_inconsistent_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::start(dir.path());
    let file = scenario(dir.path(), "shards");
    let sampler = start_sampler(dir.path(), &target);
    let (outs, raws): (Vec<PathBuf>, Vec<PathBuf>) = (0..SHARDS)
        .map(|i| {
            (
                dir.path().join(format!("s{i}")),
                dir.path().join(format!("raw{i}")),
            )
        })
        .unzip();
    run_shards(&file, &target, &outs, &raws);
    stop(sampler);

    let merged_dir = dir.path().join("merged");
    let shard_files: Vec<PathBuf> = outs.iter().map(|o| o.join("results.json")).collect();
    let out = otelbench()
        .arg("merge")
        .args(&shard_files)
        .arg("--out")
        .arg(&merged_dir)
        .arg("--samples")
        .arg(dir.path().join("samples.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: {stderr}",
        out.status
    );
    assert!(merged_dir.join("report.md").is_file());
    let merged = read(&merged_dir.join("results.json"));
    let shards: Vec<Results> = shard_files.iter().map(|f| read(f)).collect();
    assert_eq!(merged.merged_from.len(), SHARDS as usize);
    assert_eq!(merged.runs.len(), 1);
    let run = &merged.runs[0];
    let parts: Vec<_> = shards.iter().map(|s| &s.runs[0]).collect();
    assert_eq!(
        out.status.code() == Some(0),
        parts.iter().all(|p| p.valid),
        "{stderr}"
    );
    assert_eq!(run.valid, parts.iter().all(|p| p.valid));
    let requests = assert_sums(run, &parts);
    assert_exact_percentiles(run, &raws, requests);

    // Distinct user ids across the instances: the users the target registered are 0..6.
    let ids = registered_user_ids(&dir.path().join("target.db"));
    assert_eq!(ids, (0..USERS).collect::<BTreeSet<_>>());

    // One window: the instances' starts within 50 ms of each other on one clock.
    let spread = run.window.as_ref().unwrap().start_spread_ms.unwrap();
    assert!(spread < 50.0, "{spread}");
    // The target's CPU and memory, from the sidecar's readings over that window.
    assert!(run.cpu.target_us_per_request > 0.0, "{:?}", run.cpu);
    assert!(run.cpu.per_process_us_per_request.contains_key("web"));
    assert!(run.memory_mb["web"].mean > 1.0, "{:?}", run.memory_mb);
    assert_eq!(merged.samples.len(), 1);

    refusals(dir.path(), &shard_files);
}

/// `otelbench sample` on the target's two processes, writing `samples.jsonl` in `dir`.
fn start_sampler(dir: &Path, target: &Target) -> Child {
    otelbench()
        .args(["sample", "--out"])
        .arg(dir.join("samples.jsonl"))
        .arg("--pid")
        .arg(format!("web={}", target.web.id()))
        .arg("--pid")
        .arg(format!("worker={}", target.worker.id()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Ctrl-C to the sampler: it ends cleanly.
fn stop(mut sampler: Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sampler.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert!(sampler.wait().unwrap().success());
}

/// The shards as separate processes with one start time, each writing its results to `outs[i]`
/// and its raw latencies to `raws[i]`; each ends with a result.
fn run_shards(file: &Path, target: &Target, outs: &[PathBuf], raws: &[PathBuf]) {
    // Far enough ahead for every instance to start and check the machine.
    let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(8);
    let shards: Vec<Child> = (0..SHARDS)
        .map(|i| {
            otelbench()
                .arg("run")
                .arg(file)
                .args(["--target-url", &target.url])
                .args(["--shard", &format!("{i}/{SHARDS}")])
                .args(["--start-at", &start.as_secs().to_string()])
                .arg("--out")
                .arg(&outs[i as usize])
                .env("OTELBENCH_RAW_LATENCY", &raws[i as usize])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, shard) in shards.into_iter().enumerate() {
        let out = shard.wait_with_output().unwrap();
        // 1 is a run invalid on this noisy machine (its generator's lag): still a result.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "shard {i}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Counts and rates: sums. The merged request count.
fn assert_sums(run: &RunResult, parts: &[&RunResult]) -> u64 {
    let requests: u64 = parts.iter().map(|p| p.load.requests).sum();
    assert_eq!(run.load.requests, requests);
    assert!(requests >= 250, "{requests}");
    let achieved: f64 = parts.iter().map(|p| p.load.achieved_rps).sum();
    assert!((run.load.achieved_rps - achieved).abs() < 1e-9);
    assert!((run.load.target_rps.unwrap() - 60.0).abs() < 1e-9);
    for p in parts {
        assert!((p.load.target_rps.unwrap() - 20.0).abs() < 1e-9);
    }
    assert_eq!(run.load.users, USERS);
    assert_eq!(run.load.errors, 0, "{:?}", run.load.errors_by_kind);
    let per_name: u64 = run.per_request.values().map(|p| p.requests).sum();
    assert_eq!(per_name, requests);
    requests
}

/// Percentiles: exactly those of one histogram of every raw latency.
fn assert_exact_percentiles(run: &RunResult, raws: &[PathBuf], requests: u64) {
    let raw = raw_latencies(raws);
    assert_eq!(raw.len() as u64, requests);
    let mut h = harness::load::recorder::histogram();
    for us in &raw {
        h.record(*us).unwrap();
    }
    let all = Latency::from_histogram(&h);
    let l = &run.latency_us;
    assert_eq!(
        (l.p50, l.p90, l.p99, l.p999, l.max),
        (all.p50, all.p90, all.p99, all.p999, all.max)
    );
}

/// The numbers in the emails the target registered (`user{user}-{run}@example.com`).
fn registered_user_ids(db: &Path) -> BTreeSet<u32> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(emails.len(), USERS as usize, "{emails:?}");
        emails
            .iter()
            .map(|e| {
                e.trim_start_matches("user")
                    .split('-')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect()
    })
}

fn refusals(dir: &Path, shards: &[PathBuf]) {
    let refused = |args: &[&Path], names: &Path, says: &str| {
        let out = merge(args, &dir.join("refused"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&names.display().to_string()) && stderr.contains(says),
            "{stderr}"
        );
        assert!(!dir.join("refused").join("results.json").exists());
    };
    // A copy of itself: the same shard index twice.
    let copy = dir.join("copy-of-s0.json");
    std::fs::copy(&shards[0], &copy).unwrap();
    refused(&[&shards[0], &copy, &shards[2]], &copy, "is shard 0 of 3");
    // A shard of another scenario.
    let other = dir.join("other.json");
    let mut r = read(&shards[1]);
    r.scenario.name = "other".into();
    r.scenario.hash = "f".repeat(64);
    std::fs::write(&other, serde_json::to_string(&r).unwrap()).unwrap();
    refused(
        &[&shards[0], &other, &shards[2]],
        &other,
        "scenario \"other\"",
    );
    // One missing.
    refused(
        &[&shards[0], &shards[1]],
        &shards[0],
        "shard 2 of 3 is missing",
    );
    // A file that is not a shard.
    let mut plain = read(&shards[2]);
    plain.shard = None;
    let plain_file = dir.join("plain.json");
    std::fs::write(&plain_file, serde_json::to_string(&plain).unwrap()).unwrap();
    refused(
        &[&shards[0], &shards[1], &plain_file],
        &plain_file,
        "not a shard",
    );
}

#[test]
fn sharding_needs_a_target_url_and_a_start_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "bad");
    let run = |extra: &[&str]| {
        let out = otelbench()
            .arg("run")
            .arg(&file)
            .args(extra)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("OTELBENCH_START_AT")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(run(&["--shard", "0/3", "--start-at", "1"]).contains("--target-url"));
    let url = ["--target-url", "http://127.0.0.1:9"];
    assert!(run(&[url[0], url[1], "--shard", "0/3"]).contains("--start-at"));
    assert!(run(&[url[0], url[1], "--shard", "3/3", "--start-at", "1"]).contains("give 0 to 2"));
    assert!(
        run(&[url[0], url[1], "--shard", "3", "--start-at", "1"]).contains("JOB_COMPLETION_INDEX")
    );
    assert!(run(&[url[0], url[1], "--variant", "nope"]).contains("no such variant"));
    assert!(run(&[url[0], url[1], "--start-at", "1"]).contains("--shard I/N"));
}
