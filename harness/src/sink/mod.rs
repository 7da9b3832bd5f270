//! The embedded OTLP sink: receives traces, metrics and logs over gRPC and HTTP/protobuf on
//! loopback ports and counts what arrived, so a run can check that telemetry was delivered. It
//! can also play a collector fault (see `fault`), so a run measures what a slow, failing or
//! absent collector does to the app.

pub mod fault;
mod gate;
mod grpc;
mod http;
pub mod stats;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use fault::{Fault, FaultState};
pub use stats::{SinkCounts, SinkStats, SpanRecord};

/// What every export handler shares: the counters and the request-level fault.
#[derive(Debug, Clone)]
struct Shared {
    stats: Arc<SinkStats>,
    fault: Arc<FaultState>,
}

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
    /// A collector fault to play (none: a healthy collector).
    pub fault: Option<Fault>,
}

impl Default for SinkOptions {
    fn default() -> Self {
        Self {
            grpc: SocketAddr::from(([127, 0, 0, 1], 0)),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            keep_spans: false,
            background: false,
            fault: None,
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
    /// Binds both ports and starts serving on the sink's own runtime.
    pub fn start(options: SinkOptions) -> anyhow::Result<Self> {
        let bind = |addr: SocketAddr, what: &str| {
            gate::Port::bind(addr, options.fault)
                .with_context(|| format!("binding the sink's {what} port {addr}"))
        };
        let grpc_port = bind(options.grpc, "gRPC")?;
        let http_port = bind(options.http, "HTTP")?;
        let grpc_addr = grpc_port.local_addr()?;
        let http_addr = http_port.local_addr()?;
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
        let shared = Shared {
            stats: stats.clone(),
            fault: Arc::new(FaultState::new(options.fault)),
        };
        let (stop, stopped) = watch::channel(false);
        let until = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let (grpc_tx, grpc_rx) = tokio::sync::mpsc::channel(64);
        let (http_tx, http_rx) = tokio::sync::mpsc::channel(64);
        let gate = gate::GateOptions {
            fault: options.fault,
            epoch: std::time::Instant::now(),
            reports: true,
        };
        let (grpc_shared, http_shared) = (shared.clone(), shared);
        let grpc_until = until(stopped.clone());
        let http_until = until(stopped.clone());
        let tasks = vec![
            runtime.spawn(gate::run(
                grpc_port,
                gate,
                stats.clone(),
                grpc_tx,
                stopped.clone(),
            )),
            runtime.spawn(gate::run(
                http_port,
                gate::GateOptions {
                    reports: false,
                    ..gate
                },
                stats.clone(),
                http_tx,
                stopped,
            )),
            runtime.spawn(async move {
                grpc::serve(gate::incoming(grpc_rx), grpc_shared, grpc_until).await
            }),
            runtime.spawn(async move {
                let listener = gate::GatedListener {
                    rx: http_rx,
                    addr: http_addr,
                };
                http::serve(listener, http_shared, http_until).await
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
    if let Err(e) = crate::runner::placement::idle_priority() {
        log::warn!("the sink's thread keeps normal priority: {e}");
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
