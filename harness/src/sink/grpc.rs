//! OTLP/gRPC receiver (tonic).

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::Shared;
use super::fault::Refusal;
use super::stats::SinkStats;

/// Largest accepted request (tonic's default of 4 MiB is below what a large batch can reach).
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
struct Receiver(Shared);

impl Receiver {
    /// Plays the fault for one export; a refusal is counted and becomes the status answered.
    async fn admit(&self) -> Result<(), Status> {
        self.0.fault.admit().await.map_err(|r| {
            self.0.stats.record_refused();
            match r {
                Refusal::Unavailable => Status::unavailable("otelbench sink: fault error"),
                Refusal::Exhausted => Status::resource_exhausted("otelbench sink: fault reject"),
            }
        })
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.admit().await?;
        let body = request.into_inner();
        self.0.stats.record_traces(&body, body.encoded_len() as u64);
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.admit().await?;
        let body = request.into_inner();
        self.0
            .stats
            .record_metrics(&body, body.encoded_len() as u64);
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.admit().await?;
        let body = request.into_inner();
        self.0.stats.record_logs(&body, body.encoded_len() as u64);
        Ok(Response::new(ExportLogsServiceResponse::default()))
    }
}

/// tonic decodes a request before any handler runs and answers a body that is not protobuf with
/// INTERNAL. This layer turns that answer into INVALID_ARGUMENT (the client's fault, as OTLP
/// specifies) and counts the request as malformed. The handlers never fail, so an INTERNAL status
/// can only come from decoding.
#[derive(Debug, Clone)]
struct CountMalformed<S> {
    inner: S,
    stats: Arc<SinkStats>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for CountMalformed<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let stats = self.stats.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            let internal = response
                .headers()
                .get("grpc-status")
                .is_some_and(|v| v.as_bytes() == b"13");
            if internal {
                stats.record_malformed();
                response
                    .headers_mut()
                    .insert("grpc-status", http::HeaderValue::from_static("3"));
            }
            Ok(response)
        })
    }
}

/// Serves the three OTLP services on the connections of `incoming` until `shutdown` resolves.
/// A request that does not decode gets INVALID_ARGUMENT and is counted as malformed.
pub async fn serve(
    incoming: impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> + Send + 'static,
    shared: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let stats: Arc<SinkStats> = shared.stats.clone();
    let receiver = Receiver(shared);
    tonic::transport::Server::builder()
        .layer(tower::layer::layer_fn(move |inner| CountMalformed {
            inner,
            stats: stats.clone(),
        }))
        .add_service(
            TraceServiceServer::new(receiver.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            MetricsServiceServer::new(receiver.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            LogsServiceServer::new(receiver)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use prost::bytes::{Buf as _, BufMut as _};
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

    use crate::sink::{Sink, SinkOptions};

    /// Sends arbitrary bytes as a gRPC message.
    #[derive(Debug, Clone, Copy, Default)]
    struct Raw;

    impl Codec for Raw {
        type Encode = Vec<u8>;
        type Decode = Vec<u8>;
        type Encoder = Raw;
        type Decoder = Raw;
        fn encoder(&mut self) -> Raw {
            Raw
        }
        fn decoder(&mut self) -> Raw {
            Raw
        }
    }

    impl Encoder for Raw {
        type Item = Vec<u8>;
        type Error = tonic::Status;
        fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
            dst.put_slice(&item);
            Ok(())
        }
    }

    impl Decoder for Raw {
        type Item = Vec<u8>;
        type Error = tonic::Status;
        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
            Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
        }
    }

    async fn export(endpoint: String, body: Vec<u8>) -> Result<Vec<u8>, tonic::Status> {
        let channel = tonic::transport::Channel::from_shared(endpoint)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let path = http::uri::PathAndQuery::from_static(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        );
        grpc.unary(tonic::Request::new(body), path, Raw)
            .await
            .map(tonic::Response::into_inner)
    }

    #[tokio::test]
    async fn malformed_grpc_exports_get_invalid_argument_and_are_counted() {
        let sink = Sink::start(SinkOptions::default()).unwrap();
        let status = export(sink.grpc_endpoint(), vec![0xff, 0xff, 0xff])
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        assert_eq!(sink.stats().counts().malformed_requests, 1);
        // A well-formed (empty) export still succeeds and is counted as a request.
        export(sink.grpc_endpoint(), Vec::new()).await.unwrap();
        let counts = sink.stats().counts();
        assert_eq!((counts.malformed_requests, counts.export_requests), (1, 1));
        sink.stop().await.unwrap();
    }
}
