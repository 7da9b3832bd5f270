//! `GET /api/health`: status of database, queue and worker. Not traced.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::db::now_us;
use crate::state::AppState;

/// A worker is considered up when it has written a heartbeat within this window.
const WORKER_STALE: Duration = Duration::from_secs(5);

/// A component's state in seed 002's words: `healthy`, or `unhealthy: <why>`.
fn component(result: Result<(), String>) -> String {
    result.map_or_else(|why| format!("unhealthy: {why}"), |()| "healthy".into())
}

/// Seed 002's health document: 200 with `status: healthy` when the database, the queue (the
/// seed's `redis`) and the worker (the seed's `celery`) are up; 200 `degraded` when only the
/// worker is down (requests are still served; jobs wait in the queue); 503 `unhealthy` when the
/// database or the queue is unreachable. `details` adds what the seed's document has no room for.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let started = Instant::now();
    let db = state.db.ping().await.map_err(|e| format!("{e:#}"));
    let db_ms = started.elapsed().as_secs_f64() * 1000.0;
    let depth = state.queue.depth().await.map_err(|e| format!("{e:#}"));
    let heartbeat: Result<Option<(i64,)>, sqlx::Error> =
        sqlx::query_as("SELECT MAX(seen_at) FROM worker_heartbeats WHERE queue = $1")
            .bind(state.queue.name())
            .fetch_optional(state.db.pool())
            .await;
    let last_seen = heartbeat.ok().flatten().map(|(t,)| t);
    let worker_age_ms = last_seen.map(|t| (now_us() - t) / 1000);
    let worker_up = worker_age_ms.is_some_and(|ms| ms <= WORKER_STALE.as_millis() as i64);
    let status = match (&db, &depth, worker_up) {
        (Ok(()), Ok(_), true) => "healthy",
        (Ok(()), Ok(_), false) => "degraded",
        _ => "unhealthy",
    };
    let code = if status == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let worker = if worker_up {
        Ok(())
    } else {
        Err(worker_age_ms.map_or_else(
            || "no worker has reported".to_string(),
            |ms| format!("last seen {ms} ms ago"),
        ))
    };
    let body = json!({
        "status": status,
        "components": {
            "database": component(db.clone()),
            "redis": component(depth.as_ref().map(|_| ()).map_err(Clone::clone)),
            "celery": component(worker),
        },
        "service": {"name": &*state.service_name, "version": env!("CARGO_PKG_VERSION")},
        "details": {
            "database": {"backend": state.db.backend().system_name(), "latency_ms": db_ms},
            "queue": {
                "backend": state.queue.system(),
                "name": state.queue.name(),
                "depth": depth.as_ref().ok(),
            },
            "worker": {"last_seen_ms_ago": worker_age_ms},
        },
    });
    (code, Json(body))
}
