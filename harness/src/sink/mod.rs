//! The embedded OTLP sink: receives traces, metrics and logs over gRPC and HTTP/protobuf on
//! loopback ports and counts what arrived, so a run can check that telemetry was delivered.

mod grpc;
mod http;
pub mod stats;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use stats::{SinkCounts, SinkStats, SpanRecord};

/// Where the sink listens (port 0 picks a free port).
#[derive(Debug, Clone, Copy)]
pub struct SinkOptions {
    /// gRPC address.
    pub grpc: SocketAddr,
    /// HTTP address.
    pub http: SocketAddr,
    /// Keep every span and log record (tests; memory grows with load).
    pub keep_spans: bool,
}

impl Default for SinkOptions {
    fn default() -> Self {
        Self {
            grpc: SocketAddr::from(([127, 0, 0, 1], 0)),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            keep_spans: false,
        }
    }
}

/// A running sink. Dropping it without [`Sink::stop`] aborts its tasks.
#[derive(Debug)]
pub struct Sink {
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    stats: Arc<SinkStats>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
}

impl Sink {
    /// Binds both listeners and starts serving. Must run inside a tokio runtime.
    pub async fn start(options: SinkOptions) -> anyhow::Result<Self> {
        let grpc_listener = tokio::net::TcpListener::bind(options.grpc)
            .await
            .with_context(|| format!("binding the sink's gRPC port {}", options.grpc))?;
        let http_listener = tokio::net::TcpListener::bind(options.http)
            .await
            .with_context(|| format!("binding the sink's HTTP port {}", options.http))?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;
        let stats = Arc::new(if options.keep_spans {
            SinkStats::keeping_spans()
        } else {
            SinkStats::default()
        });
        let (stop, stopped) = watch::channel(false);
        let until = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let tasks = vec![
            tokio::spawn(grpc::serve(
                grpc_listener,
                stats.clone(),
                until(stopped.clone()),
            )),
            tokio::spawn(http::serve(http_listener, stats.clone(), until(stopped))),
        ];
        Ok(Self {
            grpc_addr,
            http_addr,
            stats,
            stop,
            tasks,
        })
    }

    /// The gRPC endpoint URL, e.g. `http://127.0.0.1:43117`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The HTTP base endpoint URL (exporters append `/v1/<signal>`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// What was received so far.
    pub fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }

    /// Stops both receivers and waits for them.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.await.context("sink task panicked")??;
        }
        Ok(())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
