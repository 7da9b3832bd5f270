//! The standard `OTEL_*` variables, parsed and validated by the app itself.
//!
//! OpenTelemetry Rust 0.33 reads some of these on its own but silently falls back to a default on
//! an invalid value, and reads none of `OTEL_SDK_DISABLED`, `OTEL_*_EXPORTER` or
//! `OTEL_PROPAGATORS`. A benchmark that silently measured the wrong setting would be worse than
//! useless, so every value is checked here and an invalid one stops the process at start-up.

use std::time::Duration;

use crate::env::{Env, EnvError, boolean, number};

/// The sampler named by `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
#[derive(Debug, Clone, PartialEq)]
pub enum SamplerConfig {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio` with its ratio.
    TraceIdRatio(f64),
    /// `parentbased_*`: follow a sampled/unsampled parent, use the inner sampler for roots.
    ParentBased(Box<SamplerConfig>),
}

impl SamplerConfig {
    /// The fraction of root traces this sampler keeps.
    pub fn root_ratio(&self) -> f64 {
        match self {
            SamplerConfig::AlwaysOn => 1.0,
            SamplerConfig::AlwaysOff => 0.0,
            SamplerConfig::TraceIdRatio(r) => *r,
            SamplerConfig::ParentBased(inner) => inner.root_ratio(),
        }
    }
}

/// `OTEL_{TRACES,METRICS,LOGS}_EXPORTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExporterKind {
    /// Export over OTLP.
    Otlp,
    /// No pipeline for this signal.
    None,
}

/// `OTEL_EXPORTER_OTLP_PROTOCOL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `grpc`.
    Grpc,
    /// `http/protobuf`.
    HttpProtobuf,
}

/// The app's own `TARGET_APP_SPAN_PROCESSOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessorKind {
    /// The batch span processor (a background thread and a bounded queue).
    Batch,
    /// The simple span processor: every span is exported synchronously when it ends.
    Simple,
}

/// `OTEL_BSP_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// `OTEL_BSP_MAX_QUEUE_SIZE` (default 2048).
    pub max_queue_size: usize,
    /// `OTEL_BSP_SCHEDULE_DELAY` in ms (default 5000).
    pub schedule_delay: Duration,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (default 512, at most the queue size).
    pub max_export_batch_size: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            max_queue_size: 2048,
            schedule_delay: Duration::from_secs(5),
            max_export_batch_size: 512,
        }
    }
}

/// All telemetry settings of one process.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelConfig {
    /// `OTEL_SDK_DISABLED=true`: no telemetry pipeline at all (the baseline).
    pub disabled: bool,
    /// `OTEL_SERVICE_NAME`, defaulting per role.
    pub service_name: String,
    /// The sampler.
    pub sampler: SamplerConfig,
    /// Traces exporter.
    pub traces: ExporterKind,
    /// Metrics exporter.
    pub metrics: ExporterKind,
    /// Logs exporter.
    pub logs: ExporterKind,
    /// OTLP transport.
    pub protocol: OtlpProtocol,
    /// `OTEL_EXPORTER_OTLP_COMPRESSION=gzip`.
    pub gzip: bool,
    /// Span processor kind.
    pub processor: ProcessorKind,
    /// Batch span processor settings.
    pub batch: BatchSettings,
    /// `OTEL_METRIC_EXPORT_INTERVAL` in ms (default 60000).
    pub metric_export_interval: Duration,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` as given (validated; the exporter resolves signal paths).
    pub endpoint: Option<String>,
}

impl OtelConfig {
    /// Reads and validates the `OTEL_*` variables. `default_service` is used when
    /// `OTEL_SERVICE_NAME` is unset (web and worker get distinct names).
    pub fn from_env(env: &(impl Env + ?Sized), default_service: &str) -> Result<Self, EnvError> {
        // Read in this order, so with several invalid values the first one here is reported.
        let disabled = boolean(env, "OTEL_SDK_DISABLED", false)?;
        let service_name = env
            .get("OTEL_SERVICE_NAME")
            .unwrap_or_else(|| default_service.to_string());
        let sampler = parse_sampler(env)?;
        let traces = parse_exporter(env, "OTEL_TRACES_EXPORTER")?;
        let metrics = parse_exporter(env, "OTEL_METRICS_EXPORTER")?;
        let logs = parse_exporter(env, "OTEL_LOGS_EXPORTER")?;
        let protocol = parse_protocol(env)?;
        let gzip = parse_compression(env)?;
        let processor = parse_processor(env)?;
        let batch = parse_batch(env)?;
        let metric_export_interval = parse_metric_export_interval(env)?;
        let endpoint = parse_endpoint(env)?;
        check_propagators(env)?;
        Ok(Self {
            disabled,
            service_name,
            sampler,
            traces,
            metrics,
            logs,
            protocol,
            gzip,
            processor,
            batch,
            metric_export_interval,
            endpoint,
        })
    }

    /// True when at least one signal has an OTLP pipeline.
    pub fn any_otlp(&self) -> bool {
        !self.disabled && [self.traces, self.metrics, self.logs].contains(&ExporterKind::Otlp)
    }
}

/// `var` as one of the `words` (trimmed, exact), or `default` when unset; any other value is an
/// error with `reason` and `fix`.
fn choice<T: Copy>(
    env: &(impl Env + ?Sized),
    var: &str,
    default: T,
    words: &[(&str, T)],
    reason: &str,
    fix: &str,
) -> Result<T, EnvError> {
    match env.get(var) {
        None => Ok(default),
        Some(raw) => words
            .iter()
            .find(|(word, _)| *word == raw.trim())
            .map(|&(_, value)| value)
            .ok_or_else(|| EnvError::new(var, &raw, reason, fix)),
    }
}

/// `OTEL_{TRACES,METRICS,LOGS}_EXPORTER` (default `otlp`).
fn parse_exporter(env: &(impl Env + ?Sized), var: &str) -> Result<ExporterKind, EnvError> {
    choice(
        env,
        var,
        ExporterKind::Otlp,
        &[("otlp", ExporterKind::Otlp), ("none", ExporterKind::None)],
        "unsupported exporter",
        "use otlp or none",
    )
}

/// `OTEL_EXPORTER_OTLP_PROTOCOL` (default `grpc`), for all signals: the per-signal
/// `OTEL_EXPORTER_OTLP_*_PROTOCOL` variables are refused rather than ignored.
fn parse_protocol(env: &(impl Env + ?Sized)) -> Result<OtlpProtocol, EnvError> {
    let protocol = choice(
        env,
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        OtlpProtocol::Grpc,
        &[
            ("grpc", OtlpProtocol::Grpc),
            ("http/protobuf", OtlpProtocol::HttpProtobuf),
        ],
        "unsupported protocol (http/json is not implemented by opentelemetry-otlp)",
        "use grpc or http/protobuf",
    )?;
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    ] {
        if let Some(raw) = env.get(var) {
            return Err(EnvError::new(
                var,
                &raw,
                "per-signal protocols are not supported by target-app",
                "set OTEL_EXPORTER_OTLP_PROTOCOL for all signals instead",
            ));
        }
    }
    Ok(protocol)
}

/// `OTEL_EXPORTER_OTLP_COMPRESSION`: true for `gzip`, false for `none` or unset.
fn parse_compression(env: &(impl Env + ?Sized)) -> Result<bool, EnvError> {
    choice(
        env,
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        false,
        &[("gzip", true), ("none", false)],
        "unsupported compression",
        "use gzip or none",
    )
}

/// `TARGET_APP_SPAN_PROCESSOR` (default `batch`).
fn parse_processor(env: &(impl Env + ?Sized)) -> Result<ProcessorKind, EnvError> {
    choice(
        env,
        "TARGET_APP_SPAN_PROCESSOR",
        ProcessorKind::Batch,
        &[
            ("batch", ProcessorKind::Batch),
            ("simple", ProcessorKind::Simple),
        ],
        "unknown span processor",
        "use batch or simple",
    )
}

/// `OTEL_METRIC_EXPORT_INTERVAL` in ms (default 60000, positive).
fn parse_metric_export_interval(env: &(impl Env + ?Sized)) -> Result<Duration, EnvError> {
    let interval_ms: u64 = number(
        env,
        "OTEL_METRIC_EXPORT_INTERVAL",
        60_000,
        "set milliseconds, e.g. 60000",
    )?;
    if interval_ms == 0 {
        return Err(EnvError::new(
            "OTEL_METRIC_EXPORT_INTERVAL",
            "0",
            "must be positive",
            "set milliseconds, e.g. 60000",
        ));
    }
    Ok(Duration::from_millis(interval_ms))
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT` when set: an http(s) URL, kept as given.
fn parse_endpoint(env: &(impl Env + ?Sized)) -> Result<Option<String>, EnvError> {
    let endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
    if let Some(url) = endpoint
        .as_ref()
        .filter(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        return Err(EnvError::new(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            url,
            "not an http(s) URL",
            "use a URL such as http://127.0.0.1:4317",
        ));
    }
    Ok(endpoint)
}

/// `OTEL_PROPAGATORS`: only checked (the app always propagates W3C trace context).
fn check_propagators(env: &(impl Env + ?Sized)) -> Result<(), EnvError> {
    if let Some(raw) = env.get("OTEL_PROPAGATORS") {
        let ok = raw
            .split(',')
            .map(str::trim)
            .all(|p| p == "tracecontext" || p == "baggage");
        if !ok {
            return Err(EnvError::new(
                "OTEL_PROPAGATORS",
                &raw,
                "only tracecontext and baggage are supported",
                "use tracecontext (the default)",
            ));
        }
    }
    Ok(())
}

fn parse_sampler(env: &(impl Env + ?Sized)) -> Result<SamplerConfig, EnvError> {
    const VAR: &str = "OTEL_TRACES_SAMPLER";
    const FIX: &str = "use always_on, always_off, traceidratio, parentbased_always_on, \
                       parentbased_always_off or parentbased_traceidratio";
    let raw = env
        .get(VAR)
        .unwrap_or_else(|| "parentbased_always_on".to_string());
    let name = raw.trim();
    let ratio = || -> Result<f64, EnvError> {
        const ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
        match env.get(ARG) {
            None => Ok(1.0),
            Some(arg) => match arg.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(EnvError::new(
                    ARG,
                    &arg,
                    "not a ratio between 0 and 1",
                    "use a number such as 0.1 for 10%",
                )),
            },
        }
    };
    let base = |n: &str| -> Result<SamplerConfig, EnvError> {
        match n {
            "always_on" => Ok(SamplerConfig::AlwaysOn),
            "always_off" => Ok(SamplerConfig::AlwaysOff),
            "traceidratio" => Ok(SamplerConfig::TraceIdRatio(ratio()?)),
            _ => Err(EnvError::new(VAR, &raw, "unknown sampler", FIX)),
        }
    };
    match name.strip_prefix("parentbased_") {
        Some(inner) => Ok(SamplerConfig::ParentBased(Box::new(base(inner)?))),
        None => base(name),
    }
}

fn parse_batch(env: &(impl Env + ?Sized)) -> Result<BatchSettings, EnvError> {
    let d = BatchSettings::default();
    let max_queue_size: usize = number(
        env,
        "OTEL_BSP_MAX_QUEUE_SIZE",
        d.max_queue_size,
        "set a span count, e.g. 2048",
    )?;
    let delay_ms: u64 = number(
        env,
        "OTEL_BSP_SCHEDULE_DELAY",
        d.schedule_delay.as_millis() as u64,
        "set milliseconds, e.g. 5000",
    )?;
    let max_export_batch_size: usize = number(
        env,
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        d.max_export_batch_size.min(max_queue_size),
        "set a span count, e.g. 512",
    )?;
    if max_queue_size == 0 || max_export_batch_size == 0 {
        return Err(EnvError::new(
            "OTEL_BSP_MAX_QUEUE_SIZE",
            &max_queue_size.to_string(),
            "queue and batch sizes must be at least 1",
            "set OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE to 1 or more",
        ));
    }
    if max_export_batch_size > max_queue_size {
        return Err(EnvError::new(
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            &max_export_batch_size.to_string(),
            format!("larger than OTEL_BSP_MAX_QUEUE_SIZE ({max_queue_size})"),
            "set a batch size no larger than the queue size",
        ));
    }
    Ok(BatchSettings {
        max_queue_size,
        schedule_delay: Duration::from_millis(delay_ms),
        max_export_batch_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<OtelConfig, EnvError> {
        OtelConfig::from_env(vars, "svc")
    }

    #[test]
    fn defaults_are_the_spec_defaults() {
        let c = parse(&[]).unwrap();
        assert!(!c.disabled);
        assert_eq!(c.service_name, "svc");
        assert_eq!(
            c.sampler,
            SamplerConfig::ParentBased(Box::new(SamplerConfig::AlwaysOn))
        );
        assert_eq!(c.protocol, OtlpProtocol::Grpc);
        assert_eq!(c.processor, ProcessorKind::Batch);
        assert_eq!(c.batch, BatchSettings::default());
        assert!(c.any_otlp());
    }

    #[test]
    fn samplers_parse_with_their_argument() {
        let c = parse(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        ])
        .unwrap();
        assert_eq!(
            c.sampler,
            SamplerConfig::ParentBased(Box::new(SamplerConfig::TraceIdRatio(0.1)))
        );
        assert!((c.sampler.root_ratio() - 0.1).abs() < 1e-12);
        let c = parse(&[("OTEL_TRACES_SAMPLER", "always_off")]).unwrap();
        assert_eq!(c.sampler, SamplerConfig::AlwaysOff);
    }

    #[test]
    fn invalid_values_are_errors_not_defaults() {
        let cases: &[&[(&str, &str)]] = &[
            &[("OTEL_SDK_DISABLED", "yes")],
            &[("OTEL_TRACES_SAMPLER", "sometimes")],
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ],
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "ten"),
            ],
            &[("OTEL_TRACES_EXPORTER", "jaeger")],
            &[("OTEL_METRICS_EXPORTER", "prometheus")],
            &[("OTEL_LOGS_EXPORTER", "console")],
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
            &[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")],
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4317")],
            &[("OTEL_BSP_MAX_QUEUE_SIZE", "-1")],
            &[
                ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200"),
            ],
            &[("OTEL_BSP_SCHEDULE_DELAY", "5s")],
            &[("TARGET_APP_SPAN_PROCESSOR", "async")],
            &[("OTEL_PROPAGATORS", "b3")],
            &[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")],
        ];
        for vars in cases {
            let err = parse(vars).expect_err(&format!("{vars:?} should be rejected"));
            assert!(vars.iter().any(|(k, _)| *k == err.var), "{err}");
        }
    }

    #[test]
    fn batch_size_defaults_to_at_most_the_queue() {
        let c = parse(&[("OTEL_BSP_MAX_QUEUE_SIZE", "100")]).unwrap();
        assert_eq!(c.batch.max_export_batch_size, 100);
    }

    #[test]
    fn exporters_none_means_no_otlp() {
        let c = parse(&[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ])
        .unwrap();
        assert!(!c.any_otlp());
    }
}
