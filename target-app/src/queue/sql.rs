//! The SQL job table. PostgreSQL wakes the worker with `NOTIFY`; SQLite with an inotify event on
//! the database's WAL file (see `wake`), polling every `QUEUE_POLL_INTERVAL_MS` as a fallback.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Mutex, Notify};
use tokio::time::Instant;

use super::wake;
use crate::db::{Backend, Db, now_us, schema};

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct SqlQueue {
    db: Db,
    url: String,
    name: String,
    channel: String,
    poll_interval: Duration,
    listener: std::sync::Arc<Mutex<Option<PgListener>>>,
    wal_changed: std::sync::Arc<Notify>,
    wal_watch: std::sync::Arc<std::sync::OnceLock<bool>>,
}

impl SqlQueue {
    /// Creates the job table if needed.
    pub async fn connect(
        db: Db,
        url: &str,
        name: &str,
        poll_interval: Duration,
    ) -> anyhow::Result<Self> {
        schema::apply(
            &db,
            match db.backend() {
                Backend::Sqlite => schema::JOBS_SQLITE,
                Backend::Postgres => schema::JOBS_POSTGRES,
            },
        )
        .await?;
        Ok(Self {
            db,
            url: url.to_string(),
            name: name.to_string(),
            channel: format!("otelbench_jobs_{}", name.replace('-', "_")),
            poll_interval,
            listener: std::sync::Arc::default(),
            wal_changed: std::sync::Arc::new(Notify::new()),
            wal_watch: std::sync::Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn push(&self, payload: &str) -> anyhow::Result<()> {
        match self.db.backend() {
            Backend::Sqlite => {
                const SQL: &str = "INSERT INTO jobs (queue, payload, status, enqueued_at) VALUES ($1, $2, 'pending', $3)";
                sqlx::query(SQL)
                    .bind(&self.name)
                    .bind(payload)
                    .bind(now_us())
                    .execute(self.db.pool())
                    .await?;
            }
            Backend::Postgres => {
                // One round trip: insert and wake the listening workers.
                const SQL: &str = "WITH job AS (INSERT INTO jobs (queue, payload, status, enqueued_at) \
                     VALUES ($1, $2, 'pending', $3) RETURNING id) \
                     SELECT pg_notify($4, CAST(id AS TEXT)) FROM job";
                sqlx::query(SQL)
                    .bind(&self.name)
                    .bind(payload)
                    .bind(now_us())
                    .bind(&self.channel)
                    .execute(self.db.pool())
                    .await?;
            }
        }
        Ok(())
    }

    async fn claim(&self) -> anyhow::Result<Option<(i64, String)>> {
        const SQLITE: &str = "UPDATE jobs SET status = 'running', started_at = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM jobs WHERE queue = $1 AND status = 'pending' ORDER BY id LIMIT 1) \
             RETURNING id, payload";
        const POSTGRES: &str = "UPDATE jobs SET status = 'running', started_at = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM jobs WHERE queue = $1 AND status = 'pending' ORDER BY id LIMIT 1 \
             FOR UPDATE SKIP LOCKED) RETURNING id, payload";
        let sql = match self.db.backend() {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        };
        Ok(sqlx::query_as(sql)
            .bind(&self.name)
            .bind(now_us())
            .fetch_optional(self.db.pool())
            .await?)
    }

    pub async fn pop(&self, wait: Duration) -> anyhow::Result<Option<(i64, String)>> {
        let deadline = Instant::now() + wait;
        match self.db.backend() {
            Backend::Postgres => self.ensure_listener().await?,
            Backend::Sqlite => self.ensure_wal_watch(),
        }
        loop {
            if let Some(job) = self.claim().await? {
                return Ok(Some(job));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            match self.db.backend() {
                Backend::Sqlite => {
                    // A commit by the web process, or the fallback poll interval.
                    tokio::select! {
                        () = self.wal_changed.notified() => {}
                        () = tokio::time::sleep(self.poll_interval.min(deadline - now)) => {}
                    }
                }
                Backend::Postgres => {
                    let mut guard = self.listener.lock().await;
                    if let Some(listener) = guard.as_mut() {
                        // A notification, or the deadline; either way, try to claim again.
                        if let Ok(Err(e)) =
                            tokio::time::timeout(deadline - now, listener.try_recv()).await
                        {
                            *guard = None;
                            return Err(e.into());
                        }
                    }
                }
            }
        }
    }

    fn ensure_wal_watch(&self) {
        self.wal_watch.get_or_init(|| {
            let Some(path) = wake::sqlite_path(&self.url) else {
                return false;
            };
            match wake::watch_wal(&path, self.wal_changed.clone()) {
                Ok(_task) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "inotify is unavailable; the SQLite queue falls back to polling");
                    false
                }
            }
        });
    }

    async fn ensure_listener(&self) -> anyhow::Result<()> {
        let mut guard = self.listener.lock().await;
        if guard.is_none() {
            let mut listener = PgListener::connect(&self.url).await?;
            listener.listen(&self.channel).await?;
            *guard = Some(listener);
        }
        Ok(())
    }

    pub async fn ack(&self, id: i64, ok: bool) -> anyhow::Result<()> {
        if ok {
            sqlx::query("DELETE FROM jobs WHERE id = $1")
                .bind(id)
                .execute(self.db.pool())
                .await?;
        } else {
            sqlx::query("UPDATE jobs SET status = 'failed' WHERE id = $1")
                .bind(id)
                .execute(self.db.pool())
                .await?;
        }
        Ok(())
    }

    pub async fn depth(&self) -> anyhow::Result<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE queue = $1 AND status = 'pending'")
                .bind(&self.name)
                .fetch_one(self.db.pool())
                .await?;
        Ok(n)
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        self.db.ping().await
    }

    pub async fn purge(&self) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM jobs WHERE queue = $1")
            .bind(&self.name)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}
