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

/// 200 with `status: ok` when everything is up, `degraded` when only the worker is down (requests
/// are still served; jobs wait in the queue), 503 with `status: down` when the database or the
/// queue is unreachable.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let started = Instant::now();
    let db = state.db.ping().await;
    let db_ms = started.elapsed().as_secs_f64() * 1000.0;
    let depth = state.queue.depth().await;
    let heartbeat: Result<Option<(i64,)>, sqlx::Error> =
        sqlx::query_as("SELECT MAX(seen_at) FROM worker_heartbeats WHERE queue = $1")
            .bind(state.queue.name())
            .fetch_optional(state.db.pool())
            .await;
    let last_seen = heartbeat.ok().flatten().map(|(t,)| t);
    let worker_age_ms = last_seen.map(|t| (now_us() - t) / 1000);
    let worker_up = worker_age_ms.is_some_and(|ms| ms <= WORKER_STALE.as_millis() as i64);
    let status = match (&db, &depth, worker_up) {
        (Ok(()), Ok(_), true) => "ok",
        (Ok(()), Ok(_), false) => "degraded",
        _ => "down",
    };
    let code = if status == "down" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = json!({
        "status": status,
        "service": {"name": &*state.service_name, "version": env!("CARGO_PKG_VERSION")},
        "components": {
            "database": {
                "status": if db.is_ok() { "ok" } else { "down" },
                "backend": state.db.backend().system_name(),
                "latency_ms": db_ms,
                "error": db.err().map(|e| format!("{e:#}")),
            },
            "queue": {
                "status": if depth.is_ok() { "ok" } else { "down" },
                "backend": state.queue.system(),
                "name": state.queue.name(),
                "depth": depth.as_ref().ok(),
                "error": depth.as_ref().err().map(|e| format!("{e:#}")),
            },
            "worker": {
                "status": if worker_up { "ok" } else { "down" },
                "last_seen_ms_ago": worker_age_ms,
            },
        },
    });
    (code, Json(body))
}
