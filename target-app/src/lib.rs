//! `target-app`: the instrumented web + worker service that otelbench measures.
//!
//! The Rust analogue of a Flask + Celery + PostgreSQL + Redis application: an axum API (users,
//! JWT auth, articles, favorites) whose writes enqueue jobs for a separate worker process, with
//! traces, metrics and logs configured only by the standard `OTEL_*` environment variables.

pub mod auth;
pub mod config;
pub mod db;
pub mod env;
pub mod error;
pub mod lifecycle;
pub mod queue;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod worker;

use std::sync::Arc;

pub use config::Role;
pub use routes::app;

use crate::auth::AuthKeys;
use crate::config::Config;
use crate::db::Db;
use crate::env::Env;
use crate::queue::Queue;
use crate::state::AppState;
use crate::telemetry::Telemetry;
use crate::telemetry::config::OtelConfig;
use crate::telemetry::metrics::AppMetrics;

/// Connects storage and queue (creating the schema if needed) and builds the shared state.
pub async fn build_state(config: &Config, telemetry: &Telemetry) -> anyhow::Result<AppState> {
    let db = Db::connect(&config.database_url, config.db_max_connections).await?;
    db::schema::migrate(&db).await?;
    let queue = Queue::connect(
        &config.queue_url,
        &config.database_url,
        &db,
        &config.queue_name,
        config.queue_poll_interval,
    )
    .await?;
    Ok(AppState {
        db,
        queue,
        auth: Arc::new(AuthKeys::new(&config.jwt_secret, config.jwt_ttl)),
        password_cost: config.password_cost,
        metrics: AppMetrics::new(&telemetry.meter()),
        telemetry_enabled: telemetry.enabled(),
        service_name: telemetry.config().service_name.as_str().into(),
        jobs_enqueued: Arc::default(),
        calibration_cpu: config.calibration_cpu,
    })
}

/// Runs one role until SIGTERM or Ctrl-C. Configuration errors are [`env::EnvError`]s.
pub async fn run(role: Role, env: &(dyn Env + Sync)) -> anyhow::Result<()> {
    let config = Config::from_env(env)?;
    let otel = OtelConfig::from_env(env, &format!("target-app-{}", role.as_str()))?;
    // Built off the runtime's worker threads: the blocking HTTP exporter client may not be
    // created on one, while the gRPC exporter needs the runtime's handle, which this has.
    let telemetry = tokio::task::spawn_blocking(move || {
        telemetry::init_global(|| Telemetry::build(otel, &telemetry::TestExporters::default()))
    })
    .await??;
    if config.jwt_secret == config::DEV_JWT_SECRET && role == Role::Web {
        tracing::warn!("JWT_SECRET is not set: using the development secret");
    }
    let state = build_state(&config, telemetry).await?;
    match role {
        Role::Web => web::serve(&config, state, telemetry).await,
        Role::Worker => worker::run(&config, state, telemetry).await,
    }
}
