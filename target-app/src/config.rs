//! The application's own configuration (12-factor: environment variables only).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::env::{Env, EnvError, number};

/// Which role this process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The HTTP API (`target-app web`).
    Web,
    /// The background job consumer (`target-app worker`).
    Worker,
}

impl Role {
    /// The role's name as used in service names and log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Web => "web",
            Role::Worker => "worker",
        }
    }
}

/// Everything the app reads from its environment, apart from the OpenTelemetry settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the web role listens on (`BIND`, `PORT`).
    pub listen: SocketAddr,
    /// `DATABASE_URL`: `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// `QUEUE_URL`: `sqlite://...`, `postgres://...` or `redis://...` (default: the database).
    pub queue_url: String,
    /// `QUEUE_NAME`: the queue both roles use.
    pub queue_name: String,
    /// `QUEUE_POLL_INTERVAL_MS`: the SQLite queue's fallback poll interval (it is normally woken
    /// by inotify when the web process commits).
    pub queue_poll_interval: Duration,
    /// `WORKER_CONCURRENCY`: jobs processed at once by one worker process.
    pub worker_concurrency: usize,
    /// `JWT_SECRET`: HMAC key for tokens.
    pub jwt_secret: String,
    /// `JWT_TTL_SECONDS`: token lifetime.
    pub jwt_ttl: Duration,
    /// `PASSWORD_HASH_MEMORY_KIB` and `PASSWORD_HASH_ITERATIONS`: Argon2id cost.
    pub password_cost: PasswordCost,
    /// `DATABASE_MAX_CONNECTIONS`: pool size.
    pub db_max_connections: u32,
    /// `SHUTDOWN_TIMEOUT_SECONDS`: how long in-flight work may take after SIGTERM.
    pub shutdown_timeout: Duration,
    /// `CALIBRATION_CPU_US`: CPU time every API request spends on nothing, on top of its work
    /// (default 0). A known cost for measuring what otelbench can detect (a positive control).
    pub calibration_cpu: Duration,
}

/// The most `CALIBRATION_CPU_US` accepts: one second of CPU per request.
pub const MAX_CALIBRATION_CPU_US: u64 = 1_000_000;

/// Argon2id parameters. The defaults are OWASP's recommendation (19 MiB, 2 iterations); load
/// tests lower them so that the password hash does not dominate what is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB (at least 8).
    pub memory_kib: u32,
    /// Iterations (at least 1).
    pub iterations: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
        }
    }
}

/// The development default for `JWT_SECRET`; a warning is logged when it is used.
pub const DEV_JWT_SECRET: &str = "otelbench-target-app-development-secret";

impl Config {
    /// Reads the configuration, naming the variable and the fix on any invalid value. The groups
    /// are read in this order, so with several invalid values the first one here is reported.
    pub fn from_env(env: &(impl Env + ?Sized)) -> Result<Self, EnvError> {
        let listen = listen_address(env)?;
        let (database_url, queue_url) = storage_urls(env)?;
        let queue_name = queue_name(env)?;
        let queue_poll_interval = queue_poll_interval(env)?;
        let worker_concurrency = worker_concurrency(env)?;
        let jwt_secret = jwt_secret(env, listen.ip())?;
        let jwt_ttl = jwt_ttl(env)?;
        let password_cost = PasswordCost::from_env(env)?;
        let db_max_connections = db_max_connections(env)?;
        let shutdown_timeout = shutdown_timeout(env)?;
        let calibration_cpu = calibration_cpu(env)?;
        Ok(Self {
            listen,
            database_url,
            queue_url,
            queue_name,
            queue_poll_interval,
            worker_concurrency,
            jwt_secret,
            jwt_ttl,
            password_cost,
            db_max_connections,
            shutdown_timeout,
            calibration_cpu,
        })
    }
}

impl PasswordCost {
    /// `PASSWORD_HASH_MEMORY_KIB` and `PASSWORD_HASH_ITERATIONS` (both parsed before either is
    /// range-checked), defaulting to OWASP's recommendation.
    fn from_env(env: &(impl Env + ?Sized)) -> Result<Self, EnvError> {
        let memory_kib: u32 = number(
            env,
            "PASSWORD_HASH_MEMORY_KIB",
            PasswordCost::default().memory_kib,
            "set KiB of at least 8, e.g. 19456",
        )?;
        let iterations: u32 = number(
            env,
            "PASSWORD_HASH_ITERATIONS",
            PasswordCost::default().iterations,
            "set at least 1",
        )?;
        if memory_kib < 8 {
            return Err(EnvError::new(
                "PASSWORD_HASH_MEMORY_KIB",
                &memory_kib.to_string(),
                "Argon2 needs at least 8 KiB",
                "set 8 or more",
            ));
        }
        if iterations == 0 {
            return Err(EnvError::new(
                "PASSWORD_HASH_ITERATIONS",
                "0",
                "Argon2 needs at least one iteration",
                "set 1 or more",
            ));
        }
        Ok(Self {
            memory_kib,
            iterations,
        })
    }
}

/// `PORT` (default 8000), then `BIND` (default 127.0.0.1).
fn listen_address(env: &(impl Env + ?Sized)) -> Result<SocketAddr, EnvError> {
    let port: u16 = number(env, "PORT", 8000, "set a port number between 0 and 65535")?;
    let bind_raw = env.get("BIND").unwrap_or_else(|| "127.0.0.1".to_string());
    let bind: IpAddr = bind_raw.trim().parse().map_err(|_| {
        EnvError::new(
            "BIND",
            &bind_raw,
            "not an IP address",
            "use an address such as 127.0.0.1 or 0.0.0.0",
        )
    })?;
    Ok(SocketAddr::new(bind, port))
}

/// `DATABASE_URL` (default a SQLite file), then `QUEUE_URL` (default the database).
fn storage_urls(env: &(impl Env + ?Sized)) -> Result<(String, String), EnvError> {
    let database_url = env
        .get("DATABASE_URL")
        .unwrap_or_else(|| "sqlite://target-app.db".to_string());
    check_url(
        "DATABASE_URL",
        &database_url,
        &["sqlite:", "postgres:", "postgresql:"],
    )?;
    let queue_url = env.get("QUEUE_URL").unwrap_or_else(|| database_url.clone());
    check_url(
        "QUEUE_URL",
        &queue_url,
        &["sqlite:", "postgres:", "postgresql:", "redis:"],
    )?;
    Ok((database_url, queue_url))
}

/// `QUEUE_NAME` (default `notifications`): letters, digits, '-' and '_' only.
fn queue_name(env: &(impl Env + ?Sized)) -> Result<String, EnvError> {
    let queue_name = env
        .get("QUEUE_NAME")
        .unwrap_or_else(|| "notifications".into());
    if !queue_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(EnvError::new(
            "QUEUE_NAME",
            &queue_name,
            "contains characters other than letters, digits, '-' and '_'",
            "use a name such as notifications",
        ));
    }
    Ok(queue_name)
}

/// `QUEUE_POLL_INTERVAL_MS` (default 50; 0 means 1).
fn queue_poll_interval(env: &(impl Env + ?Sized)) -> Result<Duration, EnvError> {
    let poll_ms: u64 = number(
        env,
        "QUEUE_POLL_INTERVAL_MS",
        50,
        "set milliseconds, e.g. 50",
    )?;
    Ok(Duration::from_millis(poll_ms.max(1)))
}

/// `WORKER_CONCURRENCY` (default 4, at least 1).
fn worker_concurrency(env: &(impl Env + ?Sized)) -> Result<usize, EnvError> {
    let worker_concurrency: usize = number(
        env,
        "WORKER_CONCURRENCY",
        4,
        "set a job count of at least 1",
    )?;
    if worker_concurrency == 0 {
        return Err(EnvError::new(
            "WORKER_CONCURRENCY",
            "0",
            "must be at least 1",
            "set WORKER_CONCURRENCY=4",
        ));
    }
    Ok(worker_concurrency)
}

/// `JWT_TTL_SECONDS` (default 3600; 0 means 1).
fn jwt_ttl(env: &(impl Env + ?Sized)) -> Result<Duration, EnvError> {
    let jwt_ttl: u64 = number(env, "JWT_TTL_SECONDS", 3600, "set seconds, e.g. 3600")?;
    Ok(Duration::from_secs(jwt_ttl.max(1)))
}

/// `DATABASE_MAX_CONNECTIONS` (default 8; 0 means 1).
fn db_max_connections(env: &(impl Env + ?Sized)) -> Result<u32, EnvError> {
    let db_max_connections: u32 = number(
        env,
        "DATABASE_MAX_CONNECTIONS",
        8,
        "set a pool size of at least 1",
    )?;
    Ok(db_max_connections.max(1))
}

/// `SHUTDOWN_TIMEOUT_SECONDS` (default 10).
fn shutdown_timeout(env: &(impl Env + ?Sized)) -> Result<Duration, EnvError> {
    let shutdown_secs: u64 = number(env, "SHUTDOWN_TIMEOUT_SECONDS", 10, "set seconds, e.g. 10")?;
    Ok(Duration::from_secs(shutdown_secs))
}

/// `CALIBRATION_CPU_US` (default 0, at most [`MAX_CALIBRATION_CPU_US`]).
fn calibration_cpu(env: &(impl Env + ?Sized)) -> Result<Duration, EnvError> {
    let calibration_us: u64 = number(
        env,
        "CALIBRATION_CPU_US",
        0,
        "set microseconds of CPU per request, e.g. 50",
    )?;
    if calibration_us > MAX_CALIBRATION_CPU_US {
        return Err(EnvError::new(
            "CALIBRATION_CPU_US",
            &calibration_us.to_string(),
            "more than a second of CPU per request",
            format!("set at most {MAX_CALIBRATION_CPU_US}"),
        ));
    }
    Ok(Duration::from_micros(calibration_us))
}

fn check_url(var: &str, url: &str, schemes: &[&str]) -> Result<(), EnvError> {
    if schemes.iter().any(|s| url.starts_with(s)) {
        Ok(())
    } else {
        Err(EnvError::new(
            var,
            url,
            "unsupported scheme",
            format!("use a URL starting with one of {}", schemes.join(" ")),
        ))
    }
}

/// `JWT_SECRET`. Unset or empty (the same to [`Env`]; an empty HMAC key would sign tokens
/// anyone can forge): the public development secret, but only while the web role listens on
/// loopback alone; refused otherwise.
fn jwt_secret(env: &(impl Env + ?Sized), bind: IpAddr) -> Result<String, EnvError> {
    match env.get("JWT_SECRET") {
        Some(s) => Ok(s),
        None if bind.is_loopback() => Ok(DEV_JWT_SECRET.to_string()),
        None => Err(EnvError::new(
            "JWT_SECRET",
            "(unset or empty)",
            "is unset or empty while BIND is not a loopback address: the public development secret would sign tokens",
            "set a long random secret, e.g. JWT_SECRET=$(openssl rand -hex 32), or BIND=127.0.0.1",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_development_or_empty_secret_outside_loopback() {
        // Regression for issue 19: BIND=0.0.0.0 ran with the public development secret, and an
        // empty secret was accepted.
        let open: &[(&str, &str)] = &[("BIND", "0.0.0.0")];
        let err = Config::from_env(open).unwrap_err();
        assert_eq!(err.var, "JWT_SECRET");
        for blank in ["", " "] {
            let env: &[(&str, &str)] = &[("BIND", "0.0.0.0"), ("JWT_SECRET", blank)];
            assert_eq!(Config::from_env(env).unwrap_err().var, "JWT_SECRET");
            // On loopback a blank secret is the warned-about development one, never empty.
            let local: &[(&str, &str)] = &[("JWT_SECRET", blank)];
            assert_eq!(Config::from_env(local).unwrap().jwt_secret, DEV_JWT_SECRET);
        }
        let set: &[(&str, &str)] = &[("BIND", "0.0.0.0"), ("JWT_SECRET", "s3cret-s3cret")];
        assert_eq!(Config::from_env(set).unwrap().jwt_secret, "s3cret-s3cret");
        let local: &[(&str, &str)] = &[];
        assert_eq!(Config::from_env(local).unwrap().jwt_secret, DEV_JWT_SECRET);
    }

    #[test]
    fn defaults_need_no_environment() {
        let env: &[(&str, &str)] = &[];
        let c = Config::from_env(env).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8000");
        assert!(c.database_url.starts_with("sqlite:"));
        assert_eq!(c.queue_url, c.database_url);
        assert_eq!(c.password_cost, PasswordCost::default());
        assert_eq!(
            c.calibration_cpu,
            Duration::ZERO,
            "no calibration cost unless asked"
        );
    }

    #[test]
    fn queue_defaults_to_the_database() {
        let env: &[(&str, &str)] = &[("DATABASE_URL", "postgres://u@127.0.0.1/test")];
        let c = Config::from_env(env).unwrap();
        assert_eq!(c.queue_url, "postgres://u@127.0.0.1/test");
    }

    #[test]
    fn bad_values_name_variable_and_fix() {
        for (var, value) in [
            ("PORT", "99999"),
            ("BIND", "localhost:1"),
            ("DATABASE_URL", "mysql://x"),
            ("QUEUE_URL", "amqp://x"),
            ("WORKER_CONCURRENCY", "0"),
            ("PASSWORD_HASH_MEMORY_KIB", "4"),
            ("QUEUE_NAME", "a b"),
            ("CALIBRATION_CPU_US", "-5"),
            ("CALIBRATION_CPU_US", "1000001"),
        ] {
            let env: &[(&str, &str)] = &[(var, value)];
            let err = Config::from_env(env).unwrap_err();
            assert_eq!(err.var, var);
            assert!(!err.fix.is_empty());
        }
    }
}
