//! Target processes: start (pinned, with the variant's environment), wait until ready, watch for
//! an early exit, stop gracefully (SIGTERM, then SIGKILL after a grace period), and collect the
//! last lines of stderr and the `OTELBENCH_TOTALS` line each process prints on shutdown.

use std::collections::{BTreeMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// Stderr lines kept per process for error messages.
const TAIL_LINES: usize = 20;
/// The prefix of the built-in target's shutdown report.
pub const TOTALS_PREFIX: &str = "OTELBENCH_TOTALS ";

/// How to start the target.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Web process: program and arguments (placement prefix included).
    pub web: Vec<String>,
    /// Optional worker process.
    pub worker: Option<Vec<String>>,
    /// Environment of both.
    pub env: BTreeMap<String, String>,
    /// `Some(port)`: the port was chosen and passed in the environment; `None`: the web process
    /// binds port 0 and prints `listening on http://ADDR` (the built-in target).
    pub port: Option<u16>,
    /// Readiness URL path or full URL with `{port}`.
    pub ready_url: String,
    /// The built-in target's health must also report `"status": "ok"` (worker up).
    pub health_json: bool,
}

/// One child process with its output captured.
#[derive(Debug)]
pub(super) struct Proc {
    name: &'static str,
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    totals: Arc<Mutex<Option<serde_json::Value>>>,
}

impl Proc {
    /// Starts `argv` with exactly `env`; it is killed if dropped while running.
    pub(super) fn spawn(
        name: &'static str,
        argv: &[String],
        env: &BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        let (program, args) = argv.split_first().context("empty command")?;
        let mut child = Command::new(program)
            .args(args)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting the {name} process `{}`", argv.join(" ")))?;
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let totals = Arc::new(Mutex::new(None));
        if let Some(out) = child.stdout.take() {
            let lines = stdout.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(out).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    let mut l = lines
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if l.len() < 100 {
                        l.push(line);
                    }
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let (tail, totals) = (stderr.clone(), totals.clone());
            tokio::spawn(async move {
                let mut reader = BufReader::new(err).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    if let Some(json) = line.strip_prefix(TOTALS_PREFIX) {
                        *totals
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) =
                            serde_json::from_str(json).ok();
                        continue;
                    }
                    let mut t = tail
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            });
        }
        Ok(Self {
            name,
            child,
            stdout,
            stderr,
            totals,
        })
    }

    /// The last lines of stderr (or the first of stdout, for a program that logs there).
    pub(super) fn tail(&self) -> String {
        let t = self
            .stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !t.is_empty() {
            return t.iter().cloned().collect::<Vec<_>>().join("\n  ");
        }
        let out = self
            .stdout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if out.is_empty() {
            "(no output)".into()
        } else {
            out.iter()
                .rev()
                .take(TAIL_LINES)
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        }
    }

    /// Its pid while it runs.
    pub(super) fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// A description of its exit, if it has exited.
    pub(super) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "the {} process exited ({status}); its last stderr lines:\n  {}",
                self.name,
                self.tail()
            )),
            _ => None,
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; a problem if it did not stop cleanly.
    pub(super) async fn stop(&mut self, grace: Duration) -> Option<String> {
        if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            // Dying by the SIGTERM sent is how a service without a handler stops.
            Ok(Ok(status))
                if status.success()
                    || std::os::unix::process::ExitStatusExt::signal(&status)
                        == Some(Signal::SIGTERM as i32) =>
            {
                None
            }
            Ok(Ok(status)) => Some(format!(
                "the {} process exited with {status} on SIGTERM; last stderr:\n  {}",
                self.name,
                self.tail()
            )),
            _ => {
                let _ = self.child.kill().await;
                Some(format!(
                    "the {} process ignored SIGTERM for {grace:?} and was killed",
                    self.name
                ))
            }
        }
    }
}

/// Running target processes.
#[derive(Debug)]
pub struct Running {
    procs: Vec<Proc>,
    launch: Launch,
    base_url: Option<String>,
}

/// What stopping the target reported.
#[derive(Debug, Default)]
pub struct Stopped {
    /// Each process's `OTELBENCH_TOTALS` JSON, by process name.
    pub totals: BTreeMap<String, serde_json::Value>,
    /// Problems while stopping (non-zero exit, SIGKILL needed).
    pub problems: Vec<String>,
}

impl Running {
    /// Starts the processes.
    pub fn start(launch: Launch) -> anyhow::Result<Self> {
        let mut procs = vec![Proc::spawn("web", &launch.web, &launch.env)?];
        if let Some(worker) = &launch.worker {
            procs.push(Proc::spawn("worker", worker, &launch.env)?);
        }
        let base_url = launch.port.map(|p| format!("http://127.0.0.1:{p}"));
        Ok(Self {
            procs,
            launch,
            base_url,
        })
    }

    /// `(name, pid)` of every process still running.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.procs
            .iter()
            .filter_map(|p| p.child.id().map(|id| (p.name.to_string(), id)))
            .collect()
    }

    /// The web process's base URL, once known.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }

    /// A description of the first process that has exited, if any.
    pub fn exited(&mut self) -> Option<String> {
        self.procs.iter_mut().find_map(Proc::exited)
    }

    /// Waits until the readiness check passes, a process exits, or `timeout` passes.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building the readiness client")?;
        loop {
            if let Some(exit) = self.exited() {
                anyhow::bail!("the target exited before it was ready: {exit}");
            }
            if self.base_url.is_none() {
                let line = self.procs[0]
                    .stdout
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .iter()
                    .find_map(|l| {
                        l.split("listening on ")
                            .nth(1)
                            .map(str::trim)
                            .map(String::from)
                    });
                self.base_url = line;
            }
            if let Some(base) = &self.base_url {
                let url = if self.launch.ready_url.starts_with("http") {
                    self.launch
                        .ready_url
                        .replace("{port}", base.rsplit(':').next().unwrap_or(""))
                } else {
                    format!("{base}{}", self.launch.ready_url)
                };
                if let Ok(response) = client.get(&url).send().await
                    && response.status().is_success()
                {
                    if !self.launch.health_json {
                        return Ok(());
                    }
                    let body: serde_json::Value = response.json().await.unwrap_or_default();
                    if body["status"] == "ok" {
                        return Ok(());
                    }
                }
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "the target was not ready within {timeout:?}; web stderr:\n  {}",
                    self.procs[0].tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops every process (worker last, so it can finish the web's jobs) and collects totals.
    pub async fn stop(mut self, grace: Duration) -> Stopped {
        let mut stopped = Stopped::default();
        for p in &mut self.procs {
            if let Some(problem) = p.stop(grace).await {
                stopped.problems.push(problem);
            }
        }
        // Let the readers take the final lines.
        tokio::time::sleep(Duration::from_millis(50)).await;
        for p in &self.procs {
            if let Some(t) = p
                .totals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
            {
                stopped.totals.insert(p.name.to_string(), t);
            }
        }
        stopped
    }
}

/// A free loopback port (for targets that must be told their port).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}
