//! The schema, created at start-up by whichever role starts first. Idempotent, and safe when web
//! and worker start together: PostgreSQL serialises on an advisory lock, SQLite on a write lock.

use anyhow::Context as _;
use sqlx::Executor as _;

use super::{Backend, Db};

/// The application's tables, `$id` being the type of the generated primary keys: the one
/// difference between the SQLite and the PostgreSQL schema.
#[rustfmt::skip] // one statement per line, as the SQL reads
macro_rules! app_tables {
    ($id:literal) => {
        concat!("
CREATE TABLE IF NOT EXISTS users (
    id ", $id, ",
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    image TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    id ", $id, ",
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    favorites_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS favorites (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, article_id)
);
CREATE TABLE IF NOT EXISTS notifications (
    id ", $id, ",
    recipient_id BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    article_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    enqueued_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS worker_heartbeats (
    worker_id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
")
    };
}

const SQLITE: &str = app_tables!("INTEGER PRIMARY KEY AUTOINCREMENT");

const POSTGRES: &str = app_tables!("BIGSERIAL PRIMARY KEY");

/// The job table of the SQL queues, `$id` as in `app_tables!`.
#[rustfmt::skip] // as `app_tables!`
macro_rules! job_table {
    ($id:literal) => {
        concat!("
CREATE TABLE IF NOT EXISTS jobs (
    id ", $id, ",
    queue TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    enqueued_at BIGINT NOT NULL,
    started_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (queue, status, id);
")
    };
}

/// The job table of the SQL queues (created in the queue's database).
pub const JOBS_SQLITE: &str = job_table!("INTEGER PRIMARY KEY AUTOINCREMENT");

/// See [`JOBS_SQLITE`].
pub const JOBS_POSTGRES: &str = job_table!("BIGSERIAL PRIMARY KEY");

/// An arbitrary constant that names the migration lock on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x6f74_656c_6265;

/// Runs `ddl` (several statements) once, serialised against other processes.
pub async fn apply(db: &Db, ddl: &'static str) -> anyhow::Result<()> {
    let mut conn = db
        .pool()
        .acquire()
        .await
        .context("acquiring a connection to migrate")?;
    match db.backend() {
        Backend::Postgres => {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *conn)
                .await?;
            let result = conn.execute(ddl).await;
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *conn)
                .await?;
            result.context("creating the PostgreSQL schema")?;
        }
        Backend::Sqlite => {
            // Two processes starting on a new file contend for the write lock, and SQLite
            // returns "database is locked" at once (without the busy handler) where waiting
            // could deadlock, e.g. while switching to WAL. Retry for a while.
            let mut delay = std::time::Duration::from_millis(10);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                match sqlite_apply(&mut conn, ddl).await {
                    Ok(()) => break,
                    Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(std::time::Duration::from_millis(200));
                    }
                    Err(e) => return Err(e).context("creating the SQLite schema"),
                }
            }
        }
    }
    Ok(())
}

fn is_locked(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.message().contains("locked") || d.message().contains("busy"))
}

async fn sqlite_apply(
    conn: &mut sqlx::AnyConnection,
    ddl: &'static str,
) -> Result<(), sqlx::Error> {
    // WAL lets the web role read while the worker writes. The mode is stored in the file, so it
    // is only switched once; checking first avoids taking the exclusive lock every start.
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.execute("PRAGMA journal_mode = WAL").await?;
    }
    conn.execute("BEGIN IMMEDIATE").await?;
    match conn.execute(ddl).await {
        Ok(_) => {
            conn.execute("COMMIT").await?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// Creates the application tables.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    apply(
        db,
        match db.backend() {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        },
    )
    .await
}
