//! `OTEL_SDK_DISABLED=true` is the baseline: no pipeline, nothing exported, no trace ids.

mod common;

use axum::http::StatusCode;
use common::{Storage, call, config, unique};
use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use target_app::telemetry::config::OtelConfig;
use target_app::telemetry::{self, Telemetry, TestExporters};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_exported_when_the_sdk_is_disabled() {
    let spans = InMemorySpanExporter::default();
    let logs = InMemoryLogExporter::default();
    let exporters = TestExporters {
        spans: Some(spans.clone()),
        logs: Some(logs.clone()),
        metrics: None,
    };
    let otel = OtelConfig::from_env(&[("OTEL_SDK_DISABLED", "true")][..], "off").unwrap();
    let t = tokio::task::spawn_blocking(move || {
        telemetry::init_global(|| Telemetry::build(otel, &exporters))
    })
    .await
    .unwrap()
    .unwrap();
    assert!(!t.enabled());
    let storage = Storage::sqlite();
    let state = target_app::build_state(&config(&storage.url(), None, &unique("q")), t)
        .await
        .unwrap();
    let app = target_app::app(state.clone());
    let body = r#"{"email":"carol@example.com","name":"c","password":"correct horse"}"#;
    let (status, json) = call(&app, "POST", "/api/register", None, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = json["token"]["access_token"].as_str().unwrap().to_string();
    let (status, _) = call(
        &app,
        "POST",
        "/api/articles",
        Some(&token),
        Some(r#"{"title":"t","body":"b"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, json) = call(&app, "POST", "/api/register", None, Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        json["error"]["trace_id"].is_null(),
        "no trace without telemetry: {json}"
    );
    t.force_flush();
    assert!(spans.get_finished_spans().unwrap().is_empty());
    assert!(logs.get_emitted_logs().unwrap().is_empty());
    let totals = t.totals(Vec::new());
    assert_eq!(totals.spans.produced + totals.logs.produced, 0);
    state.db.close().await;
    storage.remove().await;
}
