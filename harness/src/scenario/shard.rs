//! Scale-out: one instance of N load generators (`run --shard I/N`) against a service that is
//! already running elsewhere (`run --target-url URL`). Each instance drives its share of the
//! load, with its own users and user ids, on slots interleaved with the other instances', from a
//! start time they all share; `otelbench merge` adds their histograms exactly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Model, Scenario, TargetSpec};

/// The Kubernetes Indexed Job's variable that holds a pod's 0-based completion index.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";
/// The variable `--start-at` can also come from.
pub const START_ENV: &str = "OTELBENCH_START_AT";

/// Which instance of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based, like `JOB_COMPLETION_INDEX`.
    pub index: u32,
    /// Instances in the run.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N`, or `N` with the index from `JOB_COMPLETION_INDEX` (`index_env`).
    pub fn parse(spec: &str, index_env: Option<&str>) -> Result<Self, String> {
        let (index, count) = if let Some((i, n)) = spec.split_once('/') {
            (i.trim().to_string(), n.trim())
        } else {
            let n = spec.trim();
            let i = index_env.ok_or_else(|| {
                format!(
                    "--shard {n} takes its index from {INDEX_ENV}, which is not set; fix: give --shard I/{n} (I from 0 to {n} - 1)"
                )
            })?;
            (i.trim().to_string(), n)
        };
        let count: u32 = count.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            format!("--shard {spec}: the count {count:?} is not a whole number of at least 1; fix: give --shard I/N, e.g. --shard 0/3")
        })?;
        let index: u32 = index.parse().map_err(|_| {
            format!("--shard {spec}: the index {index:?} is not a whole number; fix: give --shard I/N, e.g. --shard 0/3")
        })?;
        if index >= count {
            return Err(format!(
                "--shard {spec}: index {index} is not below the count {count}; fix: indexes start at 0 (like {INDEX_ENV}): give 0 to {}",
                count - 1
            ));
        }
        Ok(Self { index, count })
    }

    /// This instance's part of `total` (users): the first `total % count` instances take one
    /// more, so the parts add up to `total`.
    pub fn part(self, total: u32) -> u32 {
        total / self.count + u32::from(self.index < total % self.count)
    }

    /// The sum of the parts of the instances before this one: this instance's first user id.
    pub fn first_user(self, total: u32) -> u32 {
        (0..self.index)
            .map(|i| Self { index: i, ..self }.part(total))
            .sum()
    }
}

/// The shard identity a results.json records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// 0-based index.
    pub index: u32,
    /// Instances in the run.
    pub count: u32,
    /// The start time every instance was given (RFC 3339): run `k` of the plan starts its
    /// schedules at `start_at + k * slot_s`.
    pub start_at: String,
    /// Seconds between the starts of consecutive runs of the plan.
    pub slot_s: f64,
    /// The service the instances drove.
    pub target_url: String,
    /// The whole run's rate (rate model; each instance drove `rate / count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_rate: Option<f64>,
    /// The whole run's users (each instance ran its part of them).
    pub total_users: u32,
}

/// A service the harness does not start: it only sends it load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct External {
    /// Base URL, e.g. `http://my-service:8000`.
    pub url: String,
    /// The path polled until it answers 2xx before each run.
    pub ready_path: String,
    /// The answer must also say `"status": "healthy"` (the built-in target-app).
    pub health_json: bool,
}

impl External {
    /// `url` checked; readiness as the scenario's target defines it.
    pub fn new(url: &str, target: &TargetSpec) -> Result<Self, String> {
        let url = url.trim_end_matches('/');
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains('/')) {
            return Err(format!(
                "--target-url {url:?} is not a base URL; fix: give scheme, host and port only, e.g. http://my-service:8000"
            ));
        }
        let (ready_path, health_json) = match target {
            TargetSpec::Builtin { .. } => ("/api/health".to_string(), true),
            TargetSpec::Command { ready_url, .. } => (path_of(ready_url), false),
        };
        Ok(Self {
            url: url.to_string(),
            ready_path,
            health_json,
        })
    }
}

/// The path (and query) of `url`, which may be a full URL with `{port}` or already a path.
fn path_of(url: &str) -> String {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(r) => r
            .find('/')
            .map_or_else(|| "/".to_string(), |i| r[i..].to_string()),
        None if url.starts_with('/') => url.to_string(),
        None => format!("/{url}"),
    }
}

/// Parses a start time: RFC 3339 (`2026-12-03T10:00:00Z`) or unix seconds.
pub fn parse_start(spec: &str) -> Result<SystemTime, String> {
    let spec = spec.trim();
    let bad = || {
        format!(
            "--start-at {spec:?} is not a time; fix: give RFC 3339 UTC such as 2026-12-03T10:00:00Z, or unix seconds"
        )
    };
    if let Ok(secs) = spec.parse::<f64>() {
        return (0.0..1e11)
            .contains(&secs)
            .then(|| UNIX_EPOCH + Duration::from_secs_f64(secs))
            .ok_or_else(bad);
    }
    let t = chrono::DateTime::parse_from_rfc3339(spec).map_err(|_| bad())?;
    let micros = u64::try_from(t.timestamp_micros()).map_err(|_| bad())?;
    Ok(UNIX_EPOCH + Duration::from_micros(micros))
}

/// A wall-clock time as RFC 3339 with microseconds.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Seconds between the starts of consecutive runs of a sharded plan: the users' set-up, the
/// warm-up, the window, the requests still in flight after it (at most 5 s of them: a run that
/// overruns its slot starts the next one late, and `merge` marks it), and a margin.
pub fn slot(load: &super::Load) -> Duration {
    crate::load::setup_allowance(load.users)
        + Duration::from_secs_f64(load.warmup_s + load.duration_s + load.timeout_s.min(5.0))
        + Duration::from_secs(2)
}

/// What `run --target-url` and `run --shard` ask for.
#[derive(Debug, Clone, Default)]
pub struct ScaleOut {
    /// `--target-url`.
    pub target_url: Option<String>,
    /// `--shard`, parsed.
    pub shard: Option<Shard>,
    /// `--start-at` (or `OTELBENCH_START_AT`), parsed.
    pub start_at: Option<SystemTime>,
    /// `--variant`.
    pub variant: Option<String>,
}

/// Applies `--target-url`, `--variant` and `--shard` to `scenario`, or says what is wrong (the
/// message names the option or field and the fix).
pub fn apply(scenario: &mut Scenario, s: &ScaleOut) -> Result<(), String> {
    if let Some(name) = &s.variant {
        let Some(v) = scenario.variants.iter().find(|v| &v.name == name).cloned() else {
            return Err(format!(
                "--variant {name:?}: {} has no such variant; fix: give one of {}",
                scenario.file.display(),
                scenario
                    .variants
                    .iter()
                    .map(|v| format!("{:?}", v.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        scenario.baseline.clone_from(&v.name);
        scenario.variants = vec![v];
        scenario.calibration_variant = None;
    }
    if let Some(url) = &s.target_url {
        if scenario.variants.len() > 1 {
            return Err(format!(
                "--target-url: {} has {} variants, but a service the harness does not start runs with the settings it was deployed with; fix: give --variant NAME for the variant it is configured as",
                scenario.file.display(),
                scenario.variants.len()
            ));
        }
        if scenario.profile.is_some() {
            return Err(
                "--target-url: profiling needs the target's processes on this machine; fix: drop --profile (and profile = true) for an external target".into(),
            );
        }
        if scenario.ab.is_some() {
            return Err("--target-url: an A/B of builds starts both builds itself; fix: drop --baseline-target/--candidate-target, or --target-url".into());
        }
        scenario.external = Some(External::new(url, &scenario.target)?);
    }
    let Some(shard) = s.shard else {
        if s.start_at.is_some() {
            return Err("--start-at: it is when the instances of a scaled-out run start; fix: add --shard I/N (--shard 0/1 for one instance), or drop --start-at".into());
        }
        return Ok(());
    };
    let Some(external) = &scenario.external else {
        return Err(format!(
            "--shard {}/{}: every instance must drive the same service; fix: give --target-url URL of the running service",
            shard.index, shard.count
        ));
    };
    let Some(start_at) = s.start_at else {
        return Err(format!(
            "--shard {}/{}: the instances must measure the same window; fix: give --start-at TIME (or {START_ENV}), the same for every instance, e.g. two minutes ahead",
            shard.index, shard.count
        ));
    };
    let load = &mut scenario.load;
    if load.model == Model::Capacity {
        return Err(format!(
            "--shard: {}: a capacity search decides each step from the whole load, which no instance sees; fix: run the capacity search on one instance",
            scenario.file.display()
        ));
    }
    if load.users < shard.count {
        return Err(format!(
            "--shard {}/{}: load.users = {} cannot be split among {} instances; fix: give at least {} users",
            shard.index, shard.count, load.users, shard.count, shard.count
        ));
    }
    let total_users = load.users;
    let total_rate = load.rate;
    load.users = shard.part(total_users);
    load.rate = load.rate.map(|r| r / f64::from(shard.count));
    let slot_s = slot(load).as_secs_f64();
    // A retried run would measure another window than the other instances' run of its place.
    scenario.retries.per_run = 0;
    scenario.retries.total = Some(0);
    scenario.shard = Some(super::Sharding {
        shard,
        start_at,
        first_user: shard.first_user(total_users),
        record: ShardRecord {
            index: shard.index,
            count: shard.count,
            start_at: rfc3339(start_at),
            slot_s,
            target_url: external.url.clone(),
            total_rate,
            total_users,
        },
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_explicit_and_indexed_shards() {
        assert_eq!(Shard::parse("1/3", None), Ok(Shard { index: 1, count: 3 }));
        assert_eq!(
            Shard::parse("3", Some("2")),
            Ok(Shard { index: 2, count: 3 })
        );
        let e = Shard::parse("3", None).unwrap_err();
        assert!(e.contains(INDEX_ENV) && e.contains("fix:"), "{e}");
        let e = Shard::parse("3/3", None).unwrap_err();
        assert!(e.contains("give 0 to 2"), "{e}");
        assert!(Shard::parse("0/0", None).is_err());
        assert!(Shard::parse("a/3", None).is_err());
    }

    #[test]
    fn the_parts_of_the_users_add_up_and_their_ids_do_not_overlap() {
        for (total, count) in [(32, 3), (3, 3), (10, 4), (7, 1)] {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            let parts: Vec<u32> = shards.iter().map(|s| s.part(total)).collect();
            assert_eq!(parts.iter().sum::<u32>(), total, "{total}/{count}");
            let mut next = 0;
            for s in &shards {
                assert_eq!(s.first_user(total), next);
                next += s.part(total);
            }
        }
        assert_eq!(Shard { index: 0, count: 3 }.part(32), 11);
        assert_eq!(Shard { index: 2, count: 3 }.part(32), 10);
    }

    #[test]
    fn start_times_in_both_spellings() {
        let a = parse_start("2026-12-03T10:00:00Z").unwrap();
        let b = parse_start("1796292000").unwrap();
        assert_eq!(a, b);
        assert_eq!(rfc3339(a), "2026-12-03T10:00:00.000000Z");
        assert!(parse_start("tomorrow").unwrap_err().contains("fix:"));
        assert!(parse_start("-5").is_err());
    }

    #[test]
    fn a_target_url_is_a_base_url() {
        let builtin = TargetSpec::default();
        let e = External::new("http://svc:8000/", &builtin).unwrap();
        assert_eq!(e.url, "http://svc:8000");
        assert_eq!(e.ready_path, "/api/health");
        assert!(External::new("svc:8000", &builtin).is_err());
        assert!(External::new("http://svc:8000/api", &builtin).is_err());
        assert_eq!(path_of("http://127.0.0.1:{port}/health?x=1"), "/health?x=1");
        assert_eq!(path_of("/ready"), "/ready");
    }
}
