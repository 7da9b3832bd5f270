//! W3C trace context across HTTP requests and jobs.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Reads trace headers from an HTTP request.
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct MapInjector<'a>(&'a mut HashMap<String, String>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

struct MapExtractor<'a, S>(&'a HashMap<String, String, S>);

impl<S: std::hash::BuildHasher> Extractor for MapExtractor<'_, S> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The current span's context as W3C headers (`traceparent`, `tracestate`); empty when
/// telemetry is disabled (the global propagator is then a no-op).
pub fn inject_current(span: &tracing::Span) -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    let cx = span.context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut MapInjector(&mut carrier));
    });
    carrier
}

/// Makes `span` a child of the context carried in `carrier` (a job's metadata).
pub fn set_parent_from_map<S: std::hash::BuildHasher>(
    span: &tracing::Span,
    carrier: &HashMap<String, String, S>,
) {
    if carrier.is_empty() {
        return;
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapExtractor(carrier)));
    let _ = span.set_parent(parent);
}

/// Makes `span` a child of the context in an incoming request's headers, if any.
pub fn set_parent_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let _ = span.set_parent(parent);
}

/// The trace id of `span` as 32 hex digits, or `None` when there is no valid trace (telemetry
/// disabled).
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
