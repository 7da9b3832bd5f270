//! Delivery accounting inside the target: how many spans and log records were produced, exported,
//! failed, and (by difference) dropped by a full queue. Printed at shutdown for the harness.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};
use serde::Serialize;

/// Counters of one signal.
#[derive(Debug, Default)]
pub struct SignalCounters {
    produced: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    export_calls: AtomicU64,
    failed_calls: AtomicU64,
}

/// A snapshot of [`SignalCounters`]; `dropped` is what was produced but neither exported nor
/// reported failed (the batch processor's queue was full, or shutdown timed out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SignalTotals {
    /// Items handed to the pipeline (spans ended while sampled, log records emitted).
    pub produced: u64,
    /// Items in exports that succeeded.
    pub exported: u64,
    /// Items in exports that failed.
    pub failed: u64,
    /// `produced - exported - failed`.
    pub dropped: u64,
    /// Export calls made.
    pub export_calls: u64,
    /// Export calls that failed.
    pub failed_calls: u64,
}

impl SignalCounters {
    /// Counts `n` items entering the pipeline.
    pub fn add_produced(&self, n: u64) {
        self.produced.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one export call of `n` items with its outcome.
    pub fn record_export(&self, n: u64, ok: bool) {
        self.export_calls.fetch_add(1, Ordering::Relaxed);
        if ok {
            self.exported.fetch_add(n, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(n, Ordering::Relaxed);
            self.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The current totals.
    pub fn totals(&self) -> SignalTotals {
        let produced = self.produced.load(Ordering::Relaxed);
        let exported = self.exported.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        SignalTotals {
            produced,
            exported,
            failed,
            dropped: produced.saturating_sub(exported + failed),
            export_calls: self.export_calls.load(Ordering::Relaxed),
            failed_calls: self.failed_calls.load(Ordering::Relaxed),
        }
    }
}

/// Counters for every signal of one process.
#[derive(Debug, Default)]
pub struct Counters {
    /// Spans.
    pub spans: Arc<SignalCounters>,
    /// Log records.
    pub logs: Arc<SignalCounters>,
    /// Metric exports (`produced` counts collection cycles).
    pub metrics: Arc<SignalCounters>,
}

/// Counts spans that reach the processor chain (sampled spans that ended).
#[derive(Debug)]
pub struct CountingSpanProcessor<P> {
    inner: P,
    counters: Arc<SignalCounters>,
}

impl<P> CountingSpanProcessor<P> {
    /// Wraps `inner`.
    pub fn new(inner: P, counters: Arc<SignalCounters>) -> Self {
        Self { inner, counters }
    }
}

/// The [`SpanProcessor`] methods other than `on_end`, passed straight to the `inner` processor
/// of a wrapper that only counts or changes spans as they end (this one and
/// [`super::mask::MaskingSpanProcessor`]).
macro_rules! forward_to_inner_processor {
    () => {
        fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
            self.inner.on_start(span, cx);
        }

        fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
            self.inner.force_flush()
        }

        fn shutdown_with_timeout(
            &self,
            timeout: std::time::Duration,
        ) -> opentelemetry_sdk::error::OTelSdkResult {
            self.inner.shutdown_with_timeout(timeout)
        }

        fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
            self.inner.set_resource(resource);
        }
    };
}
pub(crate) use forward_to_inner_processor;

impl<P: SpanProcessor> SpanProcessor for CountingSpanProcessor<P> {
    fn on_end(&self, span: SpanData) {
        self.counters.add_produced(1);
        self.inner.on_end(span);
    }

    forward_to_inner_processor!();
}

/// Counts exported and failed items of any exporter.
#[derive(Debug)]
pub struct Counting<E> {
    inner: E,
    counters: Arc<SignalCounters>,
}

impl<E> Counting<E> {
    /// Wraps `inner`.
    pub fn new(inner: E, counters: Arc<SignalCounters>) -> Self {
        Self { inner, counters }
    }
}

/// `export` (an export of `n` items by the inner exporter), recording its outcome in `counters`
/// when it completes.
fn count_export(
    counters: &Arc<SignalCounters>,
    n: u64,
    export: impl std::future::Future<Output = OTelSdkResult> + Send,
) -> impl std::future::Future<Output = OTelSdkResult> + Send {
    let counters = counters.clone();
    async move {
        let result = export.await;
        counters.record_export(n, result.is_ok());
        result
    }
}

impl<E: SpanExporter> SpanExporter for Counting<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        count_export(&self.counters, batch.len() as u64, self.inner.export(batch))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: LogExporter> LogExporter for Counting<E> {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.iter().count() as u64;
        count_export(&self.counters, n, self.inner.export(batch))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: PushMetricExporter> PushMetricExporter for Counting<E> {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.counters.add_produced(1);
        count_export(&self.counters, 1, self.inner.export(metrics))
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_is_what_was_neither_exported_nor_failed() {
        let c = SignalCounters::default();
        c.add_produced(10);
        c.record_export(6, true);
        c.record_export(1, false);
        let t = c.totals();
        assert_eq!((t.exported, t.failed, t.dropped), (6, 1, 3));
        assert_eq!((t.export_calls, t.failed_calls), (2, 1));
    }
}
