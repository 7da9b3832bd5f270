//! The web role: serve the API until SIGTERM, then drain and report.

use std::sync::atomic::Ordering;

use anyhow::Context as _;
use serde::Serialize;

use crate::config::Config;
use crate::lifecycle::{report_totals, shutdown_signal};
use crate::routes::app;
use crate::state::AppState;
use crate::telemetry::{Telemetry, TelemetryTotals};

#[derive(Debug, Serialize)]
struct WebTotals {
    role: &'static str,
    jobs: WebJobs,
    telemetry: TelemetryTotals,
}

#[derive(Debug, Serialize)]
struct WebJobs {
    enqueued: u64,
}

/// Serves until a shutdown signal; in-flight requests may finish within the shutdown timeout.
pub async fn serve(
    config: &Config,
    state: AppState,
    telemetry: &'static Telemetry,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {} (set PORT or BIND)", config.listen))?;
    let addr = listener.local_addr()?;
    // A machine-readable line: the harness and tests read the port from it (PORT=0 works).
    println!("target-app web listening on http://{addr}");
    tracing::info!(target: "target_app::lifecycle", %addr, "web listening");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app(state.clone())).with_graceful_shutdown(async {
        let _ = stop_rx.await;
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => result.context("serving HTTP")?,
        () = shutdown_signal() => {
            let _ = stop_tx.send(());
            if tokio::time::timeout(config.shutdown_timeout, &mut server).await.is_err() {
                tracing::warn!(target: "target_app::lifecycle", "in-flight requests did not finish within the shutdown timeout");
            }
        }
    }
    state.db.close().await;
    let telemetry_totals = tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
    report_totals(&WebTotals {
        role: "web",
        jobs: WebJobs {
            enqueued: state.jobs_enqueued.load(Ordering::Relaxed),
        },
        telemetry: telemetry_totals,
    });
    Ok(())
}
