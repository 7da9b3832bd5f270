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
    /// Run the sink's thread at idle priority (`SCHED_IDLE`): it then only takes CPU time the
    /// load generator beside it does not need, so receiving a flood of spans cannot delay the
    /// generator's send times (which would add to the measured latency of exactly the variants
    /// that export most).
    pub background: bool,
}

impl Default for SinkOptions {
    fn default() -> Self {
        Self {
            grpc: SocketAddr::from(([127, 0, 0, 1], 0)),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            keep_spans: false,
            background: false,
        }
    }
}

/// Name of the sink's threads: the harness tells its CPU apart from the load generator's by it.
pub const THREAD_NAME: &str = "otelbench-sink";

/// A running sink. Dropping it without [`Sink::stop`] aborts its tasks.
///
/// It runs on a runtime of its own (one thread named [`THREAD_NAME`]), so the load generator's
/// CPU can be measured without the sink's: the generator does the same work in every variant,
/// which makes its CPU per request a measure of the machine's speed during the run.
#[derive(Debug)]
pub struct Sink {
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    stats: Arc<SinkStats>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Sink {
    /// Binds both listeners and starts serving on the sink's own runtime.
    pub fn start(options: SinkOptions) -> anyhow::Result<Self> {
        let bind = |addr: SocketAddr, what: &str| {
            std::net::TcpListener::bind(addr)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .with_context(|| format!("binding the sink's {what} port {addr}"))
        };
        let grpc_listener = bind(options.grpc, "gRPC")?;
        let http_listener = bind(options.http, "HTTP")?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(1)
            .thread_name(THREAD_NAME)
            .enable_all();
        if options.background {
            builder.on_thread_start(idle_priority);
        }
        let runtime = builder.build().context("starting the sink's runtime")?;
        let stats = Arc::new(if options.keep_spans {
            SinkStats::keeping_spans()
        } else {
            SinkStats::default()
        });
        let (stop, stopped) = watch::channel(false);
        let until = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let (grpc_stats, http_stats) = (stats.clone(), stats.clone());
        let grpc_until = until(stopped.clone());
        let http_until = until(stopped);
        let tasks = vec![
            runtime.spawn(async move {
                let l = tokio::net::TcpListener::from_std(grpc_listener)?;
                grpc::serve(l, grpc_stats, grpc_until).await
            }),
            runtime.spawn(async move {
                let l = tokio::net::TcpListener::from_std(http_listener)?;
                http::serve(l, http_stats, http_until).await
            }),
        ];
        Ok(Self {
            grpc_addr,
            http_addr,
            stats,
            stop,
            tasks,
            runtime: Some(runtime),
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
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        Ok(())
    }
}

/// Puts the calling thread in `SCHED_IDLE`. Where that is refused, the sink still works at normal
/// priority, which the run's scheduling-lag check then judges.
fn idle_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy, thread_native_id,
    };
    if let Err(e) = thread_priority::set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    ) {
        log::warn!("the sink's thread keeps normal priority: {e:?}");
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // Dropping a runtime inside async code would panic; let its thread go on its own.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
