//! The spans, carriers and batches the benchmarks use, shaped like the target-app's own.

use std::collections::HashMap;
use std::io::Write as _;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer, SimpleSpanProcessor, SpanData};
use prost::Message as _;
use target_app::telemetry::counting::Counters;
use target_app::telemetry::tracer_provider;

use crate::pipeline::{always_on, resource};

/// The SQL text of a typical query span.
pub const SQL: &str =
    "SELECT id, slug, title, body, author_id, favorites, created_at FROM articles WHERE slug = $1";

/// A database client span exactly as `target_app::db::Db::span` creates it (four attributes,
/// plus the name and kind fields that tracing-opentelemetry turns into the span's name and kind).
pub fn db_query_span() -> tracing::Span {
    let (operation, table) = ("SELECT", "articles");
    tracing::info_span!(
        target: "target_app::db",
        "db.query",
        otel.name = %format_args!("{operation} {table}"),
        otel.kind = "client",
        db.system.name = "sqlite",
        db.operation.name = operation,
        db.collection.name = table,
        db.query.text = SQL,
    )
}

/// The same span as [`db_query_span`] through the OpenTelemetry API directly.
pub fn db_query_api(tracer: &SdkTracer) {
    let (operation, table) = ("SELECT", "articles");
    let mut span = tracer
        .span_builder(format!("{operation} {table}"))
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("db.system.name", "sqlite"),
            KeyValue::new("db.operation.name", operation),
            KeyValue::new("db.collection.name", table),
            KeyValue::new("db.query.text", SQL),
        ])
        .start(tracer);
    span.end();
}

/// An HTTP server span as `target_app::telemetry::http::server_span` creates it (the fields it
/// records after the response included).
pub fn http_server_span(route: &str, path: &str) -> tracing::Span {
    let span = tracing::info_span!(
        target: "target_app::telemetry::http",
        "http.server",
        otel.name = %format_args!("GET {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = "GET",
        http.route = %route,
        url.path = %path,
        url.scheme = "http",
        network.protocol.version = "HTTP/1.1",
        user_agent.original = "otelbench",
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    span.record("http.response.status_code", 200_i64);
    span
}

/// `n` finished spans as the app produces them at 100% sampling: requests of one server span
/// with three database spans inside (the quick scenario measured 3.85 spans per request), through
/// the app's pipeline (so already masked), collected in memory.
pub fn app_spans(n: usize) -> Vec<SpanData> {
    let exporter = InMemorySpanExporter::default();
    let counters = Counters::default();
    let provider = tracer_provider(
        &always_on(),
        resource(),
        SimpleSpanProcessor::new(exporter.clone()),
        &counters,
    );
    let pipeline = crate::pipeline::SpanPipeline { provider, counters };
    let dispatch = pipeline.dispatch();
    tracing::dispatcher::with_default(&dispatch, || {
        let mut made = 0;
        let mut request = 0;
        while made < n {
            let path = format!("/api/articles/article-{request}");
            let server = http_server_span("/api/articles/{slug}", &path);
            made += 1;
            let _entered = server.enter();
            for _ in 0..3 {
                if made < n {
                    drop(db_query_span());
                    made += 1;
                }
            }
            request += 1;
        }
    });
    // Read before shutting down: shutting the in-memory exporter down empties it.
    let spans = exporter
        .get_finished_spans()
        .expect("the in-memory exporter holds the spans");
    let _ = pipeline.finish();
    assert_eq!(spans.len(), n, "every span reached the exporter");
    spans
}

/// The OTLP protobuf body for `spans`, as opentelemetry-otlp builds it (group by resource and
/// scope, then `ExportTraceServiceRequest::encode_to_vec`).
pub fn encode_otlp(spans: Vec<SpanData>, resource: &ResourceAttributesWithSchema) -> Vec<u8> {
    let resource_spans = group_spans_by_resource_and_scope(spans, resource);
    ExportTraceServiceRequest { resource_spans }.encode_to_vec()
}

/// Gzip at the default level, as the OTLP exporters compress with
/// `OTEL_EXPORTER_OTLP_COMPRESSION=gzip`.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(body)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// The OTLP resource of the app's pipeline.
pub fn otlp_resource() -> ResourceAttributesWithSchema {
    (&resource()).into()
}

/// Job metadata carrying a sampled W3C trace context, as the web process enqueues it.
pub fn job_carrier() -> HashMap<String, String> {
    HashMap::from([(
        "traceparent".to_string(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
    )])
}
