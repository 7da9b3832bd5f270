//! The control for the work after the window: a variant's target started, left idle for a
//! moment and stopped, a few times, before its first run. What its processes use to shut down
//! at rest is not the requests' work (see `after_window`).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;

use super::setup::Setup;
use super::target::Running;
use super::{Ctx, Interrupted, STOP_GRACE, after_window, cpu, interrupt, ready_timeout, redact};
use crate::results;
use crate::scenario::Variant;

/// The variant's target started and stopped at rest, [`IDLE_CONTROLS`] times: what its processes
/// use after a moment of idleness until they have exited (their shutdown without any request's
/// work), µs by process, the median of the repeats. A run's work after the window is counted
/// beyond this (see `after_window`). Only an interrupt is an error.
pub(super) async fn idle_shutdown(
    ctx: &Ctx<'_>,
    variant: &Variant,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<results::IdleShutdown> {
    let mut repeats = Vec::new();
    for _ in 0..IDLE_CONTROLS {
        match idle_shutdown_once(ctx, variant, cancel).await? {
            Ok(after_us) => repeats.push(after_us),
            Err(e) => {
                return Ok(results::IdleShutdown {
                    error: Some(redact::credentials(&e)),
                    ..results::IdleShutdown::default()
                });
            }
        }
    }
    Ok(results::IdleShutdown {
        after_us: after_window::median_per_process(&repeats),
        repeats: repeats.len(),
        error: None,
    })
}

/// Starts and stops at rest: one control reading of [`idle_shutdown`] (the inner error says
/// why it could not be made).
async fn idle_shutdown_once(
    ctx: &Ctx<'_>,
    variant: &Variant,
    cancel: &mut watch::Receiver<bool>,
) -> anyhow::Result<Result<BTreeMap<String, f64>, String>> {
    let setup = match Setup::prepare(ctx, variant).await {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let result = async {
        let mut running = Running::start(setup.launch(ctx, variant)?)?;
        let ready = tokio::select! {
            r = running.wait_ready(ready_timeout(ctx.scenario)) => r,
            () = interrupt::interrupted(cancel) => Err(Interrupted.into()),
        };
        if let Err(e) = ready {
            running.stop(STOP_GRACE).await;
            return Err(e);
        }
        let at_rest = tokio::select! {
            () = tokio::time::sleep(IDLE_BEFORE_STOP) => true,
            () = interrupt::interrupted(cancel) => false,
        };
        let at_end = after_window::lifetime_so_far_us(&cpu::process_trees(&running.pids()));
        let stopped = running.stop(STOP_GRACE).await;
        if !at_rest {
            return Err(Interrupted.into());
        }
        if let Some(problem) = stopped.problems.first() {
            anyhow::bail!("{problem}");
        }
        let mut after_us = BTreeMap::new();
        for (name, whole) in &stopped.whole_life_us {
            let after = after_window::after_window_us(at_end.get(name).copied(), Some(*whole))
                .with_context(|| format!("the {name} process's CPU could not be read"))?;
            after_us.insert(name.clone(), after);
        }
        Ok(after_us)
    }
    .await;
    setup.teardown().await;
    match result {
        Err(e) if e.is::<Interrupted>() => Err(e),
        Err(e) => Ok(Err(format!("{e:#}"))),
        Ok(after_us) => Ok(Ok(after_us)),
    }
}

/// How long the idle-shutdown control leaves the ready target alone before stopping it.
const IDLE_BEFORE_STOP: Duration = Duration::from_secs(1);

/// Control readings per variant: one reading on this VM can be several times the usual (a
/// worker's 6.5 ms shutdown read once as 29 ms), and it would bias every run of the variant.
const IDLE_CONTROLS: usize = 3;
