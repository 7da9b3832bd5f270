//! The generator's own tokio runtime, on a thread of its own, sized to the generator's CPUs.
//!
//! Sharing the harness's main runtime (one worker per machine CPU, all pinned to the
//! generator's CPU set) put two workers on one CPU: a user woken by its timer could wait for the
//! other worker's time slice. With one CPU the generator runs on a current-thread runtime: the
//! users, goose and the reactor that wakes them share one thread, and a wake-up is no hand-off.

use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use tokio::sync::oneshot;

use super::LoadPlan;
use super::recorder::Recorder;

/// The load of one run, driven on its own runtime; stops the load when dropped.
#[derive(Debug)]
pub struct Generator {
    done: oneshot::Receiver<anyhow::Result<()>>,
    cancel: Option<oneshot::Sender<()>>,
}

/// A runtime with `threads` workers; one thread is a current-thread runtime.
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("otelbench-load")
            .enable_all()
            .build()
    }
}

impl Generator {
    /// Starts driving `plan` on a new thread (which inherits this thread's CPU affinity) with a
    /// runtime of `threads` workers.
    pub fn start(plan: LoadPlan, recorder: Arc<Recorder>, threads: usize) -> anyhow::Result<Self> {
        let runtime = runtime(threads)
            .map_err(|e| anyhow!("cannot start the load generator's runtime: {e}"))?;
        let (done_tx, done) = oneshot::channel();
        let (cancel, cancelled) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("otelbench-load".into())
            .spawn(move || {
                let result = runtime.block_on(async move {
                    tokio::select! {
                        r = super::drive(plan, recorder) => r,
                        // Sent or dropped: either way the load is to stop.
                        _ = cancelled => Err(anyhow!("the load was stopped")),
                    }
                });
                // Ends the users' tasks, whatever request they were in.
                runtime.shutdown_timeout(Duration::from_secs(1));
                let _ = done_tx.send(result);
            })
            .map_err(|e| anyhow!("cannot start the load generator's thread: {e}"))?;
        Ok(Self {
            done,
            cancel: Some(cancel),
        })
    }

    /// Resolves when the load has ended (cancel-safe: it can be polled again after a
    /// `select!` took another branch).
    pub async fn finished(&mut self) -> anyhow::Result<()> {
        (&mut self.done).await.unwrap_or_else(|_| {
            Err(anyhow!(
                "the load generator's thread ended without a result"
            ))
        })
    }

    /// Stops the load; [`Generator::finished`] then resolves shortly.
    pub fn abort(&mut self) {
        if let Some(c) = self.cancel.take() {
            let _ = c.send(());
        }
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        self.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::scenario::{Load, Model, RequestSpec};

    /// A rate-model plan against a port where nothing listens: every request fails at once
    /// with "connection refused", which is enough to see the schedule being kept.
    fn plan() -> LoadPlan {
        let request: RequestSpec = toml::from_str("name = \"nothing\"\npath = \"/\"").unwrap();
        LoadPlan {
            base_url: "http://127.0.0.1:9".into(),
            load: Load {
                model: Model::Rate,
                rate: Some(200.0),
                users: 4,
                warmup_s: 0.0,
                duration_s: 60.0,
                timeout_s: 5.0,
                setup: Vec::new(),
                requests: vec![request],
            },
            run_id: "test".into(),
            start: Instant::now() + Duration::from_millis(200),
            first_user: 0,
            phase: Duration::ZERO,
        }
    }

    #[tokio::test]
    async fn the_generator_keeps_its_schedule_on_its_own_runtime_and_stops_when_aborted() {
        let plan = plan();
        let (from, to) = plan.window();
        let recorder = Arc::new(Recorder::new(from, to));
        let mut generator = Generator::start(plan, recorder.clone(), 1).unwrap();
        // Hang guards only: the load is 200 req/s, so 20 requests take 0.1 s when it works.
        let deadline = Instant::now() + Duration::from_secs(30);
        while recorder.requests_total() < 20 {
            assert!(Instant::now() < deadline, "the generator sent nothing");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        generator.abort();
        let ended = tokio::time::timeout(Duration::from_secs(30), generator.finished())
            .await
            .expect("an aborted generator ends");
        let err = ended.expect_err("an aborted load is not a finished one");
        assert!(err.to_string().contains("stopped"), "{err}");
        let measured = recorder.snapshot();
        // Every request was paced (a lag recorded for it) and failed as refused.
        assert_eq!(measured.lag.len(), measured.requests);
        assert!(measured.requests >= 20);
        assert_eq!(
            measured.errors, measured.requests,
            "{:?}",
            measured.errors_by_kind
        );
        // No request after the abort: the users' tasks ended with the runtime.
        let after = recorder.requests_total();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(recorder.requests_total(), after);
    }
}
