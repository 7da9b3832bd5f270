//! `OTEL_SDK_DISABLED=true` is the baseline: no pipeline, nothing exported, no trace ids.

mod common;

use axum::http::StatusCode;
use common::{Storage, access_token, call, config, init_telemetry, post_article, unique};
use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use target_app::telemetry::TestExporters;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_exported_when_the_sdk_is_disabled() {
    let spans = InMemorySpanExporter::default();
    let logs = InMemoryLogExporter::default();
    let exporters = TestExporters {
        spans: Some(spans.clone()),
        logs: Some(logs.clone()),
        metrics: None,
    };
    let t = init_telemetry(&[("OTEL_SDK_DISABLED", "true")], "off", exporters).await;
    assert!(!t.enabled());
    let storage = Storage::sqlite();
    let state = target_app::build_state(&config(&storage.url(), None, &unique("q")), t)
        .await
        .unwrap();
    let app = target_app::app(state.clone());
    let body = r#"{"email":"carol@example.com","name":"c","password":"correct horse"}"#;
    let (status, json) = call(&app, "POST", "/api/register", None, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = access_token(&json);
    let (status, _) = post_article(&app, Some(&token), r#"{"title":"t","body":"b"}"#).await;
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
