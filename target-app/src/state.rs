//! Shared application state.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::auth::AuthKeys;
use crate::config::PasswordCost;
use crate::db::Db;
use crate::queue::Queue;
use crate::telemetry::metrics::AppMetrics;

/// Everything a handler needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Storage.
    pub db: Db,
    /// The job queue.
    pub queue: Queue,
    /// JWT keys.
    pub auth: Arc<AuthKeys>,
    /// Password hash cost.
    pub password_cost: PasswordCost,
    /// Metric instruments.
    pub metrics: AppMetrics,
    /// Whether the telemetry pipeline exists (`OTEL_SDK_DISABLED` is not true).
    pub telemetry_enabled: bool,
    /// `OTEL_SERVICE_NAME`.
    pub service_name: Arc<str>,
    /// Jobs enqueued by this process (reported at shutdown).
    pub jobs_enqueued: Arc<AtomicU64>,
    /// `CALIBRATION_CPU_US`: CPU every API request spends on nothing (see `routes::calibration`).
    pub calibration_cpu: std::time::Duration,
}
