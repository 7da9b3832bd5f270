//! PII masking: email addresses become `al***@example.com` in every span attribute, span event,
//! span name and log record before anything is exported.

use std::borrow::Cow;

use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::{Array, InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

use super::counting::{SignalCounters, forward_to_inner_processor};

fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Masks every email address in `text`, keeping at most the first two characters of the local
/// part (`alice@example.com` -> `al***@example.com`). Text without an `@` is returned borrowed,
/// so the common case costs one byte scan. Masking is idempotent.
pub fn mask_emails(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut search = 0;
    while let Some(offset) = text[search..].find('@') {
        let at = search + offset;
        let mut start = at;
        while start > copied && is_local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let domain = &text[at + 1..end];
        let is_email = start < at
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.starts_with('-');
        if is_email {
            let local = &text[start..at];
            let keep = local.len().saturating_sub(1).min(2);
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buf.push_str(&text[copied..start]);
            buf.push_str(&local[..keep]);
            buf.push_str("***@");
            buf.push_str(domain);
            copied = end;
            search = end;
        } else {
            search = at + 1;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

fn mask_string_value(s: &StringValue) -> Option<StringValue> {
    match mask_emails(s.as_str()) {
        Cow::Borrowed(_) => None,
        Cow::Owned(masked) => Some(masked.into()),
    }
}

fn mask_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(m) = mask_string_value(s) {
                *s = m;
            }
        }
        Value::Array(Array::String(items)) => {
            for s in items.iter_mut() {
                if let Some(m) = mask_string_value(s) {
                    *s = m;
                }
            }
        }
        _ => {}
    }
}

fn mask_attributes(attributes: &mut [KeyValue]) {
    for kv in attributes {
        mask_value(&mut kv.value);
    }
}

fn mask_any_value(value: AnyValue) -> AnyValue {
    match value {
        AnyValue::String(s) => match mask_string_value(&s) {
            Some(m) => AnyValue::String(m),
            None => AnyValue::String(s),
        },
        AnyValue::ListAny(items) => {
            AnyValue::ListAny(Box::new(items.into_iter().map(mask_any_value).collect()))
        }
        AnyValue::Map(map) => AnyValue::Map(Box::new(
            map.into_iter()
                .map(|(k, v)| (k, mask_any_value(v)))
                .collect(),
        )),
        other => other,
    }
}

/// A span processor that masks emails in finished spans, then hands them to `inner`.
#[derive(Debug)]
pub struct MaskingSpanProcessor<P> {
    inner: P,
}

impl<P: SpanProcessor> MaskingSpanProcessor<P> {
    /// Wraps `inner`.
    pub fn new(inner: P) -> Self {
        Self { inner }
    }
}

/// Masks emails in one finished span (name, attributes, events, status message).
pub fn mask_span(span: &mut SpanData) {
    if let Cow::Owned(name) = mask_emails(&span.name) {
        span.name = Cow::Owned(name);
    }
    mask_attributes(&mut span.attributes);
    for event in &mut span.events.events {
        if let Cow::Owned(name) = mask_emails(&event.name) {
            event.name = Cow::Owned(name);
        }
        mask_attributes(&mut event.attributes);
    }
    if let opentelemetry::trace::Status::Error { description } = &mut span.status
        && let Cow::Owned(d) = mask_emails(description)
    {
        *description = Cow::Owned(d);
    }
}

impl<P: SpanProcessor> SpanProcessor for MaskingSpanProcessor<P> {
    fn on_end(&self, mut span: SpanData) {
        mask_span(&mut span);
        self.inner.on_end(span);
    }

    forward_to_inner_processor!();
}

/// A logger provider whose log records mask emails as their body and attributes are set, so no
/// unmasked value ever reaches a log processor. Used by the `tracing` -> OTLP log bridge.
#[derive(Debug, Clone)]
pub struct MaskingLoggerProvider {
    inner: SdkLoggerProvider,
    counters: std::sync::Arc<SignalCounters>,
}

impl MaskingLoggerProvider {
    /// Wraps `inner`; every emitted record is counted as produced in `counters`.
    pub fn new(inner: SdkLoggerProvider, counters: std::sync::Arc<SignalCounters>) -> Self {
        Self { inner, counters }
    }
}

impl LoggerProvider for MaskingLoggerProvider {
    type Logger = MaskingLogger;

    fn logger_with_scope(&self, scope: InstrumentationScope) -> MaskingLogger {
        MaskingLogger {
            inner: self.inner.logger_with_scope(scope),
            counters: self.counters.clone(),
        }
    }
}

/// See [`MaskingLoggerProvider`].
#[derive(Debug)]
pub struct MaskingLogger {
    inner: SdkLogger,
    counters: std::sync::Arc<SignalCounters>,
}

impl Logger for MaskingLogger {
    type LogRecord = MaskingLogRecord;

    fn create_log_record(&self) -> MaskingLogRecord {
        MaskingLogRecord(self.inner.create_log_record())
    }

    fn emit(&self, record: MaskingLogRecord) {
        self.counters.add_produced(1);
        self.inner.emit(record.0);
    }

    fn event_enabled(&self, level: Severity, target: &str, name: Option<&str>) -> bool {
        self.inner.event_enabled(level, target, name)
    }
}

/// A log record that masks string values as they are set.
#[derive(Debug)]
pub struct MaskingLogRecord(SdkLogRecord);

impl LogRecord for MaskingLogRecord {
    fn set_event_name(&mut self, name: &'static str) {
        self.0.set_event_name(name);
    }

    fn set_target<T>(&mut self, target: T)
    where
        T: Into<Cow<'static, str>>,
    {
        self.0.set_target(target);
    }

    fn set_timestamp(&mut self, timestamp: std::time::SystemTime) {
        self.0.set_timestamp(timestamp);
    }

    fn set_observed_timestamp(&mut self, timestamp: std::time::SystemTime) {
        self.0.set_observed_timestamp(timestamp);
    }

    fn set_severity_text(&mut self, text: &'static str) {
        self.0.set_severity_text(text);
    }

    fn set_severity_number(&mut self, number: Severity) {
        self.0.set_severity_number(number);
    }

    fn set_body(&mut self, body: AnyValue) {
        self.0.set_body(mask_any_value(body));
    }

    fn add_attributes<I, K, V>(&mut self, attributes: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Key>,
        V: Into<AnyValue>,
    {
        for (k, v) in attributes {
            self.add_attribute(k, v);
        }
    }

    fn add_attribute<K, V>(&mut self, key: K, value: V)
    where
        K: Into<Key>,
        V: Into<AnyValue>,
    {
        self.0.add_attribute(key, mask_any_value(value.into()));
    }

    fn set_trace_context(
        &mut self,
        trace_id: opentelemetry::TraceId,
        span_id: opentelemetry::SpanId,
        trace_flags: Option<opentelemetry::TraceFlags>,
    ) {
        self.0.set_trace_context(trace_id, span_id, trace_flags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_seed_example() {
        assert_eq!(mask_emails("alice@example.com"), "al***@example.com");
    }

    #[test]
    fn masks_every_address_in_text_and_keeps_the_rest() {
        assert_eq!(
            mask_emails("from bob.smith+x@mail.example.org to jo@ex.io."),
            "from bo***@mail.example.org to j***@ex.io."
        );
    }

    #[test]
    fn short_local_parts_reveal_nothing_whole() {
        assert_eq!(mask_emails("a@b.co"), "***@b.co");
        assert_eq!(mask_emails("ab@b.co"), "a***@b.co");
    }

    #[test]
    fn leaves_non_addresses_alone_without_allocating() {
        for text in [
            "no at sign",
            "@handle",
            "user@localhost",
            "x@.com",
            "a@b",
            "",
        ] {
            assert!(matches!(mask_emails(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn is_idempotent() {
        let once = mask_emails("carol@example.com").into_owned();
        assert_eq!(mask_emails(&once), once);
    }

    #[test]
    fn masks_span_attributes_events_and_name() {
        use opentelemetry::trace::{SpanContext, SpanKind, Status};
        let mut span = SpanData {
            span_context: SpanContext::empty_context(),
            parent_span_id: opentelemetry::SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "login dave@example.com".into(),
            start_time: std::time::SystemTime::now(),
            end_time: std::time::SystemTime::now(),
            attributes: vec![
                KeyValue::new("user.email", "dave@example.com"),
                KeyValue::new("n", 3),
            ],
            dropped_attributes_count: 0,
            events: opentelemetry_sdk::trace::SpanEvents::default(),
            links: opentelemetry_sdk::trace::SpanLinks::default(),
            status: Status::error("no user erin@example.com"),
            instrumentation_scope: InstrumentationScope::default(),
        };
        mask_span(&mut span);
        assert_eq!(span.name, "login da***@example.com");
        assert_eq!(span.attributes[0].value.as_str(), "da***@example.com");
        assert_eq!(span.status, Status::error("no user er***@example.com"));
    }

    #[test]
    fn masks_nested_log_values() {
        let v = mask_any_value(AnyValue::ListAny(Box::new(vec![AnyValue::String(
            "fred@example.com".into(),
        )])));
        assert_eq!(
            v,
            AnyValue::ListAny(Box::new(vec![AnyValue::String("fr***@example.com".into())]))
        );
    }
}
