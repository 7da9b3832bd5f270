//! Redis lists: `LPUSH` onto the queue, `BLMOVE` into a processing list (so a job taken by a
//! worker that dies is not lost), `LREM` when done.

use std::time::Duration;

use anyhow::Context as _;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

/// See the module documentation.
#[derive(Clone)]
pub struct RedisQueue {
    conn: MultiplexedConnection,
    blocking: MultiplexedConnection,
    name: String,
    key: String,
    processing: String,
    failed: String,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    pub async fn connect(url: &str, name: &str) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).with_context(|| format!("parsing QUEUE_URL {url:?}"))?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .with_context(|| format!("connecting to Redis at {url}"))?;
        // Blocking pops wait longer than the default 500 ms response timeout.
        let blocking = client
            .get_multiplexed_async_connection_with_config(
                &AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(30))),
            )
            .await
            .with_context(|| format!("connecting to Redis at {url}"))?;
        Ok(Self {
            conn,
            blocking,
            name: name.to_string(),
            key: format!("otelbench:queue:{name}"),
            processing: format!("otelbench:queue:{name}:processing"),
            failed: format!("otelbench:queue:{name}:failed"),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn push(&self, payload: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("LPUSH")
            .arg(&self.key)
            .arg(payload)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn pop(&self, wait: Duration) -> anyhow::Result<Option<String>> {
        let mut conn = self.blocking.clone();
        let seconds = wait.as_secs_f64().max(0.01);
        Ok(redis::cmd("BLMOVE")
            .arg(&self.key)
            .arg(&self.processing)
            .arg("RIGHT")
            .arg("LEFT")
            .arg(seconds)
            .query_async(&mut conn)
            .await?)
    }

    pub async fn ack(&self, payload: &str, ok: bool) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.cmd("LREM")
            .arg(&self.processing)
            .arg(1)
            .arg(payload)
            .ignore();
        if !ok {
            pipe.cmd("LPUSH").arg(&self.failed).arg(payload).ignore();
        }
        let () = pipe.query_async(&mut conn).await?;
        Ok(())
    }

    pub async fn depth(&self) -> anyhow::Result<i64> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("LLEN")
            .arg(&self.key)
            .query_async(&mut conn)
            .await?)
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    pub async fn purge(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(&self.key)
            .arg(&self.processing)
            .arg(&self.failed)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
