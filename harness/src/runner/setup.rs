//! What a target needs for one lifetime: its launch (program, environment, placement), the
//! collector it exports to and the storage it uses, set up before it starts and torn down after.

use std::collections::BTreeMap;

use anyhow::Context as _;

use super::collector::RunCollector;
use super::target::{self, Launch};
use super::{Ctx, ResolvedTarget, placement, storage};
use crate::scenario::{Scenario, TargetSpec, Variant};

/// The placement prefix (`taskset ...`) of the target's processes.
pub(super) fn target_prefix(scenario: &Scenario) -> Vec<String> {
    if scenario.placement.pin {
        placement::taskset_prefix(&scenario.placement.target_cpus)
    } else {
        Vec::new()
    }
}

/// Everything a run needs to launch the target.
fn launch(
    scenario: &Scenario,
    resolved: &ResolvedTarget,
    variant: &Variant,
    endpoint: &str,
    storage_env: &BTreeMap<String, String>,
) -> anyhow::Result<Launch> {
    let prefix = target_prefix(scenario);
    let with_prefix = |argv: Vec<String>| prefix.iter().cloned().chain(argv).collect::<Vec<_>>();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    // A clean environment apart from what a process needs to run at all.
    for key in ["PATH", "HOME", "LANG", "TMPDIR"] {
        if let Ok(v) = std::env::var(key) {
            env.insert(key.into(), v);
        }
    }
    match &scenario.target {
        TargetSpec::Builtin { env: extra, .. } => {
            let bin = variant
                .build
                .as_ref()
                .and_then(|b| b.binary.clone())
                .or_else(|| resolved.target_app.clone())
                .context("target-app binary not resolved")?
                .display()
                .to_string();
            // Cheap password hashing unless the scenario says otherwise: a load test should not
            // mostly measure Argon2 (see the README).
            env.insert("PASSWORD_HASH_MEMORY_KIB".into(), "64".into());
            env.insert("PASSWORD_HASH_ITERATIONS".into(), "1".into());
            env.extend(storage_env.clone());
            env.extend(extra.clone());
            env.extend(variant.env.clone());
            env.insert("PORT".into(), "0".into());
            env.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint.into());
            Ok(Launch {
                web: with_prefix(vec![bin.clone(), "web".into()]),
                worker: Some(with_prefix(vec![bin, "worker".into()])),
                env,
                port: None,
                ready_url: "/api/health".into(),
                health_json: true,
                dir: None,
            })
        }
        TargetSpec::Command {
            command,
            worker_command,
            env: extra,
            ready_url,
            port_env,
            ..
        } => {
            let port = target::free_port()?;
            env.extend(extra.clone());
            env.extend(variant.env.clone());
            env.extend(storage_env.clone());
            env.insert(port_env.clone(), port.to_string());
            env.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint.into());
            let build = variant.build.clone().unwrap_or_default();
            Ok(Launch {
                web: with_prefix(build.command.unwrap_or_else(|| command.clone())),
                worker: build
                    .worker_command
                    .or_else(|| worker_command.clone())
                    .map(with_prefix),
                env,
                port: Some(port),
                ready_url: ready_url.clone(),
                health_json: false,
                dir: build.dir,
            })
        }
    }
}

/// What a target needs around it for one lifetime: its collector and its storage.
pub(super) struct Setup {
    pub(super) collector: RunCollector,
    storage: storage::Storage,
    endpoint: String,
}

impl Setup {
    /// Starts the collector and prepares storage; the error says which failed and why (it
    /// fails the run, not the plan).
    pub(super) async fn prepare(ctx: &Ctx<'_>, variant: &Variant) -> Result<Self, String> {
        let scenario = ctx.scenario;
        let http = variant
            .env
            .get("OTEL_EXPORTER_OTLP_PROTOCOL")
            .is_some_and(|p| p.starts_with("http"));
        let collector = RunCollector::start(
            &scenario.collector,
            variant.fault,
            ctx.resolved.rotel.as_deref(),
            &target_prefix(scenario),
        )
        .await
        .map_err(|e| format!("{e:#}"))?;
        let endpoint = collector.endpoint(http);
        let storage = match &scenario.target {
            TargetSpec::Builtin {
                db,
                queue,
                postgres_url,
                redis_url,
                ..
            } => storage::prepare(*db, *queue, postgres_url, redis_url).await,
            TargetSpec::Command { .. } => storage::scratch(),
        };
        match storage {
            Ok(storage) => Ok(Self {
                collector,
                storage,
                endpoint,
            }),
            Err(e) => {
                collector.stop().await;
                Err(format!("{e:#}"))
            }
        }
    }

    /// For a service the harness does not start (`run --target-url`): no collector (its
    /// telemetry goes where it was deployed to send it) and no storage.
    pub(super) async fn external() -> Result<Self, String> {
        let none = crate::scenario::CollectorSpec::External {
            endpoint: String::new(),
        };
        let collector = RunCollector::start(&none, None, None, &[])
            .await
            .map_err(|e| format!("{e:#}"))?;
        let storage = storage::scratch().map_err(|e| format!("{e:#}"))?;
        Ok(Self {
            collector,
            storage,
            endpoint: String::new(),
        })
    }

    /// The target's launch for `variant` in this setup.
    pub(super) fn launch(&self, ctx: &Ctx<'_>, variant: &Variant) -> anyhow::Result<Launch> {
        launch(
            ctx.scenario,
            ctx.resolved,
            variant,
            &self.endpoint,
            &self.storage.env,
        )
    }

    pub(super) async fn teardown(self) {
        self.collector.stop().await;
        self.storage.remove().await;
    }
}
