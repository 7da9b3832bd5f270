//! The server span and `http.server.request.duration` for every routed request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::KeyValue;
use tracing::Instrument as _;
use tracing::field::Empty;

use super::metrics::AppMetrics;
use super::propagation::set_parent_from_headers;

/// Axum middleware (installed with `route_layer`, so the route template is known and routes
/// added afterwards, such as health, are not traced).
pub async fn server_span(
    State(metrics): State<AppMetrics>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let route = matched.as_ref().map_or_else(
        || request.uri().path().to_string(),
        |m| m.as_str().to_string(),
    );
    let span = tracing::info_span!(
        "http.server",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = %route,
        url.path = %request.uri().path(),
        url.scheme = "http",
        network.protocol.version = ?request.version(),
        user_agent.original = request
            .headers()
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        http.response.status_code = Empty,
        error.type = Empty,
    );
    set_parent_from_headers(&span, request.headers());
    let start = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", status.as_str());
    }
    metrics.http_duration.record(
        start.elapsed().as_secs_f64(),
        &[
            KeyValue::new("http.request.method", method.to_string()),
            KeyValue::new("http.route", route),
            KeyValue::new("http.response.status_code", i64::from(status.as_u16())),
        ],
    );
    response
}
