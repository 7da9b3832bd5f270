//! Every collector fault of the embedded sink, as an OTLP client sees it, over gRPC (tonic, the
//! generated OTLP client) and HTTP/protobuf: down, slow, error, reject, flap and blackhole.

use std::time::{Duration, Instant};

use harness::sink::{Fault, Sink, SinkOptions};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;

fn request(spans: u8) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        trace_id: vec![i + 1; 16],
                        span_id: vec![i + 1; 8],
                        name: "s".into(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn sink(fault: &str) -> Sink {
    Sink::start(SinkOptions {
        fault: Some(fault.parse::<Fault>().unwrap()),
        ..SinkOptions::default()
    })
    .unwrap()
}

/// One gRPC export on a fresh connection; the status code on failure.
async fn grpc(sink: &Sink, timeout: Duration) -> Result<(), tonic::Code> {
    let attempt = async {
        let mut client = TraceServiceClient::connect(sink.grpc_endpoint())
            .await
            .map_err(|_| tonic::Code::Unavailable)?;
        client
            .export(request(3))
            .await
            .map(|_| ())
            .map_err(|s| s.code())
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(Err(tonic::Code::DeadlineExceeded))
}

/// One HTTP export; the status, or the error's kind.
async fn http(sink: &Sink, timeout: Duration) -> Result<u16, String> {
    let client = reqwest::Client::builder().timeout(timeout).build().unwrap();
    client
        .post(format!("{}/v1/traces", sink.http_endpoint()))
        .header("content-type", "application/x-protobuf")
        .body(request(3).encode_to_vec())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| {
            if e.is_timeout() {
                "timeout".into()
            } else if e.is_connect() {
                "connect".into()
            } else {
                e.to_string()
            }
        })
}

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn down_refuses_every_connection() {
    let s = sink("down");
    assert_eq!(grpc(&s, T).await, Err(tonic::Code::Unavailable));
    assert_eq!(http(&s, T).await, Err("connect".into()));
    assert_eq!(s.stats().counts().export_requests, 0);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn slow_answers_every_export_after_the_delay() {
    let s = sink("slow:300ms");
    let start = Instant::now();
    assert_eq!(grpc(&s, T).await, Ok(()));
    assert!(start.elapsed() >= Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(http(&s, T).await, Ok(200));
    assert!(start.elapsed() >= Duration::from_millis(300));
    let c = s.stats().counts();
    assert_eq!((c.export_requests, c.spans_received), (2, 6));
    s.stop().await.unwrap();
}

#[tokio::test]
async fn error_refuses_its_share_and_counts_only_what_it_accepted() {
    let s = sink("error:0.5");
    let mut grpc_codes = Vec::new();
    for _ in 0..4 {
        grpc_codes.push(grpc(&s, T).await);
    }
    let mut http_codes = Vec::new();
    for _ in 0..4 {
        http_codes.push(http(&s, T).await);
    }
    let unavailable = Err(tonic::Code::Unavailable);
    assert_eq!(grpc_codes, [Ok(()), unavailable, Ok(()), unavailable]);
    assert_eq!(http_codes, [Ok(200), Ok(503), Ok(200), Ok(503)]);
    let c = s.stats().counts();
    assert_eq!(c.exports_refused, 4);
    assert_eq!(c.export_requests, 4);
    assert_eq!(c.spans_received, 12, "refused exports are not received");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn reject_answers_resource_exhausted_and_429() {
    let s = sink("reject");
    assert_eq!(grpc(&s, T).await, Err(tonic::Code::ResourceExhausted));
    assert_eq!(http(&s, T).await, Ok(429));
    let c = s.stats().counts();
    assert_eq!((c.exports_refused, c.spans_received), (2, 0));
    s.stop().await.unwrap();
}

#[tokio::test]
async fn blackhole_accepts_connections_and_never_answers() {
    let s = sink("blackhole");
    let short = Duration::from_millis(400);
    assert_eq!(grpc(&s, short).await, Err(tonic::Code::DeadlineExceeded));
    assert_eq!(http(&s, short).await, Err("timeout".into()));
    let c = s.stats().counts();
    assert!(c.connections_blackholed >= 2, "{c:?}");
    assert_eq!(c.export_requests, 0);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn flap_goes_down_cuts_connections_and_comes_back() {
    let s = sink("flap:600ms/600ms");
    let start = Instant::now();
    // Up: a kept-alive gRPC connection exports.
    let mut kept = TraceServiceClient::connect(s.grpc_endpoint())
        .await
        .unwrap();
    kept.export(request(1)).await.unwrap();
    assert_eq!(http(&s, T).await, Ok(200));
    // Down (600..1200 ms): new connections are refused and the kept one was cut.
    tokio::time::sleep_until((start + Duration::from_millis(800)).into()).await;
    assert_eq!(grpc(&s, T).await, Err(tonic::Code::Unavailable));
    assert_eq!(http(&s, T).await, Err("connect".into()));
    assert!(
        kept.export(request(1)).await.is_err(),
        "the live connection was cut"
    );
    // Up again (1200..1800 ms): exports are accepted, and the recovery is timed.
    tokio::time::sleep_until((start + Duration::from_millis(1400)).into()).await;
    assert_eq!(grpc(&s, T).await, Ok(()));
    assert_eq!(http(&s, T).await, Ok(200));
    let r = s.stats().recovery();
    assert_eq!((r.returns, r.recovered), (1, 1), "{r:?}");
    assert!(
        r.recovery_ms[0] >= 150.0 && r.recovery_ms[0] < 600.0,
        "the first export came about 200 ms after the return: {r:?}"
    );
    assert!(s.stats().counts().outages >= 1);
    s.stop().await.unwrap();
}
