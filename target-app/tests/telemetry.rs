//! Spans, logs and metrics as exported, asserted with in-memory exporters. One process-wide
//! pipeline (telemetry is initialised once per process), so this file holds one scenario.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use common::{
    Storage, access_token, call, config, eventually, init_telemetry, post_article, unique,
};
use opentelemetry::trace::SpanKind;
use opentelemetry::{Value, logs::AnyValue};
use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use target_app::state::AppState;
use target_app::telemetry::{self, Telemetry, TestExporters};
use target_app::worker::{JobStats, consume};

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The finished spans once `ready` holds. Spans may end a moment after the response: the
/// registry closes a parent when its last child closes, possibly on a blocking-pool thread.
async fn finished_when(
    exporter: &InMemorySpanExporter,
    ready: impl Fn(&[SpanData]) -> bool,
) -> Vec<SpanData> {
    eventually(Duration::from_secs(5), || async {
        ready(&exporter.get_finished_spans().unwrap())
    })
    .await;
    exporter.get_finished_spans().unwrap()
}

/// True once the request's root span (a server span without parent) has ended. Were the app
/// instrumented twice, the outer server span would be that root and end last, so waiting for
/// it also waits for any inner duplicate.
fn has_server(spans: &[SpanData]) -> bool {
    spans.iter().any(|s| {
        s.span_kind == SpanKind::Server && s.parent_span_id == opentelemetry::SpanId::INVALID
    })
}

fn server_spans(spans: &[SpanData]) -> Vec<&SpanData> {
    spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Server)
        .collect()
}

/// The in-memory exporters the pipeline exports to.
struct Exported {
    spans: InMemorySpanExporter,
    logs: InMemoryLogExporter,
    metrics: InMemoryMetricExporter,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_is_complete_masked_and_initialised_once() {
    let exported = Exported {
        spans: InMemorySpanExporter::default(),
        logs: InMemoryLogExporter::default(),
        metrics: InMemoryMetricExporter::default(),
    };
    let first = initialised_once(&exported).await;

    let storage = Storage::sqlite();
    let cfg = config(&storage.url(), None, &unique("q"));
    let state = target_app::build_state(&cfg, first).await.unwrap();
    // The app factory runs twice in this process; requests go to the second app.
    let _first_app = target_app::app(state.clone());
    let app = target_app::app(state.clone());

    let spans = &exported.spans;
    one_server_span_per_request_with_its_queries(&app, spans).await;
    calibration_cost_is_inside_the_server_span(&state, spans).await;
    health_is_not_traced(&app, spans).await;
    let (token, body) = emails_are_masked_and_logs_carry_the_trace(&app, first, &exported).await;
    errors_carry_the_trace_id(&app, spans, &body).await;
    jobs_continue_the_request_trace(&app, &state, spans, &token).await;
    metrics_are_exported(first, &exported.metrics);

    let totals = first.totals(Vec::new());
    assert!(totals.spans.produced > 0);
    assert_eq!(totals.spans.produced, totals.spans.exported, "{totals:?}");
    assert_eq!(totals.spans.dropped, 0);
    state.db.close().await;
    storage.remove().await;
}

/// Initialises the pipeline with `exported`'s exporters. Instrument once: a second
/// initialisation (a second app factory run, a worker import path) returns the first pipeline
/// instead of adding another.
async fn initialised_once(exported: &Exported) -> &'static Telemetry {
    let exporters = TestExporters {
        spans: Some(exported.spans.clone()),
        logs: Some(exported.logs.clone()),
        metrics: Some(exported.metrics.clone()),
    };
    let first = init_telemetry(
        &[("OTEL_TRACES_SAMPLER", "always_on")],
        "test-web",
        exporters,
    )
    .await;
    let second = telemetry::init_global(|| panic!("must not build a second pipeline")).unwrap();
    assert!(std::ptr::eq(first, second));
    first
}

/// One server span per request, with HTTP semantic-convention attributes and the route; a
/// client span per query, children of the server span.
async fn one_server_span_per_request_with_its_queries(app: &Router, spans: &InMemorySpanExporter) {
    spans.reset();
    let (status, _) = call(app, "GET", "/api/articles?page=1", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let finished = finished_when(spans, has_server).await;
    let servers = server_spans(&finished);
    assert_eq!(
        servers.len(),
        1,
        "exactly one server span per request: {finished:#?}"
    );
    let server = servers[0];
    assert_eq!(server.name, "GET /api/articles");
    assert_eq!(
        attr(server, "http.route").unwrap().as_str(),
        "/api/articles"
    );
    assert_eq!(attr(server, "http.request.method").unwrap().as_str(), "GET");
    assert_eq!(attr(server, "url.path").unwrap().as_str(), "/api/articles");
    assert_eq!(
        attr(server, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    let db: Vec<_> = finished
        .iter()
        .filter(|s| s.span_kind == SpanKind::Client)
        .collect();
    assert_eq!(
        db.len(),
        2,
        "list runs a page query and a count query: {db:#?}"
    );
    for span in &db {
        assert_eq!(span.span_context.trace_id(), server.span_context.trace_id());
        assert_eq!(span.parent_span_id, server.span_context.span_id());
        assert_eq!(attr(span, "db.system.name").unwrap().as_str(), "sqlite");
        assert_eq!(attr(span, "db.operation.name").unwrap().as_str(), "SELECT");
        assert!(
            attr(span, "db.query.text")
                .unwrap()
                .as_str()
                .contains("FROM articles")
        );
    }
}

/// The calibration knob's cost falls inside the server span, as a handler's work would.
async fn calibration_cost_is_inside_the_server_span(
    state: &AppState,
    spans: &InMemorySpanExporter,
) {
    let mut calibrated = state.clone();
    calibrated.calibration_cpu = Duration::from_millis(50);
    let calibrated = target_app::app(calibrated);
    spans.reset();
    let (status, _) = call(&calibrated, "GET", "/api/articles?page=1", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let finished = finished_when(spans, has_server).await;
    let server = server_spans(&finished)[0];
    let took = server.end_time.duration_since(server.start_time).unwrap();
    assert!(took >= Duration::from_millis(50), "server span of {took:?}");
}

/// Health is not traced.
async fn health_is_not_traced(app: &Router, spans: &InMemorySpanExporter) {
    spans.reset();
    let (status, _) = call(app, "GET", "/api/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        spans.get_finished_spans().unwrap().is_empty(),
        "health must not be traced"
    );
}

/// Emails are masked in span attributes and log records; logs carry the trace id. Registers a
/// user, and returns its token and the registration's body.
async fn emails_are_masked_and_logs_carry_the_trace(
    app: &Router,
    first: &Telemetry,
    exported: &Exported,
) -> (String, String) {
    let (spans, logs) = (&exported.spans, &exported.logs);
    spans.reset();
    logs.reset();
    let email = format!("{}@example.com", unique("alice"));
    let masked = "al***@example.com".to_string();
    let body = format!(r#"{{"email":"{email}","name":"alice","password":"correct horse"}}"#);
    let (status, json) = call(app, "POST", "/api/register", None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = access_token(&json);
    let user_id = json["user"]["id"].as_i64().unwrap();
    let finished = finished_when(spans, has_server).await;
    let register = finished
        .iter()
        .find(|s| s.name == "auth.register")
        .unwrap_or_else(|| {
            panic!(
                "no auth.register in {:?}",
                finished
                    .iter()
                    .map(|s| (&s.name, s.span_context.span_id(), s.parent_span_id))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(attr(register, "user.email").unwrap().as_str(), masked);
    assert_eq!(attr(register, "user.id"), Some(&Value::I64(user_id)));
    let everything = format!("{finished:?}");
    assert!(
        !everything.contains(&email),
        "an unmasked email was exported in a span"
    );
    let server = server_spans(&finished)[0];
    first.force_flush();
    let records = logs.get_emitted_logs().unwrap();
    let registered = records
        .iter()
        .find(|r| matches!(r.record.body(), Some(AnyValue::String(s)) if s.as_str().starts_with("registered")))
        .expect("a log record for the registration");
    assert_eq!(
        registered.record.body(),
        Some(&AnyValue::String(format!("registered {masked}").into()))
    );
    let cx = registered
        .record
        .trace_context()
        .expect("log carries trace context");
    assert_eq!(cx.trace_id, server.span_context.trace_id());
    assert!(
        !format!("{records:?}").contains(&email),
        "an unmasked email was exported in a log"
    );
    (token, body)
}

/// Errors carry the request's trace id (`body` registers an existing user again).
async fn errors_carry_the_trace_id(app: &Router, spans: &InMemorySpanExporter, body: &str) {
    spans.reset();
    let (status, json) = call(app, "POST", "/api/register", None, Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let finished = finished_when(spans, has_server).await;
    let server = *server_spans(&finished).first().unwrap_or_else(|| {
        panic!(
            "no server span in {:?}",
            finished.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    });
    assert_eq!(
        json["error"]["trace_id"].as_str().unwrap(),
        server.span_context.trace_id().to_string()
    );
    assert_eq!(
        attr(server, "http.response.status_code"),
        Some(&Value::I64(409))
    );
}

/// Producer span at enqueue, consumer span in the worker, one trace.
async fn jobs_continue_the_request_trace(
    app: &Router,
    state: &AppState,
    spans: &InMemorySpanExporter,
    token: &str,
) {
    spans.reset();
    let (status, json) = post_article(app, Some(token), r#"{"title":"Traced","body":"b"}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    let slug = json["slug"].as_str().unwrap().to_string();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(consume(
        state.clone(),
        1,
        Duration::from_secs(5),
        Arc::new(JobStats::default()),
        stop_rx,
    ));
    let finished = finished_when(spans, |s| {
        has_server(s) && s.iter().any(|s| s.span_kind == SpanKind::Consumer)
    })
    .await;
    assert!(
        finished.iter().any(|s| s.span_kind == SpanKind::Consumer),
        "the worker never produced a consumer span"
    );
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();
    job_spans_form_one_trace(&finished, &slug);
}

/// The business span, its producer span, the worker's consumer span and the worker's queries
/// are one chain of parents in one trace.
fn job_spans_form_one_trace(finished: &[SpanData], slug: &str) {
    let producer = finished
        .iter()
        .find(|s| s.span_kind == SpanKind::Producer)
        .expect("producer span");
    let consumer = finished
        .iter()
        .find(|s| s.span_kind == SpanKind::Consumer)
        .expect("consumer span");
    let create = finished
        .iter()
        .find(|s| s.name == "article.create")
        .expect("business span");
    assert_eq!(attr(create, "article.slug").unwrap().as_str(), slug);
    assert_eq!(
        producer.span_context.trace_id(),
        create.span_context.trace_id()
    );
    assert_eq!(producer.parent_span_id, create.span_context.span_id());
    assert_eq!(
        consumer.span_context.trace_id(),
        producer.span_context.trace_id()
    );
    assert_eq!(consumer.parent_span_id, producer.span_context.span_id());
    assert_eq!(
        attr(consumer, "messaging.system").unwrap().as_str(),
        "sqlite"
    );
    let worker_db = finished
        .iter()
        .filter(|s| {
            s.parent_span_id == consumer.span_context.span_id() && s.span_kind == SpanKind::Client
        })
        .count();
    assert_eq!(
        worker_db, 2,
        "the worker reads the article and inserts a notification"
    );
}

/// Every instrument of the app was exported.
fn metrics_are_exported(first: &Telemetry, metrics: &InMemoryMetricExporter) {
    first.force_flush();
    let exported = metrics.get_finished_metrics().unwrap();
    let names: Vec<String> = exported
        .iter()
        .flat_map(opentelemetry_sdk::metrics::data::ResourceMetrics::scope_metrics)
        .flat_map(opentelemetry_sdk::metrics::data::ScopeMetrics::metrics)
        .map(|m| m.name().to_string())
        .collect();
    for expected in [
        "http.server.request.duration",
        "app.auth.attempts",
        "app.articles.created",
        "app.job.duration",
        "app.jobs",
        "app.job.queue_latency",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
}
