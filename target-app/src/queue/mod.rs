//! The job queue between the web and worker processes: SQLite (default: the app's database;
//! woken through inotify on its WAL file), PostgreSQL (`LISTEN`/`NOTIFY` wake-ups, `SKIP LOCKED` claims) or Redis (`BLMOVE` into a
//! processing list). W3C trace context travels inside each job.

mod redis;
mod sql;
mod wake;

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::db::{Backend, Db, now_us};
use crate::telemetry::propagation::inject_current;

/// What a job asks the worker to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Notify the author's followers (here: record a notification for the author).
    ArticleCreated,
    /// Notify the author that someone favorited the article.
    ArticleFavorited,
}

impl JobKind {
    /// The kind's name, used in span and metric attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::ArticleCreated => "article_created",
            JobKind::ArticleFavorited => "article_favorited",
        }
    }
}

/// One job, serialised as JSON in the queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// What to do.
    pub kind: JobKind,
    /// The article concerned.
    pub article_id: i64,
    /// The user who acted.
    pub actor_id: i64,
    /// When it was enqueued, µs since the epoch (for the enqueue-to-start latency).
    pub enqueued_at_us: i64,
    /// W3C trace context (`traceparent`, `tracestate`) of the enqueuing span.
    #[serde(default)]
    pub trace_context: HashMap<String, String>,
}

/// A job taken from the queue, to be acknowledged with [`Queue::complete`] or [`Queue::fail`].
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The job.
    pub job: Job,
    receipt: Receipt,
}

#[derive(Debug, Clone)]
enum Receipt {
    Sql(i64),
    Redis(String),
}

/// A queue backend.
#[derive(Debug, Clone)]
pub enum Queue {
    /// SQLite or PostgreSQL table.
    Sql(sql::SqlQueue),
    /// Redis lists.
    Redis(redis::RedisQueue),
}

impl Queue {
    /// Connects to the queue at `url`, reusing `db` when the queue lives in the same database.
    pub async fn connect(
        url: &str,
        database_url: &str,
        db: &Db,
        name: &str,
        poll_interval: Duration,
    ) -> anyhow::Result<Self> {
        if url.starts_with("redis:") {
            return Ok(Self::Redis(redis::RedisQueue::connect(url, name).await?));
        }
        let pool_db = if url == database_url {
            db.clone()
        } else {
            Db::connect(url, 4).await?
        };
        Ok(Self::Sql(
            sql::SqlQueue::connect(pool_db, url, name, poll_interval).await?,
        ))
    }

    /// `messaging.system`.
    pub fn system(&self) -> &'static str {
        match self {
            Queue::Sql(q) => match q.backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgresql",
            },
            Queue::Redis(_) => "redis",
        }
    }

    /// The queue's name (`messaging.destination.name`).
    pub fn name(&self) -> &str {
        match self {
            Queue::Sql(q) => q.name(),
            Queue::Redis(q) => q.name(),
        }
    }

    /// Enqueues a job of `kind` inside a producer span, carrying the current trace context.
    pub async fn enqueue(
        &self,
        kind: JobKind,
        article_id: i64,
        actor_id: i64,
    ) -> anyhow::Result<()> {
        let span = tracing::info_span!(
            "queue.publish",
            otel.name = %format_args!("publish {}", self.name()),
            otel.kind = "producer",
            messaging.system = self.system(),
            messaging.operation.type = "send",
            messaging.operation.name = "publish",
            messaging.destination.name = self.name(),
            job.kind = kind.as_str(),
        );
        let job = Job {
            kind,
            article_id,
            actor_id,
            enqueued_at_us: now_us(),
            trace_context: inject_current(&span),
        };
        let payload = serde_json::to_string(&job)?;
        match self {
            Queue::Sql(q) => q.push(&payload).instrument(span).await,
            Queue::Redis(q) => q.push(&payload).instrument(span).await,
        }
    }

    /// Takes the next job, waiting up to `wait` for one to arrive.
    pub async fn dequeue(&self, wait: Duration) -> anyhow::Result<Option<Delivery>> {
        let taken = match self {
            Queue::Sql(q) => q
                .pop(wait)
                .await?
                .map(|(id, payload)| (Receipt::Sql(id), payload)),
            Queue::Redis(q) => q
                .pop(wait)
                .await?
                .map(|payload| (Receipt::Redis(payload.clone()), payload)),
        };
        let Some((receipt, payload)) = taken else {
            return Ok(None);
        };
        match serde_json::from_str::<Job>(&payload) {
            Ok(job) => Ok(Some(Delivery { job, receipt })),
            Err(e) => {
                // A job nobody can read would be retried forever: drop it, loudly.
                tracing::error!(error = %e, payload = %payload, "discarding an unreadable job");
                self.ack(&receipt, false).await?;
                Ok(None)
            }
        }
    }

    /// Acknowledges a processed job.
    pub async fn complete(&self, delivery: &Delivery) -> anyhow::Result<()> {
        self.ack(&delivery.receipt, true).await
    }

    /// Records a job that failed (kept for inspection, not retried).
    pub async fn fail(&self, delivery: &Delivery) -> anyhow::Result<()> {
        self.ack(&delivery.receipt, false).await
    }

    async fn ack(&self, receipt: &Receipt, ok: bool) -> anyhow::Result<()> {
        match (self, receipt) {
            (Queue::Sql(q), Receipt::Sql(id)) => q.ack(*id, ok).await,
            (Queue::Redis(q), Receipt::Redis(payload)) => q.ack(payload, ok).await,
            _ => anyhow::bail!("a delivery was acknowledged on a queue of another kind"),
        }
    }

    /// Jobs waiting (for health).
    pub async fn depth(&self) -> anyhow::Result<i64> {
        match self {
            Queue::Sql(q) => q.depth().await,
            Queue::Redis(q) => q.depth().await,
        }
    }

    /// Checks the connection.
    pub async fn ping(&self) -> anyhow::Result<()> {
        match self {
            Queue::Sql(q) => q.ping().await,
            Queue::Redis(q) => q.ping().await,
        }
    }

    /// Removes every job of this queue (used by tests to leave nothing behind).
    pub async fn purge(&self) -> anyhow::Result<()> {
        match self {
            Queue::Sql(q) => q.purge().await,
            Queue::Redis(q) => q.purge().await,
        }
    }
}
