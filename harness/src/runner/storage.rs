//! Fresh storage for every run, removed afterwards. Every target gets an empty directory of its
//! own (`OTELBENCH_RUN_DIR`, shared by its web and worker: a command target keeps its SQLite file
//! there). The built-in target also gets its database: a SQLite file in that directory, or a
//! PostgreSQL database created for the run; Redis queues get a queue name of their own.

use std::collections::BTreeMap;

use anyhow::Context as _;
use sqlx::Connection as _;

use crate::scenario::{DbKind, QueueKind};

/// What a run's target gets, and what to remove afterwards.
#[derive(Debug)]
pub struct Storage {
    /// Environment for the target (`OTELBENCH_RUN_DIR`; for the built-in target also
    /// `DATABASE_URL`, `QUEUE_URL`, `QUEUE_NAME`).
    pub env: BTreeMap<String, String>,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
    redis: Option<(String, String)>,
}

fn with_database(admin_url: &str, db: &str) -> String {
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{db}")
}

/// The variable naming the run's own empty directory.
pub const RUN_DIR: &str = "OTELBENCH_RUN_DIR";

fn run_dir() -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("otelbench-run-")
        .tempdir()
        .context("creating a temporary directory for the run")
}

/// A command target's storage: only its directory.
pub fn scratch() -> anyhow::Result<Storage> {
    let dir = run_dir()?;
    let env = BTreeMap::from([(RUN_DIR.to_string(), dir.path().display().to_string())]);
    Ok(Storage {
        env,
        dir,
        postgres: None,
        redis: None,
    })
}

/// Prepares the built-in target's storage for one run.
pub async fn prepare(
    db: DbKind,
    queue: Option<QueueKind>,
    postgres_url: &str,
    redis_url: &str,
) -> anyhow::Result<Storage> {
    let dir = run_dir()?;
    let queue = queue.unwrap_or(match db {
        DbKind::Sqlite => QueueKind::Sqlite,
        DbKind::Postgres => QueueKind::Postgres,
    });
    let run = format!("{}_{:08x}", std::process::id(), rand::random::<u32>());
    let mut env = BTreeMap::from([(RUN_DIR.to_string(), dir.path().display().to_string())]);
    let mut postgres = None;
    let needs_pg = db == DbKind::Postgres || queue == QueueKind::Postgres;
    let pg_url = if needs_pg {
        let name = format!("otelbench_run_{run}");
        let mut conn = sqlx::PgConnection::connect(postgres_url)
            .await
            .with_context(|| {
                format!(
                    "preparing the run's storage: connecting to PostgreSQL at {} (target.postgres_url)",
                    super::redact::credentials(postgres_url)
                )
            })?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating database {name}"))?;
        postgres = Some((postgres_url.to_string(), name.clone()));
        Some(with_database(postgres_url, &name))
    } else {
        None
    };
    let sqlite_url = format!("sqlite://{}", dir.path().join("app.db").display());
    let database_url = match db {
        DbKind::Sqlite => sqlite_url.clone(),
        DbKind::Postgres => pg_url.clone().unwrap_or_default(),
    };
    let queue_url = match queue {
        QueueKind::Sqlite => sqlite_url,
        QueueKind::Postgres => pg_url.unwrap_or_default(),
        QueueKind::Redis => redis_url.to_string(),
    };
    let queue_name = format!("otelbench_{run}");
    env.insert("DATABASE_URL".into(), database_url);
    env.insert("QUEUE_URL".into(), queue_url);
    env.insert("QUEUE_NAME".into(), queue_name.clone());
    let redis = (queue == QueueKind::Redis).then(|| (redis_url.to_string(), queue_name));
    Ok(Storage {
        env,
        dir,
        postgres,
        redis,
    })
}

impl Storage {
    /// Removes what [`prepare`] created.
    pub async fn remove(self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut conn) = sqlx::PgConnection::connect(admin).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
        if let Some((url, name)) = &self.redis
            && let Ok(client) = redis::Client::open(url.as_str())
            && let Ok(mut conn) = client.get_multiplexed_async_connection().await
        {
            let _: Result<i64, _> = redis::cmd("DEL")
                .arg(format!("otelbench:queue:{name}"))
                .arg(format!("otelbench:queue:{name}:processing"))
                .arg(format!("otelbench:queue:{name}:failed"))
                .query_async(&mut conn)
                .await;
        }
        drop(self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_url_swaps_the_database() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x"
        );
    }
}
