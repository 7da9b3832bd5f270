//! What the sink received: counts, and an index of trace ids by the processes that sent them.
//!
//! A process is told apart by its role (the `otelbench.role` resource attribute the harness sets
//! through `OTEL_RESOURCE_ATTRIBUTES`), else by its `service.name`: a web and a worker that share
//! one service name still join.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::Serialize;

use crate::results::Recovery;

/// One received span, kept only when the sink is asked to keep spans (tests, debugging).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRecord {
    /// `service.name` of the span's resource.
    pub service: String,
    /// Span name.
    pub name: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, empty for a root span.
    pub parent_span_id: String,
    /// OTLP span kind number (1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub kind: i32,
    /// String attributes (other value types are rendered with `Debug`).
    pub attributes: HashMap<String, String>,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SinkCounts {
    /// Spans received.
    pub spans_received: u64,
    /// Metric data points received.
    pub metric_points_received: u64,
    /// Log records received.
    pub log_records_received: u64,
    /// Export requests accepted (all signals, both transports).
    pub export_requests: u64,
    /// Bytes of request payload: over HTTP as received (compressed when the client
    /// compressed); over gRPC the decoded message size (tonic decompresses before the handler).
    pub bytes_received: u64,
    /// Requests rejected as malformed.
    pub malformed_requests: u64,
    /// Distinct trace ids seen.
    pub traces: u64,
    /// Traces with spans from at least two processes (web and worker joined in one trace):
    /// two roles, or two service names where a process has no role.
    pub traces_complete: u64,
    /// Traces that hold a server span of the web role (of any process without a role): the
    /// requests that were sampled. A worker's own background traces (broker polling) are not.
    #[serde(default)]
    pub request_traces: u64,
    /// Producer spans (a job enqueued, as the sampled traces show it).
    #[serde(default)]
    pub producer_spans: u64,
    /// Consumer spans (a job run).
    #[serde(default)]
    pub consumer_spans: u64,
    /// Spans whose trace could not be indexed because [`MAX_TRACES`] traces already were (a
    /// long-lived `otelbench sink`); `traces` and `traces_complete` leave them out.
    #[serde(default)]
    pub spans_untracked: u64,
    /// Exports refused by a fault (`error`, `reject`): not received.
    pub exports_refused: u64,
    /// Connections swallowed by the `blackhole` fault.
    pub connections_blackholed: u64,
    /// Times a `flap` fault took the collector down.
    pub outages: u64,
}

/// Trace ids indexed at most, which bounds the index to about 100 MB (16-byte key, a small
/// vector of service indexes and the table's overhead, about 100 bytes each). A run at
/// 5,000 req/s for a minute needs 300,000.
pub const MAX_TRACES: usize = 1_000_000;

/// Distinct processes (roles or service names) told apart (indexes are `u16`); further ones
/// share the last index.
const MAX_SERVICES: usize = u16::MAX as usize;

/// The resource attribute naming the role (`web` or `worker`) of the process that sent a span.
pub const ROLE_ATTRIBUTE: &str = "otelbench.role";

/// OTLP span kinds.
const SERVER: i32 = 2;
const PRODUCER: i32 = 4;
const CONSUMER: i32 = 5;

/// What the index knows of one trace.
#[derive(Debug, Default)]
struct TraceEntry {
    /// The processes that sent spans in it (indexes into `Inner::processes`).
    processes: Vec<u16>,
    /// It holds a server span of the web role.
    request: bool,
}

#[derive(Debug, Default)]
struct Inner {
    counts: SinkCounts,
    /// Trace id -> what is known of it.
    traces: HashMap<[u8; 16], TraceEntry>,
    /// Interned process keys: `role:<role>` or `service:<service.name>`.
    processes: Vec<String>,
    spans: Vec<SpanRecord>,
    log_bodies: Vec<(String, String)>,
    /// A flapping collector's last return, while no export has been accepted since.
    awaiting_delivery: Option<Instant>,
    recovery: Recovery,
    /// Returns are not judged (before the target runs, after it stopped).
    recovery_paused: bool,
}

impl Inner {
    /// An export was accepted: count it, and close a pending recovery.
    fn accepted(&mut self, bytes: u64) {
        self.counts.export_requests += 1;
        self.counts.bytes_received += bytes;
        if let Some(back) = self.awaiting_delivery.take() {
            self.recovery.recovered += 1;
            self.recovery
                .recovery_ms
                .push(back.elapsed().as_secs_f64() * 1e3);
        }
    }
}

/// Shared, thread-safe statistics of one sink.
#[derive(Debug, Default)]
pub struct SinkStats {
    inner: Mutex<Inner>,
    keep_spans: bool,
    /// [`MAX_TRACES`] unless a test sets a smaller bound.
    max_traces: Option<usize>,
}

/// A string attribute of a resource.
fn resource_string(resource: Option<&Resource>, key: &str) -> Option<String> {
    resource
        .into_iter()
        .flat_map(|r| r.attributes.iter())
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Value::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
}

fn service_name(resource: Option<&Resource>) -> String {
    resource_string(resource, "service.name").unwrap_or_else(|| "unknown".to_string())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn render(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

impl SinkStats {
    /// Statistics that also keep every span and log body (for tests; memory grows with load).
    pub fn keeping_spans() -> Self {
        Self {
            keep_spans: true,
            ..Self::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a rejected request.
    pub fn record_malformed(&self) {
        self.lock().counts.malformed_requests += 1;
    }

    /// Counts an export refused by a fault.
    pub fn record_refused(&self) {
        self.lock().counts.exports_refused += 1;
    }

    /// Counts a connection swallowed by the `blackhole` fault.
    pub fn record_blackholed(&self) {
        self.lock().counts.connections_blackholed += 1;
    }

    /// A flapping collector went down.
    pub fn mark_down(&self) {
        self.lock().counts.outages += 1;
    }

    /// A flapping collector is listening again at `at` (the first up phase is not a return).
    pub fn mark_up(&self, at: Instant) {
        let mut inner = self.lock();
        if inner.counts.outages == 0 || inner.recovery_paused {
            return;
        }
        inner.recovery.returns += 1;
        inner.awaiting_delivery = Some(at);
    }

    /// Judge returns of a flapping collector (`true`) or not: only while a target runs is
    /// delivery expected after a return. Pausing drops a return still waiting for delivery.
    pub fn judge_returns(&self, on: bool) {
        let mut inner = self.lock();
        inner.recovery_paused = !on;
        if !on && inner.awaiting_delivery.take().is_some() {
            inner.recovery.returns -= 1;
        }
    }

    /// How delivery resumed after each return of a flapping collector.
    pub fn recovery(&self) -> Recovery {
        self.lock().recovery.clone()
    }

    /// Records an accepted trace export of `bytes` bytes.
    pub fn record_traces(&self, request: &ExportTraceServiceRequest, bytes: u64) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.accepted(bytes);
        for rs in &request.resource_spans {
            let service = service_name(rs.resource.as_ref());
            let role = resource_string(rs.resource.as_ref(), ROLE_ATTRIBUTE);
            // Server spans of this process are requests unless it is a role other than web.
            let serves_requests = role.as_deref().is_none_or(|r| r == "web");
            let key = role.map_or_else(|| format!("service:{service}"), |r| format!("role:{r}"));
            let index = if let Some(i) = inner.processes.iter().position(|s| *s == key) {
                i
            } else if inner.processes.len() < MAX_SERVICES {
                inner.processes.push(key);
                inner.processes.len() - 1
            } else {
                MAX_SERVICES - 1
            };
            let index = u16::try_from(index).unwrap_or(u16::MAX);
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    inner.counts.spans_received += 1;
                    match span.kind {
                        PRODUCER => inner.counts.producer_spans += 1,
                        CONSUMER => inner.counts.consumer_spans += 1,
                        _ => {}
                    }
                    let Ok(id) = <[u8; 16]>::try_from(span.trace_id.as_slice()) else {
                        continue;
                    };
                    let limit = self.max_traces.unwrap_or(MAX_TRACES);
                    if inner.traces.len() >= limit && !inner.traces.contains_key(&id) {
                        inner.counts.spans_untracked += 1;
                        continue;
                    }
                    let entry = inner.traces.entry(id).or_default();
                    if !entry.processes.contains(&index) {
                        entry.processes.push(index);
                        if entry.processes.len() == 2 {
                            inner.counts.traces_complete += 1;
                        }
                    }
                    if span.kind == SERVER && serves_requests && !entry.request {
                        entry.request = true;
                        inner.counts.request_traces += 1;
                    }
                    if self.keep_spans {
                        inner.spans.push(SpanRecord {
                            service: service.clone(),
                            name: span.name.clone(),
                            trace_id: hex(&span.trace_id),
                            span_id: hex(&span.span_id),
                            parent_span_id: hex(&span.parent_span_id),
                            kind: span.kind,
                            attributes: span
                                .attributes
                                .iter()
                                .map(|kv| (kv.key.clone(), render(kv.value.as_ref())))
                                .collect(),
                        });
                    }
                }
            }
        }
        inner.counts.traces = inner.traces.len() as u64;
    }

    /// Records an accepted metrics export.
    pub fn record_metrics(&self, request: &ExportMetricsServiceRequest, bytes: u64) {
        let points: usize = request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len(),
                Some(Data::Sum(s)) => s.data_points.len(),
                Some(Data::Histogram(h)) => h.data_points.len(),
                Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                Some(Data::Summary(s)) => s.data_points.len(),
                None => 0,
            })
            .sum();
        let mut inner = self.lock();
        inner.accepted(bytes);
        inner.counts.metric_points_received += points as u64;
    }

    /// Records an accepted logs export.
    pub fn record_logs(&self, request: &ExportLogsServiceRequest, bytes: u64) {
        let mut inner = self.lock();
        inner.accepted(bytes);
        for rl in &request.resource_logs {
            let service = service_name(rl.resource.as_ref());
            for sl in &rl.scope_logs {
                for record in &sl.log_records {
                    inner.counts.log_records_received += 1;
                    if self.keep_spans {
                        let mut text = render(record.body.as_ref());
                        for kv in &record.attributes {
                            let _ = write!(text, " {}={}", kv.key, render(kv.value.as_ref()));
                        }
                        let _ = write!(text, " trace_id={}", hex(&record.trace_id));
                        inner.log_bodies.push((service.clone(), text));
                    }
                }
            }
        }
    }

    /// The counters now.
    pub fn counts(&self) -> SinkCounts {
        self.lock().counts
    }

    /// Spans kept so far (empty unless built with [`SinkStats::keeping_spans`]).
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.lock().spans.clone()
    }

    /// Log records kept so far as `(service, "body key=value ... trace_id=...")`.
    pub fn logs(&self) -> Vec<(String, String)> {
        self.lock().log_bodies.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn request(service: &str, trace: u8, spans: usize) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue {
                            value: Some(Value::StringValue(service.into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: (0..spans)
                        .map(|i| Span {
                            trace_id: vec![trace; 16],
                            span_id: vec![i as u8 + 1; 8],
                            name: format!("s{i}"),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn recovery_is_timed_from_each_return_to_the_next_accepted_export() {
        let stats = SinkStats::default();
        let t0 = Instant::now();
        stats.mark_up(t0); // the first up phase is not a return
        stats.record_traces(&request("web", 1, 1), 10);
        assert_eq!(stats.recovery(), Recovery::default());
        stats.mark_down();
        stats.mark_up(Instant::now());
        std::thread::sleep(std::time::Duration::from_millis(20));
        stats.record_traces(&request("web", 2, 1), 10);
        stats.record_traces(&request("web", 3, 1), 10); // not a second recovery
        stats.mark_down();
        stats.mark_up(Instant::now()); // not delivered before the next outage
        stats.mark_down();
        stats.mark_up(Instant::now());
        let r = stats.recovery();
        assert_eq!((r.returns, r.recovered), (3, 1));
        assert_eq!(r.recovery_ms.len(), 1);
        assert!(r.recovery_ms[0] >= 20.0, "{:?}", r.recovery_ms);
        assert_eq!(stats.counts().outages, 3);
        // The target stopped: the pending return is not judged, nor later ones.
        stats.judge_returns(false);
        stats.mark_down();
        stats.mark_up(Instant::now());
        assert_eq!(stats.recovery().returns, 2);
    }

    /// Requests as odd as protobuf allows: ids of any length, a service name of another type,
    /// attributes without values.
    fn odd_request(
        ids: &[Vec<u8>],
        service: Option<&Value>,
        per: usize,
    ) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: ids
                .chunks(per.max(1))
                .map(|chunk| ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![KeyValue {
                            key: "service.name".into(),
                            value: service.map(|v| AnyValue {
                                value: Some(v.clone()),
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: chunk
                            .iter()
                            .map(|id| Span {
                                trace_id: id.clone(),
                                span_id: id.clone(),
                                parent_span_id: id.iter().rev().copied().collect(),
                                attributes: vec![KeyValue {
                                    key: "k".into(),
                                    value: None,
                                    ..Default::default()
                                }],
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .collect(),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1_000))]

        /// What the gRPC services hand to the statistics once prost has decoded a message: any
        /// bytes that decode, and requests as odd as protobuf allows, are counted without a
        /// panic (issue 19).
        #[test]
        fn any_decodable_export_is_counted_without_a_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2_048),
            ids in proptest::collection::vec(
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20), 0..40),
            int_service in proptest::prelude::any::<Option<i64>>(),
            per in 0_usize..8,
        ) {
            use prost::Message as _;
            let stats = SinkStats::keeping_spans();
            if let Ok(r) = ExportTraceServiceRequest::decode(bytes.as_slice()) {
                stats.record_traces(&r, bytes.len() as u64);
            }
            if let Ok(r) = ExportMetricsServiceRequest::decode(bytes.as_slice()) {
                stats.record_metrics(&r, bytes.len() as u64);
            }
            if let Ok(r) = ExportLogsServiceRequest::decode(bytes.as_slice()) {
                stats.record_logs(&r, bytes.len() as u64);
            }
            let before = stats.counts().spans_received;
            let service = int_service.map(Value::IntValue);
            stats.record_traces(&odd_request(&ids, service.as_ref(), per), 1);
            let c = stats.counts();
            proptest::prop_assert_eq!(c.spans_received, before + ids.len() as u64);
            proptest::prop_assert!(c.traces_complete <= c.traces);
        }
    }

    #[test]
    fn the_trace_index_stops_growing_at_its_bound() {
        // Regression for issue 19: the index grew without bound in a long-lived sink.
        let stats = SinkStats {
            max_traces: Some(2),
            ..SinkStats::default()
        };
        for trace in 1..=5 {
            stats.record_traces(&request("web", trace, 2), 10);
        }
        stats.record_traces(&request("worker", 1, 1), 10); // an indexed trace still joins
        let c = stats.counts();
        assert_eq!(c.traces, 2);
        assert_eq!(c.spans_untracked, 6);
        assert_eq!(c.traces_complete, 1);
        assert_eq!(c.spans_received, 11);
    }

    #[test]
    fn a_trace_is_complete_once_two_services_share_it() {
        let stats = SinkStats::keeping_spans();
        stats.record_traces(&request("web", 1, 3), 100);
        assert_eq!(stats.counts().traces_complete, 0);
        stats.record_traces(&request("worker", 1, 2), 50);
        stats.record_traces(&request("worker", 1, 1), 50);
        stats.record_traces(&request("web", 2, 1), 10);
        let c = stats.counts();
        assert_eq!(c.spans_received, 7);
        assert_eq!(c.traces, 2);
        assert_eq!(c.traces_complete, 1);
        assert_eq!(c.export_requests, 4);
        assert_eq!(c.bytes_received, 210);
        assert_eq!(stats.spans()[0].trace_id, "01".repeat(16));
        assert_eq!(stats.spans()[0].service, "web");
    }

    /// One export from a process with `service.name` = `service` and, optionally, a role: one
    /// span of each kind in `kinds`, all in trace `trace`.
    fn from_process(
        service: &str,
        role: Option<&str>,
        trace: u8,
        kinds: &[i32],
    ) -> ExportTraceServiceRequest {
        let mut request = request(service, trace, kinds.len());
        let rs = &mut request.resource_spans[0];
        if let Some(role) = role {
            rs.resource.as_mut().unwrap().attributes.push(KeyValue {
                key: ROLE_ATTRIBUTE.into(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue(role.into())),
                }),
                ..Default::default()
            });
        }
        for (span, kind) in rs.scope_spans[0].spans.iter_mut().zip(kinds) {
            span.kind = *kind;
        }
        request
    }

    #[test]
    fn web_and_worker_sharing_one_service_name_join_by_role() {
        // Regression for issue 14: one service name for both processes gave 0 joined traces.
        let stats = SinkStats::default();
        stats.record_traces(&from_process("app", Some("web"), 1, &[SERVER, PRODUCER]), 1);
        stats.record_traces(&from_process("app", Some("worker"), 1, &[CONSUMER, 1]), 1);
        stats.record_traces(&from_process("app", Some("web"), 2, &[SERVER]), 1);
        let c = stats.counts();
        assert_eq!((c.traces, c.traces_complete), (2, 1));
        assert_eq!((c.producer_spans, c.consumer_spans), (1, 1));
        // Without roles, one service name is one process: nothing joins.
        let untagged = SinkStats::default();
        untagged.record_traces(&from_process("app", None, 1, &[SERVER]), 1);
        untagged.record_traces(&from_process("app", None, 1, &[CONSUMER]), 1);
        assert_eq!(untagged.counts().traces_complete, 0);
    }

    #[test]
    fn only_traces_with_a_web_server_span_are_requests() {
        // Regression for issue 14: a worker's broker polling starts traces of its own, which made
        // the observed sampling ratio 1.40 at 100%.
        let stats = SinkStats::default();
        stats.record_traces(
            &from_process("app", Some("web"), 1, &[SERVER, 1, SERVER]),
            1,
        );
        stats.record_traces(&from_process("app", Some("web"), 1, &[SERVER]), 1);
        for trace in 2..=5 {
            stats.record_traces(&from_process("app", Some("worker"), trace, &[3]), 1);
        }
        stats.record_traces(&from_process("app", Some("worker"), 6, &[SERVER]), 1);
        stats.record_traces(&from_process("app", Some("web"), 7, &[1]), 1);
        let c = stats.counts();
        assert_eq!(c.traces, 7);
        assert_eq!(c.request_traces, 1, "one request, counted once");
        // A process without a role serves requests (a sink used on its own).
        stats.record_traces(&from_process("other", None, 8, &[SERVER]), 1);
        assert_eq!(stats.counts().request_traces, 2);
    }
}
