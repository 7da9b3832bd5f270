//! The HTTP API and the app factory.

mod articles;
pub mod calibration;
mod health;
mod users;

use axum::Router;
use axum::routing::{get, post};

use crate::error::AppError;
use crate::state::AppState;
use crate::telemetry::http::server_span;

/// Builds the router. Calling it twice (an app factory run twice in one process) yields two
/// routers with one server span each per request: telemetry is initialised per process, not here.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/register", post(users::register))
        .route("/api/login", post(users::login))
        .route("/api/logout", post(users::logout))
        .route("/api/user", get(users::current))
        // Seed 002 writes the collection with a trailing slash; both forms answer, no redirect.
        .route("/api/articles/", get(articles::list).post(articles::create))
        .route("/api/articles", get(articles::list).post(articles::create))
        .route(
            "/api/articles/{slug}",
            get(articles::get_one)
                .put(articles::update)
                .delete(articles::delete),
        )
        .route(
            "/api/articles/{slug}/favorite",
            post(articles::favorite).delete(articles::unfavorite),
        );
    // The positive control: a known CPU cost on every API request, inside the server span (a
    // layer added later wraps the ones before it).
    let api = if state.calibration_cpu.is_zero() {
        api
    } else {
        api.route_layer(axum::middleware::from_fn_with_state(
            state.calibration_cpu,
            calibration::spend,
        ))
    };
    // `route_layer` applies to the routes above only: health, added below, is never traced.
    let api = if state.telemetry_enabled {
        api.route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            server_span,
        ))
    } else {
        api
    };
    api.route("/api/health", get(health::health))
        .fallback(|| async { AppError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state)
}
