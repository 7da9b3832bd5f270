//! Telemetry: one pipeline per process, configured only by `OTEL_*` variables.
//!
//! Data flow: `tracing` spans -> tracing-opentelemetry -> counting -> masking -> batch or simple
//! processor -> counting exporter -> OTLP (gRPC or HTTP). `tracing` events -> masking logger ->
//! batch log processor -> counting exporter -> OTLP. Metrics: instruments -> periodic reader ->
//! counting exporter -> OTLP. With `OTEL_SDK_DISABLED=true` none of this exists: only warnings go
//! to stderr, and the app's `tracing` spans are disabled at their call sites.

pub mod config;
pub mod counting;
pub mod http;
pub mod mask;
pub mod metrics;
pub mod propagation;
pub mod threaded;

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{BatchLogProcessor, InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, InMemorySpanExporter, Sampler, SdkTracerProvider,
    SimpleSpanProcessor, SpanExporter, SpanProcessor,
};
use serde::Serialize;
use tracing_subscriber::filter::{FilterFn, LevelFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use self::config::{ExporterKind, OtelConfig, OtlpProtocol, ProcessorKind, SamplerConfig};
use self::counting::{Counters, Counting, CountingSpanProcessor, SignalTotals};
use self::mask::{MaskingLoggerProvider, MaskingSpanProcessor};
use self::threaded::{Driver, ThreadedSpanExporter};

/// The crate whose spans and events are exported (other crates' `tracing` output is not).
const APP_TARGET: &str = "target_app";

/// In-memory exporters used instead of OTLP by tests.
#[derive(Debug, Clone, Default)]
pub struct TestExporters {
    /// Receives spans (through the simple processor, so they appear as soon as they end).
    pub spans: Option<InMemorySpanExporter>,
    /// Receives log records.
    pub logs: Option<InMemoryLogExporter>,
    /// Receives metrics.
    pub metrics: Option<InMemoryMetricExporter>,
}

/// One process's telemetry pipeline.
pub struct Telemetry {
    config: OtelConfig,
    tracer_provider: Option<SdkTracerProvider>,
    logger_provider: Option<SdkLoggerProvider>,
    meter_provider: Option<SdkMeterProvider>,
    counters: Counters,
    dispatch: tracing::Dispatch,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How long shutting telemetry down may take in all: what a healthy collector needs to take the
/// last batches, and no more than the caller's patience (otelbench waits 15 s before SIGKILL).
pub const SHUTDOWN_BUDGET: Duration = Duration::from_secs(6);

/// What the pipeline handled over the process's life, printed at shutdown.
#[derive(Debug, Clone, Serialize)]
pub struct TelemetryTotals {
    /// `OTEL_SERVICE_NAME`.
    pub service: String,
    /// False when `OTEL_SDK_DISABLED=true`.
    pub enabled: bool,
    /// Spans.
    pub spans: SignalTotals,
    /// Log records.
    pub logs: SignalTotals,
    /// Metric export cycles.
    pub metrics: SignalTotals,
    /// Errors reported by the providers' shutdown, in shutdown order.
    pub shutdown_errors: Vec<String>,
}

impl Telemetry {
    /// Builds the pipeline described by `config`. Must be called inside a tokio runtime (the
    /// gRPC exporter binds to it) but not on a runtime worker thread (the blocking HTTP client
    /// panics there): use `spawn_blocking`, or call it from `main` after `Runtime::enter`.
    pub fn build(config: OtelConfig, test: &TestExporters) -> anyhow::Result<Self> {
        let counters = Counters::default();
        if config.disabled {
            return Ok(Self::assemble(config, None, None, None, counters));
        }
        let resource = resource(&config);
        let tracer_provider = traces(&config, test, &resource, &counters)?;
        let logger_provider = logs(&config, test, &resource, &counters)?;
        let meter_provider = metrics(&config, test, resource, &counters)?;
        Ok(Self::assemble(
            config,
            tracer_provider,
            logger_provider,
            meter_provider,
            counters,
        ))
    }

    /// The pipeline of these providers (none when disabled), with the `tracing` subscriber that
    /// feeds them.
    fn assemble(
        config: OtelConfig,
        tracer_provider: Option<SdkTracerProvider>,
        logger_provider: Option<SdkLoggerProvider>,
        meter_provider: Option<SdkMeterProvider>,
        counters: Counters,
    ) -> Self {
        let dispatch = subscriber(
            tracer_provider.as_ref().map(|p| p.tracer("target-app")),
            logger_provider
                .as_ref()
                .map(|p| MaskingLoggerProvider::new(p.clone(), counters.logs.clone())),
        );
        Self {
            config,
            tracer_provider,
            logger_provider,
            meter_provider,
            counters,
            dispatch,
        }
    }

    /// True when the SDK is enabled (at least potentially producing telemetry).
    pub fn enabled(&self) -> bool {
        !self.config.disabled
    }

    /// The configuration this pipeline was built from.
    pub fn config(&self) -> &OtelConfig {
        &self.config
    }

    /// The `tracing` dispatcher that feeds this pipeline.
    pub fn dispatch(&self) -> &tracing::Dispatch {
        &self.dispatch
    }

    /// A meter for the app's instruments (a no-op meter when metrics are off).
    pub fn meter(&self) -> Meter {
        match &self.meter_provider {
            Some(provider) => provider.meter("target-app"),
            None => opentelemetry::global::meter_provider().meter("target-app"),
        }
    }

    /// Forces pending spans, logs and metrics out (used by tests).
    pub fn force_flush(&self) {
        if let Some(p) = &self.tracer_provider {
            let _ = p.force_flush();
        }
        if let Some(p) = &self.logger_provider {
            let _ = p.force_flush();
        }
        if let Some(p) = &self.meter_provider {
            let _ = p.force_flush();
        }
    }

    /// Flushes and shuts the providers down in a fixed order (traces, logs, metrics), collecting
    /// every error, and returns the delivery totals. The three share one budget
    /// ([`SHUTDOWN_BUDGET`]), so a collector that never answers cannot hold the process for
    /// three export time-outs. Blocking: call from `spawn_blocking`.
    pub fn shutdown(&self) -> TelemetryTotals {
        let mut errors = Vec::new();
        let deadline = std::time::Instant::now() + SHUTDOWN_BUDGET;
        // Whatever is left of the budget, and never less than a moment to hand over a batch.
        let left = || {
            deadline
                .saturating_duration_since(std::time::Instant::now())
                .max(Duration::from_millis(100))
        };
        if let Some(p) = &self.tracer_provider
            && let Err(e) = p.shutdown_with_timeout(left())
        {
            errors.push(format!("traces: {e}"));
        }
        if let Some(p) = &self.logger_provider
            && let Err(e) = p.shutdown_with_timeout(left())
        {
            errors.push(format!("logs: {e}"));
        }
        if let Some(p) = &self.meter_provider
            && let Err(e) = p.shutdown_with_timeout(left())
        {
            errors.push(format!("metrics: {e}"));
        }
        self.totals(errors)
    }

    /// The delivery totals so far.
    pub fn totals(&self, shutdown_errors: Vec<String>) -> TelemetryTotals {
        TelemetryTotals {
            service: self.config.service_name.clone(),
            enabled: self.enabled(),
            spans: self.counters.spans.totals(),
            logs: self.counters.logs.totals(),
            metrics: self.counters.metrics.totals(),
            shutdown_errors,
        }
    }
}

static GLOBAL: OnceLock<Telemetry> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// Initialises the process-wide pipeline once. Later calls return the first pipeline and ignore
/// their arguments: instrumenting twice would double every span (the seed's "instrument once").
pub fn init_global(
    build: impl FnOnce() -> anyhow::Result<Telemetry>,
) -> anyhow::Result<&'static Telemetry> {
    let _guard = INIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(existing) = GLOBAL.get() {
        return Ok(existing);
    }
    let telemetry = build()?;
    tracing::dispatcher::set_global_default(telemetry.dispatch.clone())
        .context("another tracing subscriber is already installed in this process")?;
    if telemetry.enabled() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    }
    Ok(GLOBAL.get_or_init(|| telemetry))
}

/// The app's `tracing` subscriber: the app's spans to `tracer` (tracing-opentelemetry), its
/// events to `logs` (the OTLP log bridge), and warnings to stderr. Without a tracer and a logger
/// (`OTEL_SDK_DISABLED=true`) only the stderr layer is left, filtered at `warn`, so the app's
/// INFO spans are disabled at their call sites. Public so the benches in `benches/` measure this
/// very stack.
pub fn subscriber(
    tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
    logs: Option<MaskingLoggerProvider>,
) -> tracing::Dispatch {
    // Each layer's filter is off when the layer is: a bare `None` layer would answer "always
    // interested" for every call site, making every span and event of every crate (hyper's and
    // sqlx's TRACE ones included) ask the filters on each call. The level hints let `tracing`
    // skip the app's DEBUG and TRACE call sites, and everyone else's, before any filter runs.
    let (spans_on, logs_on) = (tracer.is_some(), logs.is_some());
    let spans_layer = tracer
        .map(|tracer| tracing_opentelemetry::layer().with_tracer(tracer))
        .with_filter(app_filter(move |m| spans_on && m.is_span(), spans_on));
    let logs_layer = logs
        .map(|masking| {
            opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(&masking)
        })
        .with_filter(app_filter(move |m| logs_on && m.is_event(), logs_on));
    tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(spans_layer)
            .with(logs_layer)
            .with(stderr_layer()),
    )
}

/// A filter for the app's own spans or events (`kind`) at INFO or above, or for nothing when
/// `on` is false.
fn app_filter(
    kind: impl Fn(&tracing::Metadata<'_>) -> bool,
    on: bool,
) -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    let hint = if on {
        LevelFilter::INFO
    } else {
        LevelFilter::OFF
    };
    filter_fn(move |m| kind(m) && is_app(m)).with_max_level_hint(hint)
}

/// True for the app's own spans and events at INFO or above.
fn is_app(meta: &tracing::Metadata<'_>) -> bool {
    meta.target().starts_with(APP_TARGET) && *meta.level() <= tracing::Level::INFO
}

/// Warnings and lifecycle messages on stderr (`RUST_LOG` overrides).
fn stderr_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,target_app::lifecycle=info"));
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(filter)
}

/// The resource of every signal: the service name, version and process id.
fn resource(config: &OtelConfig) -> Resource {
    Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("process.pid", i64::from(std::process::id())),
        ])
        .build()
}

/// The tracer provider: a test exporter (simple processor) if given, else OTLP unless
/// `OTEL_TRACES_EXPORTER=none`.
fn traces(
    config: &OtelConfig,
    test: &TestExporters,
    resource: &Resource,
    counters: &Counters,
) -> anyhow::Result<Option<SdkTracerProvider>> {
    Ok(match (&test.spans, config.traces) {
        (Some(exporter), _) => Some(tracer_provider(
            config,
            resource.clone(),
            SimpleSpanProcessor::new(Counting::new(exporter.clone(), counters.spans.clone())),
            counters,
        )),
        (None, ExporterKind::Otlp) => {
            Some(otlp_tracer_provider(config, resource.clone(), counters)?)
        }
        (None, ExporterKind::None) => None,
    })
}

/// The logger provider: a test exporter (simple processor) if given, else OTLP through the
/// batch log processor unless `OTEL_LOGS_EXPORTER=none`.
fn logs(
    config: &OtelConfig,
    test: &TestExporters,
    resource: &Resource,
    counters: &Counters,
) -> anyhow::Result<Option<SdkLoggerProvider>> {
    Ok(match (&test.logs, config.logs) {
        (Some(exporter), _) => Some(
            SdkLoggerProvider::builder()
                .with_resource(resource.clone())
                .with_simple_exporter(Counting::new(exporter.clone(), counters.logs.clone()))
                .build(),
        ),
        (None, ExporterKind::Otlp) => {
            let exporter = otlp_log_exporter(config)?;
            let processor =
                BatchLogProcessor::builder(Counting::new(exporter, counters.logs.clone())).build();
            Some(
                SdkLoggerProvider::builder()
                    .with_resource(resource.clone())
                    .with_log_processor(processor)
                    .build(),
            )
        }
        (None, ExporterKind::None) => None,
    })
}

/// The meter provider: a test exporter if given, else OTLP unless `OTEL_METRICS_EXPORTER=none`;
/// either way read every `OTEL_METRIC_EXPORT_INTERVAL`.
fn metrics(
    config: &OtelConfig,
    test: &TestExporters,
    resource: Resource,
    counters: &Counters,
) -> anyhow::Result<Option<SdkMeterProvider>> {
    Ok(match (&test.metrics, config.metrics) {
        (Some(exporter), _) => Some(meter_provider(
            resource,
            Counting::new(exporter.clone(), counters.metrics.clone()),
            config.metric_export_interval,
        )),
        (None, ExporterKind::Otlp) => Some(meter_provider(
            resource,
            Counting::new(otlp_metric_exporter(config)?, counters.metrics.clone()),
            config.metric_export_interval,
        )),
        (None, ExporterKind::None) => None,
    })
}

fn sampler(config: &SamplerConfig) -> Sampler {
    match config {
        SamplerConfig::AlwaysOn => Sampler::AlwaysOn,
        SamplerConfig::AlwaysOff => Sampler::AlwaysOff,
        SamplerConfig::TraceIdRatio(r) => Sampler::TraceIdRatioBased(*r),
        SamplerConfig::ParentBased(inner) => Sampler::ParentBased(Box::new(sampler(inner))),
    }
}

/// The app's tracer provider around `processor`: the configured sampler, then counting and
/// masking of every ended span before `processor` sees it (public for the benches in `benches/`).
pub fn tracer_provider(
    config: &OtelConfig,
    resource: Resource,
    processor: impl SpanProcessor + 'static,
    counters: &Counters,
) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_resource(resource)
        .with_sampler(sampler(&config.sampler))
        .with_span_processor(CountingSpanProcessor::new(
            MaskingSpanProcessor::new(processor),
            counters.spans.clone(),
        ))
        .build()
}

/// The batch span processor with the configured `OTEL_BSP_*` settings around `exporter`
/// (public for the benches in `benches/`).
pub fn batch_processor(
    config: &OtelConfig,
    exporter: impl SpanExporter + 'static,
) -> BatchSpanProcessor {
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(config.batch.max_queue_size)
        .with_scheduled_delay(config.batch.schedule_delay)
        .with_max_export_batch_size(config.batch.max_export_batch_size)
        .build();
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch)
        .build()
}

fn otlp_tracer_provider(
    config: &OtelConfig,
    resource: Resource,
    counters: &Counters,
) -> anyhow::Result<SdkTracerProvider> {
    let exported = counters.spans.clone();
    Ok(match config.processor {
        ProcessorKind::Batch => {
            let exporter = Counting::new(otlp_span_exporter(config)?, exported);
            tracer_provider(
                config,
                resource,
                batch_processor(config, exporter),
                counters,
            )
        }
        ProcessorKind::Simple => {
            let driver = match config.protocol {
                OtlpProtocol::Grpc => Driver::Tokio,
                OtlpProtocol::HttpProtobuf => Driver::Plain,
            };
            let thread_config = config.clone();
            let exporter =
                ThreadedSpanExporter::spawn(driver, move || otlp_span_exporter(&thread_config))?;
            let processor = SimpleSpanProcessor::new(Counting::new(exporter, exported));
            tracer_provider(config, resource, processor, counters)
        }
    })
}

/// Builds one signal's OTLP exporter for the configured protocol and compression; the endpoint
/// (generic or per-signal) is resolved from the environment by opentelemetry-otlp itself.
macro_rules! otlp_exporter {
    ($exporter:ty, $config:expr) => {{
        let config: &OtelConfig = $config;
        let compression = config.gzip.then_some(opentelemetry_otlp::Compression::Gzip);
        let built = match config.protocol {
            OtlpProtocol::Grpc => {
                use opentelemetry_otlp::WithTonicConfig as _;
                let mut b = <$exporter>::builder().with_tonic();
                if let Some(c) = compression {
                    b = b.with_compression(c);
                }
                b.build()
            }
            OtlpProtocol::HttpProtobuf => {
                use opentelemetry_otlp::WithHttpConfig as _;
                let mut b = <$exporter>::builder()
                    .with_http()
                    .with_protocol(Protocol::HttpBinary);
                if let Some(c) = compression {
                    b = b.with_compression(c);
                }
                b.build()
            }
        };
        built.with_context(|| {
            format!(
                "building the OTLP {} exporter ({:?}, endpoint {})",
                stringify!($exporter),
                config.protocol,
                config.endpoint.as_deref().unwrap_or("default")
            )
        })
    }};
}

fn otlp_span_exporter(config: &OtelConfig) -> anyhow::Result<opentelemetry_otlp::SpanExporter> {
    otlp_exporter!(opentelemetry_otlp::SpanExporter, config)
}

fn otlp_log_exporter(config: &OtelConfig) -> anyhow::Result<opentelemetry_otlp::LogExporter> {
    otlp_exporter!(opentelemetry_otlp::LogExporter, config)
}

fn otlp_metric_exporter(config: &OtelConfig) -> anyhow::Result<opentelemetry_otlp::MetricExporter> {
    otlp_exporter!(opentelemetry_otlp::MetricExporter, config)
}

fn meter_provider(
    resource: Resource,
    exporter: impl opentelemetry_sdk::metrics::exporter::PushMetricExporter + 'static,
    interval: Duration,
) -> SdkMeterProvider {
    let reader = PeriodicReader::builder(exporter)
        .with_interval(interval)
        .build();
    SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(reader)
        .build()
}
