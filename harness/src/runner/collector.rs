//! The collector of one run: the embedded sink (healthy, or playing a fault), `rotel-agent` (a
//! real OTLP collector, started on free loopback ports and measured like a target process), or
//! an endpoint the user runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::target::{Proc, free_port};
use crate::results::CollectorRun;
use crate::scenario::CollectorSpec;
use crate::sink::{Fault, Sink, SinkCounts, SinkOptions};

/// Name of the collector process in samples and messages.
pub const PROCESS: &str = "collector";
/// How long rotel-agent gets to listen.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long rotel-agent gets to flush and exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Finds `rotel-agent`: the scenario's path, `OTELBENCH_ROTEL`, PATH, then the `rotel` Python
/// package (`pip install rotel` puts the binary inside the package, not on PATH).
pub fn find_rotel(binary: Option<&Path>) -> anyhow::Result<PathBuf> {
    let explain = "fix: `pip install rotel` (otelbench finds rotel-agent inside the Python \
                   package), or give its path in collector.binary or OTELBENCH_ROTEL";
    if let Some(path) = binary {
        anyhow::ensure!(
            path.is_file(),
            "collector.binary: {} does not exist; {explain}",
            path.display()
        );
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os("OTELBENCH_ROTEL").map(PathBuf::from) {
        anyhow::ensure!(
            path.is_file(),
            "OTELBENCH_ROTEL: {} does not exist; {explain}",
            path.display()
        );
        return Ok(path);
    }
    if let Ok(path) = super::which("rotel-agent") {
        return Ok(path);
    }
    let script =
        "import os, rotel; print(os.path.join(os.path.dirname(rotel.__file__), 'rotel-agent'))";
    for python in ["python3", "python"] {
        if let Ok(out) = std::process::Command::new(python)
            .args(["-c", script])
            .stderr(std::process::Stdio::null())
            .output()
            && out.status.success()
        {
            let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    anyhow::bail!("collector.kind = \"rotel\" needs rotel-agent, which was not found; {explain}")
}

/// The collector of one run.
#[derive(Debug)]
pub struct RunCollector {
    kind: &'static str,
    fault: Option<Fault>,
    /// The embedded sink: the collector itself, or where rotel forwards to.
    sink: Option<Sink>,
    rotel: Option<Proc>,
    grpc: String,
    http: String,
}

/// rotel-agent's command line (behind the placement prefix `pin`): its OTLP receivers on
/// `ports` (gRPC, HTTP), its exporter (OTLP to `sink`, else the blackhole), and a pid and a log
/// file of its own in the temporary directory.
fn rotel_argv(
    binary: &Path,
    pin: &[String],
    ports: (u16, u16),
    sink: Option<&Sink>,
) -> Vec<String> {
    let (grpc_port, http_port) = ports;
    let mut argv: Vec<String> = pin.to_vec();
    argv.push(binary.display().to_string());
    argv.extend(
        [
            "start",
            "--otlp-grpc-endpoint",
            &format!("127.0.0.1:{grpc_port}"),
            "--otlp-http-endpoint",
            &format!("127.0.0.1:{http_port}"),
        ]
        .map(String::from),
    );
    match sink {
        Some(s) => argv.extend(
            [
                "--exporter",
                "otlp",
                "--otlp-exporter-endpoint",
                &s.grpc_endpoint(),
            ]
            .map(String::from),
        ),
        None => argv.extend(["--exporter", "blackhole"].map(String::from)),
    }
    let files = std::env::temp_dir();
    let tag = format!("otelbench-rotel-{}-{grpc_port}", std::process::id());
    argv.push("--pid-file".into());
    argv.push(files.join(format!("{tag}.pid")).display().to_string());
    argv.push("--log-file".into());
    argv.push(files.join(format!("{tag}.log")).display().to_string());
    argv
}

impl RunCollector {
    /// Starts the collector for one run of a variant playing `fault`. `rotel` is the resolved
    /// rotel-agent, `pin` the placement prefix of the target's processes.
    pub async fn start(
        spec: &CollectorSpec,
        fault: Option<Fault>,
        rotel: Option<&Path>,
        pin: &[String],
    ) -> anyhow::Result<Self> {
        match spec {
            CollectorSpec::Embedded { .. } => Self::embedded(fault),
            CollectorSpec::External { endpoint } => Ok(Self {
                kind: "external",
                fault: None,
                sink: None,
                rotel: None,
                grpc: endpoint.clone(),
                http: endpoint.clone(),
            }),
            CollectorSpec::Rotel { forward, .. } => {
                let binary = rotel.context("rotel-agent was not resolved")?;
                Self::rotel(binary, *forward, pin).await
            }
        }
    }

    /// The embedded sink, playing `fault`.
    fn embedded(fault: Option<Fault>) -> anyhow::Result<Self> {
        let sink = Sink::start(SinkOptions {
            background: true,
            fault,
            ..SinkOptions::default()
        })?;
        // A flapping collector's returns are judged only while the target runs.
        sink.stats().judge_returns(false);
        Ok(Self {
            kind: "embedded",
            fault,
            grpc: sink.grpc_endpoint(),
            http: sink.http_endpoint(),
            sink: Some(sink),
            rotel: None,
        })
    }

    /// rotel-agent on two free ports, forwarding to an embedded sink (which counts what
    /// arrives) or to its blackhole; ready once both ports listen.
    async fn rotel(binary: &Path, forward: bool, pin: &[String]) -> anyhow::Result<Self> {
        let sink = if forward {
            Some(Sink::start(SinkOptions {
                background: true,
                ..SinkOptions::default()
            })?)
        } else {
            None
        };
        let (grpc_port, http_port) = (free_port()?, free_port()?);
        let argv = rotel_argv(binary, pin, (grpc_port, http_port), sink.as_ref());
        let env: BTreeMap<String, String> = ["PATH", "HOME", "LANG", "TMPDIR"]
            .into_iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let mut proc = Proc::spawn(PROCESS, &argv, &env, None)?;
        if let Err(e) = wait_listening(&mut proc, &[grpc_port, http_port]).await {
            let _ = proc.stop(STOP_GRACE).await;
            return Err(e);
        }
        Ok(Self {
            kind: if sink.is_some() {
                "rotel+sink"
            } else {
                "rotel"
            },
            fault: None,
            sink,
            rotel: Some(proc),
            grpc: format!("http://127.0.0.1:{grpc_port}"),
            http: format!("http://127.0.0.1:{http_port}"),
        })
    }

    /// The endpoint the target exports to.
    pub fn endpoint(&self, http: bool) -> String {
        if http {
            self.http.clone()
        } else {
            self.grpc.clone()
        }
    }

    /// The collector process to measure beside the target, if it is one of ours.
    pub fn process(&self) -> Option<(String, u32)> {
        self.rotel
            .as_ref()
            .and_then(Proc::id)
            .map(|pid| (PROCESS.to_string(), pid))
    }

    /// Whether delivery is expected now (the target is up): a flapping collector's returns are
    /// judged only then.
    pub fn expect_delivery(&self, on: bool) {
        if let Some(sink) = &self.sink {
            sink.stats().judge_returns(on);
        }
    }

    /// A description of the collector process's exit, if it died.
    pub fn exited(&mut self) -> Option<String> {
        self.rotel.as_mut().and_then(Proc::exited)
    }

    /// Stops the collector process (it flushes what it holds), then waits until the embedded
    /// sink's counts stop changing. Returns a problem if the process did not stop cleanly.
    pub async fn drain(&mut self) -> Option<String> {
        let problem = match self.rotel.as_mut() {
            Some(p) => p.stop(STOP_GRACE).await.0,
            None => None,
        };
        if let Some(sink) = &self.sink {
            settle(sink).await;
        }
        problem
    }

    /// What the embedded sink received, if telemetry passes through it.
    pub fn counts(&self) -> Option<SinkCounts> {
        self.sink.as_ref().map(|s| s.stats().counts())
    }

    /// The run's collector record (usage figures are filled in by the caller).
    pub fn record(&self) -> CollectorRun {
        let counts = self.counts().unwrap_or_default();
        let flapping = matches!(self.fault, Some(Fault::Flap { .. }));
        CollectorRun {
            kind: self.kind.to_string(),
            fault: self.fault.map(|f| f.to_string()),
            counted: self.sink.is_some(),
            exports_refused: counts.exports_refused,
            connections_blackholed: counts.connections_blackholed,
            outages: counts.outages,
            recovery: flapping
                .then(|| self.sink.as_ref().map(|s| s.stats().recovery()))
                .flatten(),
            ..CollectorRun::default()
        }
    }

    /// Stops everything that is still running.
    pub async fn stop(mut self) {
        if let Some(p) = self.rotel.as_mut() {
            let _ = p.stop(STOP_GRACE).await;
        }
        if let Some(sink) = self.sink.take() {
            let _ = sink.stop().await;
        }
    }
}

/// Waits until every port accepts connections, or the process exits, or the timeout passes.
async fn wait_listening(proc: &mut Proc, ports: &[u16]) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(exit) = proc.exited() {
            anyhow::bail!("the collector exited before it listened: {exit}");
        }
        let mut all = true;
        for port in ports {
            all &= tokio::net::TcpStream::connect(("127.0.0.1", *port))
                .await
                .is_ok();
        }
        if all {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "the collector did not listen on ports {ports:?} within {READY_TIMEOUT:?}; its output:\n  {}",
                proc.tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the sink's delivery counts stop changing (the target, or the collector in front
/// of the sink, flushed on shutdown). A flapping sink's outage counter is not delivery.
async fn settle(sink: &Sink) {
    let delivered = |c: SinkCounts| {
        (
            c.spans_received,
            c.metric_points_received,
            c.log_records_received,
            c.export_requests,
            c.exports_refused,
        )
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = delivered(sink.stats().counts());
    let mut stable_since = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = delivered(sink.stats().counts());
        if now != last {
            last = now;
            stable_since = Instant::now();
        } else if stable_since.elapsed() >= Duration::from_millis(300) {
            break;
        }
    }
}
