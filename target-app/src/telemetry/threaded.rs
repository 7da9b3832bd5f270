//! A span exporter that runs on a thread of its own, for the simple span processor.
//!
//! The simple processor exports each span synchronously on the thread that ends it, which here is
//! a tokio worker. Neither OTLP transport can run there: the blocking HTTP client panics inside a
//! runtime, and a tonic request waits for the runtime's own (blocked) workers. This wrapper keeps
//! the simple processor's cost model (the ending thread waits for the export to finish) while the
//! export itself runs on a dedicated thread with the runtime it needs.

use std::sync::mpsc;
use std::time::Duration;

use futures::channel::oneshot;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

enum Message {
    Export(Vec<SpanData>, oneshot::Sender<OTelSdkResult>),
    Shutdown(Duration, oneshot::Sender<OTelSdkResult>),
    SetResource(opentelemetry_sdk::Resource),
}

/// How the dedicated thread drives the inner exporter's futures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// A current-thread tokio runtime (tonic/gRPC).
    Tokio,
    /// A plain executor (the blocking HTTP client must not run inside a runtime).
    Plain,
}

/// See the module documentation.
#[derive(Debug)]
pub struct ThreadedSpanExporter {
    tx: mpsc::Sender<Message>,
}

impl ThreadedSpanExporter {
    /// Starts the thread and builds the inner exporter on it with `build`.
    pub fn spawn<E, F>(driver: Driver, build: F) -> anyhow::Result<Self>
    where
        E: SpanExporter + 'static,
        F: FnOnce() -> anyhow::Result<E> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Message>();
        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<()>>();
        std::thread::Builder::new()
            .name("otel-simple-export".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                let exporter = {
                    let _guard = (driver == Driver::Tokio).then(|| runtime.enter());
                    match build() {
                        Ok(e) => e,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let run = |fut: std::pin::Pin<
                    Box<dyn std::future::Future<Output = OTelSdkResult> + Send + '_>,
                >| match driver {
                    Driver::Tokio => runtime.block_on(fut),
                    Driver::Plain => futures::executor::block_on(fut),
                };
                let mut exporter = exporter;
                while let Ok(message) = rx.recv() {
                    match message {
                        Message::Export(batch, reply) => {
                            let _ = reply.send(run(Box::pin(exporter.export(batch))));
                        }
                        Message::SetResource(resource) => exporter.set_resource(&resource),
                        Message::Shutdown(timeout, reply) => {
                            let _ = reply.send(exporter.shutdown_with_timeout(timeout));
                            break;
                        }
                    }
                }
            })?;
        ready_rx
            .recv()
            .map_err(|_| anyhow::anyhow!("the span export thread exited during start-up"))??;
        Ok(Self { tx })
    }
}

impl SpanExporter for ThreadedSpanExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let (reply_tx, reply_rx) = oneshot::channel();
        let sent = self.tx.send(Message::Export(batch, reply_tx));
        async move {
            if sent.is_err() {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            reply_rx
                .await
                .unwrap_or_else(|_| Err(OTelSdkError::InternalFailure("export thread gone".into())))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let (reply_tx, reply_rx) = oneshot::channel();
        if self.tx.send(Message::Shutdown(timeout, reply_tx)).is_err() {
            return Ok(());
        }
        futures::executor::block_on(reply_rx).unwrap_or(Ok(()))
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        // Without this the exported spans carry no service.name.
        let _ = self.tx.send(Message::SetResource(resource.clone()));
    }
}
