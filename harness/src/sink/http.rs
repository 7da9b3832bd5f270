//! OTLP/HTTP receiver (binary protobuf, optionally gzip) on `/v1/traces`, `/v1/metrics`,
//! `/v1/logs`. Malformed bodies get 400 and are counted.

use std::io::Read as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use super::Shared;
use super::fault::{FaultState, Refusal};
use super::stats::SinkStats;

/// The largest body accepted, as sent and once decompressed: 16 MiB, four times tonic's
/// default gRPC message limit and far above an OTLP batch (512 spans are a few hundred KB).
/// A request costs the sink at most twice this in memory; a gzip body that inflates past it
/// (a decompression bomb) is refused, never inflated further.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

fn decode<T: Message + Default>(headers: &HeaderMap, body: &Bytes) -> Result<T, String> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if gzip {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(body.as_ref())
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(|e| format!("gzip body does not decompress: {e}"))?;
        if raw.len() > MAX_BODY_BYTES {
            return Err(format!(
                "gzip body inflates past {} MiB (refused: a decompression bomb, or a batch too large)",
                MAX_BODY_BYTES / (1024 * 1024)
            ));
        }
        T::decode(raw.as_slice()).map_err(|e| format!("protobuf body does not decode: {e}"))
    } else {
        T::decode(body.as_ref()).map_err(|e| format!("protobuf body does not decode: {e}"))
    }
}

fn protobuf(message: &impl Message) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        message.encode_to_vec(),
    )
        .into_response()
}

fn malformed(stats: &SinkStats, reason: String) -> Response {
    stats.record_malformed();
    (StatusCode::BAD_REQUEST, reason).into_response()
}

/// Plays the fault for one export; a refusal is counted and becomes the response.
async fn admit(shared: &Shared) -> Result<(), Response> {
    shared.fault.admit().await.map_err(|r| {
        shared.stats.record_refused();
        match r {
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "otelbench sink: fault error",
            )
                .into_response(),
            Refusal::Exhausted => (
                StatusCode::TOO_MANY_REQUESTS,
                "otelbench sink: fault reject",
            )
                .into_response(),
        }
    })
}

async fn traces(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let stats = &shared.stats;
    match decode::<ExportTraceServiceRequest>(&headers, &body) {
        Ok(request) => {
            if let Err(refused) = admit(&shared).await {
                return refused;
            }
            stats.record_traces(&request, body.len() as u64);
            protobuf(&ExportTraceServiceResponse::default())
        }
        Err(reason) => malformed(stats, reason),
    }
}

async fn metrics(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let stats = &shared.stats;
    match decode::<ExportMetricsServiceRequest>(&headers, &body) {
        Ok(request) => {
            if let Err(refused) = admit(&shared).await {
                return refused;
            }
            stats.record_metrics(&request, body.len() as u64);
            protobuf(&ExportMetricsServiceResponse::default())
        }
        Err(reason) => malformed(stats, reason),
    }
}

async fn logs(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let stats = &shared.stats;
    match decode::<ExportLogsServiceRequest>(&headers, &body) {
        Ok(request) => {
            if let Err(refused) = admit(&shared).await {
                return refused;
            }
            stats.record_logs(&request, body.len() as u64);
            protobuf(&ExportLogsServiceResponse::default())
        }
        Err(reason) => malformed(stats, reason),
    }
}

/// The HTTP receiver's routes, counting into `stats` and playing `fault`'s request-level part.
pub fn router(stats: Arc<SinkStats>, fault: Arc<FaultState>) -> Router {
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(metrics))
        .route("/v1/logs", post(logs))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Shared { stats, fault })
}

/// Serves the HTTP receiver on the gate's connections until `shutdown` resolves.
pub async fn serve(
    listener: super::gate::GatedListener,
    shared: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, router(shared.stats, shared.fault))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn gzip_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        h
    }

    #[test]
    fn a_decompression_bomb_is_refused_without_inflating_it_all() {
        // Regression for issue 19: 64 MiB were inflated per request. 32 MiB of zeros gzip to
        // about 32 KB.
        let bomb = Bytes::from(gzip(&vec![0_u8; 2 * MAX_BODY_BYTES]));
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let e = decode::<ExportTraceServiceRequest>(&gzip_headers(), &bomb).unwrap_err();
        assert!(e.contains("decompression bomb"), "{e}");
    }

    #[test]
    fn a_gzip_batch_within_the_bound_decodes() {
        let request = ExportTraceServiceRequest::default();
        let body = Bytes::from(gzip(&request.encode_to_vec()));
        assert_eq!(
            decode::<ExportTraceServiceRequest>(&gzip_headers(), &body).unwrap(),
            request
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1_000))]

        /// Any body, compressed or not, declared gzip or not, on any of the three paths: the
        /// receiver answers 200 or 400 and never panics (issue 19).
        #[test]
        fn any_body_gets_an_answer_not_a_panic(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4_096),
            path in proptest::sample::select(vec!["/v1/traces", "/v1/metrics", "/v1/logs"]),
            encoding in proptest::sample::select(vec!["", "gzip", "GZIP", "br"]),
            wrap in proptest::prelude::any::<bool>(),
        ) {
            let body = if wrap { gzip(&body) } else { body };
            let mut request = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-protobuf");
            if !encoding.is_empty() {
                request = request.header(header::CONTENT_ENCODING, encoding);
            }
            let request = request.body(Body::from(body)).unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let response = runtime
                .block_on(router(Arc::default(), Arc::default()).oneshot(request))
                .unwrap();
            proptest::prop_assert!(
                response.status() == StatusCode::OK || response.status() == StatusCode::BAD_REQUEST,
                "{}",
                response.status()
            );
        }
    }

    #[tokio::test]
    async fn malformed_bodies_get_400_and_are_counted() {
        let stats = Arc::new(SinkStats::default());
        let response = router(stats.clone(), Arc::default())
            .oneshot(
                Request::post("/v1/traces")
                    .body(Body::from(vec![0xff, 0xff, 0xff]))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(stats.counts().malformed_requests, 1);
        assert_eq!(stats.counts().export_requests, 0);
    }

    #[tokio::test]
    async fn gzip_bodies_are_decoded_and_bytes_counted_as_received() {
        let stats = Arc::new(SinkStats::default());
        let raw = ExportLogsServiceRequest::default().encode_to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw).unwrap();
        let compressed = gz.finish().unwrap();
        let len = compressed.len() as u64;
        let response = router(stats.clone(), Arc::default())
            .oneshot(
                Request::post("/v1/logs")
                    .header(header::CONTENT_ENCODING, "gzip")
                    .body(Body::from(compressed))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(stats.counts().export_requests, 1);
        assert_eq!(stats.counts().bytes_received, len);
    }
}
