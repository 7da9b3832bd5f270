//! The app's metric instruments (semantic-convention names where one exists).

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

/// Bucket boundaries in seconds for request and job durations (OpenTelemetry's advice for
/// `http.server.request.duration`).
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// All instruments; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppMetrics {
    /// `http.server.request.duration` (s) by method, route and status.
    pub http_duration: Histogram<f64>,
    /// `app.auth.attempts` by kind (register, login) and outcome.
    pub auth_attempts: Counter<u64>,
    /// `app.articles.created`.
    pub articles_created: Counter<u64>,
    /// `app.jobs.enqueued` by job kind.
    pub jobs_enqueued: Counter<u64>,
    /// `app.job.duration` (s) by job kind and outcome.
    pub job_duration: Histogram<f64>,
    /// `app.jobs` (processed) by job kind and outcome.
    pub jobs: Counter<u64>,
    /// `app.job.queue_latency` (s): enqueue to start of processing.
    pub job_queue_latency: Histogram<f64>,
}

impl AppMetrics {
    /// Creates the instruments on `meter`.
    pub fn new(meter: &Meter) -> Self {
        Self {
            http_duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP server requests.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            auth_attempts: meter
                .u64_counter("app.auth.attempts")
                .with_description("Registration and login attempts by outcome.")
                .build(),
            articles_created: meter
                .u64_counter("app.articles.created")
                .with_description("Articles created.")
                .build(),
            jobs_enqueued: meter
                .u64_counter("app.jobs.enqueued")
                .with_description("Background jobs enqueued.")
                .build(),
            job_duration: meter
                .f64_histogram("app.job.duration")
                .with_unit("s")
                .with_description("Time the worker spent processing a job.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            jobs: meter
                .u64_counter("app.jobs")
                .with_description("Jobs processed by outcome.")
                .build(),
            job_queue_latency: meter
                .f64_histogram("app.job.queue_latency")
                .with_unit("s")
                .with_description("Time from enqueue to the start of processing.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
        }
    }

    /// Records an authentication attempt.
    pub fn auth(&self, kind: &'static str, outcome: &'static str) {
        self.auth_attempts.add(
            1,
            &[
                KeyValue::new("auth.kind", kind),
                KeyValue::new("outcome", outcome),
            ],
        );
    }
}
