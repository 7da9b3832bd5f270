//! The worker role: take jobs from the queue, continue their trace, do the database work.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use opentelemetry::KeyValue;
use serde::Serialize;
use tokio::sync::{Semaphore, watch};
use tracing::Instrument as _;

use crate::config::Config;
use crate::db::{articles, now_us};
use crate::lifecycle::{report_totals, shutdown_signal};
use crate::queue::{Delivery, JobKind};
use crate::state::AppState;
use crate::telemetry::propagation::set_parent_from_map;
use crate::telemetry::{Telemetry, TelemetryTotals};

/// How long one dequeue call may wait; also bounds how long shutdown waits for the fetch loop.
const FETCH_WAIT: Duration = Duration::from_millis(500);

/// Counts and enqueue-to-start latencies of processed jobs.
#[derive(Debug)]
pub struct JobStats {
    completed: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    queue_latency_us: std::sync::Mutex<Histogram<u64>>,
    duration_us: std::sync::Mutex<Histogram<u64>>,
}

/// The harness's latency histogram (µs, 1 µs to 60 s, 3 significant digits).
use otelbench_latency::histogram as latency_histogram;

fn summary(h: &std::sync::Mutex<Histogram<u64>>) -> LatencySummary {
    let h = h.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    LatencySummary {
        count: h.len(),
        p50: h.value_at_quantile(0.5),
        p90: h.value_at_quantile(0.9),
        p99: h.value_at_quantile(0.99),
        max: h.max(),
    }
}

fn record(h: &std::sync::Mutex<Histogram<u64>>, us: i64) {
    h.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .saturating_record(u64::try_from(us).unwrap_or(0).max(1));
}

impl Default for JobStats {
    fn default() -> Self {
        Self {
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            queue_latency_us: std::sync::Mutex::new(latency_histogram()),
            duration_us: std::sync::Mutex::new(latency_histogram()),
        }
    }
}

/// Job counts and latency percentiles, reported at shutdown.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JobTotals {
    /// Jobs processed successfully.
    pub completed: u64,
    /// Jobs that failed.
    pub failed: u64,
    /// Jobs whose article no longer existed.
    pub skipped: u64,
    /// Enqueue to start of processing, µs.
    pub queue_latency_us: LatencySummary,
    /// The job's own processing time (start to acknowledged), µs.
    pub duration_us: LatencySummary,
}

/// Percentiles of a latency histogram, µs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl JobStats {
    /// The totals so far.
    pub fn totals(&self) -> JobTotals {
        JobTotals {
            completed: self.completed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            queue_latency_us: summary(&self.queue_latency_us),
            duration_us: summary(&self.duration_us),
        }
    }
}

#[derive(Debug, Serialize)]
struct WorkerTotals {
    role: &'static str,
    jobs: JobTotals,
    telemetry: TelemetryTotals,
}

/// Runs the worker until a shutdown signal, then finishes in-flight jobs and reports.
pub async fn run(
    config: &Config,
    state: AppState,
    telemetry: &'static Telemetry,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stats = Arc::new(JobStats::default());
    let worker = tokio::spawn(consume(
        state.clone(),
        config.worker_concurrency,
        config.shutdown_timeout,
        stats.clone(),
        stop_rx,
    ));
    println!(
        "target-app worker consuming queue {} ({})",
        state.queue.name(),
        state.queue.system()
    );
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    worker.await??;
    state.db.close().await;
    let telemetry_totals = tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
    report_totals(&WorkerTotals {
        role: "worker",
        jobs: stats.totals(),
        telemetry: telemetry_totals,
    });
    Ok(())
}

/// The fetch loop: at most `concurrency` jobs in flight; on stop, waits up to `drain` for them.
pub async fn consume(
    state: AppState,
    concurrency: usize,
    drain: Duration,
    stats: Arc<JobStats>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let worker_id = format!("{}-{}", state.queue.name(), std::process::id());
    let heartbeat = tokio::spawn(heartbeat(state.clone(), worker_id.clone(), stop.clone()));
    let permits = Arc::new(Semaphore::new(concurrency));
    while !*stop.borrow() {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p?,
            _ = stop.changed() => break,
        };
        // Not raced against `stop`: cancelling a pop could lose a job already taken.
        match state.queue.dequeue(FETCH_WAIT).await {
            Ok(Some(delivery)) => {
                let state = state.clone();
                let stats = stats.clone();
                tokio::spawn(async move {
                    process(&state, &stats, delivery).await;
                    drop(permit);
                });
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "taking a job failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
    if tokio::time::timeout(drain, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(target: "target_app::lifecycle", "jobs still running after the shutdown timeout");
    }
    heartbeat.abort();
    let _ = sqlx::query("DELETE FROM worker_heartbeats WHERE worker_id = $1")
        .bind(&worker_id)
        .execute(state.db.pool())
        .await;
    Ok(())
}

/// Writes a heartbeat every second so that health can tell whether a worker is up.
async fn heartbeat(state: AppState, worker_id: String, mut stop: watch::Receiver<bool>) {
    const SQL: &str = "INSERT INTO worker_heartbeats (worker_id, queue, seen_at) VALUES ($1, $2, $3) \
                       ON CONFLICT (worker_id) DO UPDATE SET seen_at = excluded.seen_at";
    loop {
        if let Err(e) = sqlx::query(SQL)
            .bind(&worker_id)
            .bind(state.queue.name())
            .bind(now_us())
            .execute(state.db.pool())
            .await
        {
            tracing::warn!(error = %e, "writing the worker heartbeat failed");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}

enum Outcome {
    Completed,
    Skipped,
}

async fn handle(
    state: &AppState,
    kind: JobKind,
    article_id: i64,
    actor_id: i64,
    enqueued_at: i64,
) -> anyhow::Result<Outcome> {
    let Some(author) = articles::author_of(&state.db, article_id).await? else {
        return Ok(Outcome::Skipped);
    };
    articles::notify(
        &state.db,
        author,
        actor_id,
        article_id,
        kind.as_str(),
        enqueued_at,
    )
    .await?;
    Ok(Outcome::Completed)
}

async fn process(state: &AppState, stats: &JobStats, delivery: Delivery) {
    let job = &delivery.job;
    let queue_latency_us = now_us() - job.enqueued_at_us;
    record(&stats.queue_latency_us, queue_latency_us);
    let span = tracing::info_span!(
        "queue.process",
        otel.name = %format_args!("process {}", state.queue.name()),
        otel.kind = "consumer",
        otel.status_code = tracing::field::Empty,
        messaging.system = state.queue.system(),
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.destination.name = state.queue.name(),
        job.kind = job.kind.as_str(),
        job.article_id = job.article_id,
        job.queue_latency_us = queue_latency_us,
        job.outcome = tracing::field::Empty,
    );
    set_parent_from_map(&span, &job.trace_context);
    let started = Instant::now();
    let result = handle(
        state,
        job.kind,
        job.article_id,
        job.actor_id,
        job.enqueued_at_us,
    )
    .instrument(span.clone())
    .await;
    let outcome = match &result {
        Ok(Outcome::Completed) => "completed",
        Ok(Outcome::Skipped) => "skipped",
        Err(_) => "failed",
    };
    span.record("job.outcome", outcome);
    let ack = match &result {
        Ok(_) => state.queue.complete(&delivery).await,
        Err(e) => {
            span.record("otel.status_code", "ERROR");
            span.in_scope(|| {
                tracing::error!(
                    error = format!("{e:#}"),
                    job.kind = job.kind.as_str(),
                    "job failed"
                );
            });
            state.queue.fail(&delivery).await
        }
    };
    if let Err(e) = ack {
        tracing::warn!(error = format!("{e:#}"), "acknowledging a job failed");
    }
    record(&stats.duration_us, started.elapsed().as_micros() as i64);
    match outcome {
        "completed" => stats.completed.fetch_add(1, Ordering::Relaxed),
        "skipped" => stats.skipped.fetch_add(1, Ordering::Relaxed),
        _ => stats.failed.fetch_add(1, Ordering::Relaxed),
    };
    let attrs = [
        KeyValue::new("job.kind", job.kind.as_str()),
        KeyValue::new("outcome", outcome),
    ];
    state
        .metrics
        .job_duration
        .record(started.elapsed().as_secs_f64(), &attrs);
    state.metrics.jobs.add(1, &attrs);
    state
        .metrics
        .job_queue_latency
        .record(queue_latency_us.max(0) as f64 / 1e6, &attrs[..1]);
}
