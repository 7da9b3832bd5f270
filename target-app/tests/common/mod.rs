//! Helpers shared by the integration tests: real SQLite files, real PostgreSQL databases and real
//! Redis queues, each unique to a test and removed afterwards.

#![allow(dead_code)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use target_app::config::Config;
use target_app::telemetry::config::OtelConfig;
use target_app::telemetry::{self, Telemetry, TestExporters};
use tower::ServiceExt as _;

/// PostgreSQL used by the tests (`TEST_POSTGRES_URL`, default: the machine's local server).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Redis used by the tests (`TEST_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A short random suffix for names.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{:016x}", rand::random::<u64>())
}

/// Where a test's data lives, and how to remove it.
#[derive(Debug)]
pub enum Storage {
    /// A SQLite file in the temp directory.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database created for the test.
    Postgres(String),
}

impl Storage {
    /// A fresh SQLite file.
    pub fn sqlite() -> Self {
        Self::Sqlite(std::env::temp_dir().join(format!("{}.db", unique("target_app_test"))))
    }

    /// A fresh PostgreSQL database (fails loudly when PostgreSQL is not running: start it with
    /// `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`).
    pub async fn postgres() -> Self {
        use sqlx::Connection as _;
        let admin = postgres_admin_url();
        // The owning process id is part of the name, so databases left by a test process that
        // died (a failed assertion skips `remove`) are dropped here, and live ones are not.
        let name = unique(&format!("otelbench_test_{}", std::process::id()));
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is not reachable: {e}"));
        let existing: Vec<(String,)> =
            sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'otelbench_test_%'")
                .fetch_all(&mut conn)
                .await
                .expect("list test databases");
        for (stale,) in existing {
            let pid = stale.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {stale} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        Self::Postgres(name)
    }

    /// `DATABASE_URL` for this storage.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(name) => {
                let admin = postgres_admin_url();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                format!("{base}/{name}")
            }
        }
    }

    /// Removes the data (SQLite files are also removed on drop, e.g. after a failed assertion).
    pub async fn remove(self) {
        match &self {
            Self::Sqlite(_) => {}
            Self::Postgres(name) => {
                use sqlx::Connection as _;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            }
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Self::Sqlite(path) = self {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// App configuration for tests: cheap password hashing, the given storage and queue.
pub fn config(database_url: &str, queue_url: Option<&str>, queue_name: &str) -> Config {
    let mut vars: Vec<(&str, &str)> = vec![
        ("DATABASE_URL", database_url),
        ("QUEUE_NAME", queue_name),
        ("PASSWORD_HASH_MEMORY_KIB", "64"),
        ("PASSWORD_HASH_ITERATIONS", "1"),
        ("QUEUE_POLL_INTERVAL_MS", "2"),
    ];
    if let Some(q) = queue_url {
        vars.push(("QUEUE_URL", q));
    }
    Config::from_env(vars.as_slice()).expect("test configuration")
}

/// Sends one request to `app` and returns the status and the JSON body (`Null` when empty).
pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let request = match body {
        Some(b) => request
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{method} {uri}: body is not JSON: {bytes:?}"))
    };
    (status, json)
}

/// Asserts the app's error format and returns the message.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) -> String {
    assert_eq!(status, expected, "body: {body}");
    let error = &body["error"];
    assert_eq!(error["status_code"], expected.as_u16(), "body: {body}");
    assert!(error["message"].is_string(), "body: {body}");
    assert!(error.get("trace_id").is_some(), "body: {body}");
    error["message"].as_str().unwrap().to_string()
}

/// The access token of a register or login response.
pub fn access_token(json: &Value) -> String {
    json["token"]["access_token"].as_str().unwrap().to_string()
}

/// Registers a user and returns `(id, token)`.
pub async fn register(app: &Router, email: &str) -> (i64, String) {
    let body = format!(r#"{{"email":"{email}","name":"user","password":"correct horse"}}"#);
    let (status, json) = call(app, "POST", "/api/register", None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    (json["user"]["id"].as_i64().unwrap(), access_token(&json))
}

/// `POST /api/articles` with `body`, as the holder of `token` (or anonymously).
pub async fn post_article(app: &Router, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    call(app, "POST", "/api/articles", token, Some(body)).await
}

/// Initialises the process-wide telemetry from `vars`, exporting to `exporters`. Built on the
/// blocking pool, as `target_app::run` does (not on a runtime worker thread).
pub async fn init_telemetry(
    vars: &[(&str, &str)],
    default_service: &str,
    exporters: TestExporters,
) -> &'static Telemetry {
    let otel = OtelConfig::from_env(vars, default_service).unwrap();
    tokio::task::spawn_blocking(move || {
        telemetry::init_global(|| Telemetry::build(otel, &exporters))
    })
    .await
    .unwrap()
    .unwrap()
}

/// Polls `check` every 20 ms until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check().await
}
