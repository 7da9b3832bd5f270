//! The target-app's telemetry pipelines (sampler, counting, masking, processors, the `tracing`
//! layers) around exporters that discard everything.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{BatchLogProcessor, LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::testing::trace::NoopSpanExporter;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SimpleSpanProcessor};
use target_app::telemetry::config::OtelConfig;
use target_app::telemetry::counting::{Counters, Counting, SignalTotals};
use target_app::telemetry::mask::MaskingLoggerProvider;
use target_app::telemetry::{batch_processor, subscriber, tracer_provider};
use tracing::Dispatch;

/// The samplers compared, as `(benchmark id, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG)`:
/// the `parentbased_*` forms the scenarios use (a root span goes to the inner sampler).
pub const SAMPLERS: [(&str, &str, Option<&str>); 4] = [
    ("always_off", "parentbased_always_off", None),
    ("ratio_1%", "parentbased_traceidratio", Some("0.01")),
    ("ratio_10%", "parentbased_traceidratio", Some("0.1")),
    ("always_on", "parentbased_always_on", None),
];

/// The app's configuration for one sampler, parsed by the app's own `OTEL_*` parser.
pub fn app_config(sampler: &str, arg: Option<&str>) -> OtelConfig {
    let mut env = vec![("OTEL_TRACES_SAMPLER", sampler)];
    if let Some(arg) = arg {
        env.push(("OTEL_TRACES_SAMPLER_ARG", arg));
    }
    OtelConfig::from_env(env.as_slice(), "bench")
        .expect("the benchmark's sampler settings are valid")
}

/// The app's configuration with `parentbased_always_on`.
pub fn always_on() -> OtelConfig {
    app_config("parentbased_always_on", None)
}

/// The span processor behind the app's counting and masking processors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processor {
    /// `SimpleSpanProcessor`: every span is exported on the thread that ends it.
    Simple,
    /// `BatchSpanProcessor` with the app's `OTEL_BSP_*` settings: a bounded queue and its own
    /// thread.
    Batch,
}

/// The app's resource attributes.
pub fn resource() -> Resource {
    Resource::builder()
        .with_service_name("bench")
        .with_attributes([
            opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            opentelemetry::KeyValue::new("process.pid", i64::from(std::process::id())),
        ])
        .build()
}

/// A tracer provider built by `target_app::telemetry::tracer_provider` (sampler, counting,
/// masking) around `processor` and a no-op exporter, with the app's counters.
#[derive(Debug)]
pub struct SpanPipeline {
    /// The provider.
    pub provider: SdkTracerProvider,
    /// Produced / exported / dropped spans.
    pub counters: Counters,
}

impl SpanPipeline {
    /// Builds the pipeline for `config`.
    pub fn new(config: &OtelConfig, processor: Processor) -> Self {
        let counters = Counters::default();
        let exporter = Counting::new(NoopSpanExporter::new(), counters.spans.clone());
        let provider = match processor {
            Processor::Simple => tracer_provider(
                config,
                resource(),
                SimpleSpanProcessor::new(exporter),
                &counters,
            ),
            Processor::Batch => tracer_provider(
                config,
                resource(),
                batch_processor(config, exporter),
                &counters,
            ),
        };
        Self { provider, counters }
    }

    /// The tracer the app's `tracing` layer uses.
    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer("target-app")
    }

    /// The app's `tracing` subscriber (`target_app::telemetry::subscriber`) with this pipeline
    /// for spans and no log bridge.
    pub fn dispatch(&self) -> Dispatch {
        subscriber(Some(self.tracer()), None)
    }

    /// The app's whole `tracing` subscriber, as the target-app runs it: spans to this pipeline,
    /// events to `logs`, warnings to stderr. Every layer with a filter of its own looks the span
    /// up on each enter and exit, so this is the stack whose enter/exit the app pays.
    pub fn app_dispatch(&self, logs: &LogPipeline) -> Dispatch {
        subscriber(Some(self.tracer()), Some(logs.masking()))
    }

    /// Shuts the provider down (flushing the batch queue) and returns the span totals.
    pub fn finish(self) -> SignalTotals {
        let _ = self.provider.shutdown();
        self.counters.spans.totals()
    }
}

/// The app's subscriber with telemetry disabled (`OTEL_SDK_DISABLED=true`): only the stderr
/// layer filtered at `warn`, so the app's INFO spans are disabled at their call sites.
pub fn sdk_off_dispatch() -> Dispatch {
    subscriber(None, None)
}

/// A log exporter that discards every batch.
#[derive(Debug, Default)]
pub struct NoopLogExporter;

impl LogExporter for NoopLogExporter {
    fn export(
        &self,
        _batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }
}

/// The app's log pipeline: `tracing` events -> OTLP log bridge -> masking logger -> batch log
/// processor -> counting no-op exporter.
#[derive(Debug)]
pub struct LogPipeline {
    /// The SDK logger provider.
    pub provider: SdkLoggerProvider,
    /// Produced / exported / dropped log records.
    pub counters: Counters,
}

impl Default for LogPipeline {
    fn default() -> Self {
        let counters = Counters::default();
        let processor =
            BatchLogProcessor::builder(Counting::new(NoopLogExporter, counters.logs.clone()))
                .build();
        let provider = SdkLoggerProvider::builder()
            .with_resource(resource())
            .with_log_processor(processor)
            .build();
        Self { provider, counters }
    }
}

impl LogPipeline {
    /// The masking logger provider the bridge writes to.
    pub fn masking(&self) -> MaskingLoggerProvider {
        MaskingLoggerProvider::new(self.provider.clone(), self.counters.logs.clone())
    }

    /// The app's `tracing` subscriber with this pipeline for events and no span layer.
    pub fn dispatch(&self) -> Dispatch {
        subscriber(None, Some(self.masking()))
    }

    /// Shuts the provider down (flushing the batch queue) and returns the log totals.
    pub fn finish(self) -> SignalTotals {
        let _ = self.provider.shutdown();
        self.counters.logs.totals()
    }
}

/// The app's meter provider: a periodic reader at the app's default interval (60 s, so it never
/// collects during a benchmark) in front of an in-memory exporter instead of OTLP.
pub fn meter_provider() -> SdkMeterProvider {
    let reader = PeriodicReader::builder(InMemoryMetricExporter::default())
        .with_interval(std::time::Duration::from_secs(60))
        .build();
    SdkMeterProvider::builder()
        .with_resource(resource())
        .with_reader(reader)
        .build()
}
