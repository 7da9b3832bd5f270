//! Signals and the shutdown report.

use serde::Serialize;

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!(target: "target_app::lifecycle", "shutdown requested");
}

/// The prefix of the one stderr line that carries a process's totals as JSON.
pub const TOTALS_PREFIX: &str = "OTELBENCH_TOTALS ";

/// Prints `totals` as one line on stderr (`OTELBENCH_TOTALS {json}`) and, when
/// `TARGET_APP_TOTALS_FILE` is set, writes it to that file, for the harness to read.
pub fn report_totals(totals: &impl Serialize) {
    let Ok(line) = serde_json::to_string(totals) else {
        return;
    };
    eprintln!("{TOTALS_PREFIX}{line}");
    if let Ok(path) = std::env::var("TARGET_APP_TOTALS_FILE")
        && let Err(e) = std::fs::write(&path, format!("{line}\n"))
    {
        eprintln!("target-app: could not write totals to {path}: {e}");
    }
}
