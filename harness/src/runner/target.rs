//! Target processes: start (pinned, with the variant's environment), wait until ready, watch for
//! an early exit, stop gracefully (SIGTERM, then SIGKILL after a grace period), and collect the
//! last lines of stderr and the `OTELBENCH_TOTALS` line each process prints on shutdown.
//!
//! No orphans: each process starts in a process group of its own, and every signal goes to the
//! whole group, so what a command behind `sh -c` or npm forks stops with it (what is left of the
//! group when its leader has exited is killed). A watchdog (`sh`, in a group of its own) holds
//! the read end of a pipe whose write end only the harness has: if the harness dies, even by
//! SIGKILL, the pipe closes and the watchdog kills the group.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt as _;

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
    /// The built-in target's health must also report `"status": "healthy"` (worker up).
    pub health_json: bool,
    /// The directory both processes run in (default: the harness's).
    pub dir: Option<PathBuf>,
}

/// One child process with its output captured.
#[derive(Debug)]
pub(super) struct Proc {
    name: &'static str,
    child: Child,
    /// Its process group (its pid: it leads the group).
    group: Option<i32>,
    /// Kills the group if the harness dies; stopped once the group is gone.
    watchdog: Option<std::process::Child>,
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
        dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let (program, args) = argv.split_first().context("empty command")?;
        let mut command = Command::new(program);
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let mut child = command
            .args(args)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting the {name} process `{}`", argv.join(" ")))?;
        let group = child.id().and_then(|p| i32::try_from(p).ok());
        let watchdog = match group.map(watchdog) {
            Some(Ok(w)) => Some(w),
            Some(Err(e)) => {
                log::warn!(
                    "no watchdog for the {name} process ({e:#}): a SIGKILLed harness would leave it running"
                );
                None
            }
            None => None,
        };
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
            group,
            watchdog,
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

    /// Sends `signal` to the whole process group (to the process alone if it has none).
    fn signal_group(&self, signal: Signal) {
        if let Some(g) = self.group {
            let _ = kill(Pid::from_raw(-g), signal);
        } else if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), signal);
        }
    }

    /// Kills what is left of the group and retires the watchdog.
    fn reap_group(&mut self) {
        if let Some(g) = self.group.take() {
            let _ = kill(Pid::from_raw(-g), Signal::SIGKILL);
        }
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }

    /// SIGTERM to the group, then SIGKILL after `grace`; a problem if it did not stop cleanly.
    /// Whatever the group still holds once its leader has exited is killed. Also returns the
    /// process's whole-life CPU, µs, read as the harness reaps it (see `after_window`).
    pub(super) async fn stop(&mut self, grace: Duration) -> (Option<String>, Option<f64>) {
        let before = super::after_window::reaped_children_us();
        self.signal_group(Signal::SIGTERM);
        let problem = self.await_exit(grace).await;
        // Read before the watchdog is reaped: its time is not the target's.
        let whole_life = super::after_window::reaped_children_us()
            .zip(before)
            .map(|(after, before)| after - before);
        self.reap_group();
        (problem, whole_life)
    }

    async fn await_exit(&mut self, grace: Duration) -> Option<String> {
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
                self.signal_group(Signal::SIGKILL);
                let _ = self.child.kill().await;
                Some(format!(
                    "the {} process ignored SIGTERM for {grace:?} and was killed",
                    self.name
                ))
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.reap_group();
    }
}

/// Starts the watchdog of process group `group`: `sh` blocked reading a pipe that only this
/// process can write to (std opens pipes close-on-exec, so no target inherits it). When this
/// process ends, however it ends, the read sees end-of-file and the group is killed.
fn watchdog(group: i32) -> anyhow::Result<std::process::Child> {
    // `kill -9 -PGID`: dash's kill takes neither `--` nor `-s KILL` before a negative pid.
    std::process::Command::new("sh")
        .args([
            "-c",
            "read -r _ ; kill -9 -\"$0\" 2>/dev/null",
            &group.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: a Ctrl-C meant for the harness must not kill the watchdog first.
        .process_group(0)
        .spawn()
        .context("starting the watchdog `sh`")
}

/// Running target processes.
#[derive(Debug)]
pub struct Running {
    procs: Vec<Proc>,
    launch: Launch,
    base_url: Option<String>,
}

/// A response body cut to one readable line.
fn brief(body: &str) -> String {
    const MAX: usize = 400;
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

/// What stopping the target reported.
#[derive(Debug, Default)]
pub struct Stopped {
    /// Each process's `OTELBENCH_TOTALS` JSON, by process name.
    pub totals: BTreeMap<String, serde_json::Value>,
    /// Problems while stopping (non-zero exit, SIGKILL needed).
    pub problems: Vec<String>,
    /// Each process's whole-life CPU (itself and the descendants it reaped), µs, by name.
    pub whole_life_us: BTreeMap<String, f64>,
}

impl Running {
    /// Starts the processes.
    pub fn start(launch: Launch) -> anyhow::Result<Self> {
        let mut procs = vec![Proc::spawn(
            "web",
            &launch.web,
            &super::roles::tagged(&launch.env, "web"),
            launch.dir.as_deref(),
        )?];
        if let Some(worker) = &launch.worker {
            procs.push(Proc::spawn(
                "worker",
                worker,
                &super::roles::tagged(&launch.env, "worker"),
                launch.dir.as_deref(),
            )?);
        }
        let base_url = launch.port.map(|p| format!("http://127.0.0.1:{p}"));
        Ok(Self {
            procs,
            launch,
            base_url,
        })
    }

    /// A service the harness did not start (`run --target-url`): no processes; readiness is
    /// checked at its URL, and stopping it does nothing.
    pub fn external(e: &crate::scenario::shard::External) -> Self {
        Self {
            procs: Vec::new(),
            launch: Launch {
                web: Vec::new(),
                worker: None,
                env: BTreeMap::new(),
                port: None,
                ready_url: e.ready_path.clone(),
                health_json: e.health_json,
                dir: None,
            },
            base_url: Some(e.url.clone()),
        }
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
        let mut last_answer = "none (the web process never said where it listens)".to_string();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building the readiness client")?;
        loop {
            if let Some(exit) = self.exited() {
                if let Some(port) = self.launch.port
                    && super::ports::says_address_in_use(&exit)
                {
                    let by = super::ports::check_ours(port, &[])
                        .err()
                        .map_or_else(|| "unknown".to_string(), |e| e.by);
                    return Err(anyhow::Error::new(super::ports::PortTaken { port, by })
                        .context(format!("the target exited before it was ready: {exit}")));
                }
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
                match client.get(&url).send().await {
                    Ok(response) if response.status().is_success() => {
                        // The answer must come from the target, not from whoever took its port.
                        if let Some(port) = self.launch.port {
                            let groups: Vec<u32> = self
                                .procs
                                .iter()
                                .filter_map(|p| p.group.and_then(|g| u32::try_from(g).ok()))
                                .collect();
                            super::ports::check_ours(port, &groups)?;
                        }
                        if !self.launch.health_json {
                            return Ok(());
                        }
                        let body: serde_json::Value = response.json().await.unwrap_or_default();
                        if body["status"] == "healthy" {
                            return Ok(());
                        }
                        last_answer = format!("{url} answered {body}");
                    }
                    Ok(response) => {
                        let code = response.status();
                        let body = response.text().await.unwrap_or_default();
                        last_answer = format!("{url} answered {code}: {}", brief(&body));
                    }
                    // With its causes: reqwest's own message says only "error sending request".
                    Err(e) => last_answer = format!("{url}: {:#}", anyhow::Error::new(e)),
                }
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "the target was not ready within {timeout:?}; last readiness check: \
                     {last_answer}; web stderr:\n  {}",
                    self.procs
                        .first()
                        .map_or_else(|| "(not started by otelbench)".to_string(), Proc::tail)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops every process (worker last, so it can finish the web's jobs) and collects totals.
    pub async fn stop(mut self, grace: Duration) -> Stopped {
        let mut stopped = Stopped::default();
        for p in &mut self.procs {
            let (problem, whole_life) = p.stop(grace).await;
            stopped.problems.extend(problem);
            if let Some(us) = whole_life {
                stopped.whole_life_us.insert(p.name.to_string(), us);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_kills_the_group_when_the_harness_end_of_its_pipe_closes() {
        let mut target = std::process::Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .unwrap();
        let group = i32::try_from(target.id()).unwrap();
        let mut dog = watchdog(group).unwrap();
        // What the kernel does when the harness dies: the write end closes.
        drop(dog.stdin.take());
        let status = target.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{status}"
        );
        assert!(dog.wait().unwrap().success());
    }
}
