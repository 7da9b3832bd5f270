//! The `perf` program: whether it runs here, what its failures mean, and folding its data
//! into stacks (`perf script` through inferno's perf collapser).

use std::io::BufReader;
use std::path::Path;
use std::process::{Command, Stdio};

use inferno::collapse::Collapse as _;

/// What perf said when it failed, with the fix for the usual causes.
pub(super) fn perf_failed(said: &str) -> String {
    let first: Vec<&str> = said
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .collect();
    let fix = if said.contains("paranoid") || said.contains("ermission") {
        "run otelbench as root, or allow profiling: sysctl kernel.perf_event_paranoid=1"
    } else if said.contains("not found") {
        "install perf for this kernel (Debian: apt-get install linux-perf)"
    } else {
        "run the perf record command by hand to see why"
    };
    format!("perf record failed: {}; fix: {fix}", first.join(" / "))
}

/// Whether `perf` can be run, and if not, why and what to do.
pub fn check_perf() -> Result<(), String> {
    match Command::new("perf")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "perf does not run here ({}); fix: install perf for this kernel (Debian: apt-get install linux-perf; Ubuntu: linux-tools-$(uname -r))",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(_) => Err(
            "perf was not found; fix: install it (Debian: apt-get install linux-perf; Ubuntu: linux-tools-$(uname -r)) and run again with --profile"
                .into(),
        ),
    }
}

/// Folds a perf.data into `stack COUNT` lines: `perf script` (inlined frames left out: their
/// lookup costs minutes and the symbol of the function they were inlined into stays) through
/// inferno's perf collapser, kernel frames marked `_[k]`.
pub fn fold(data: &Path) -> Result<String, String> {
    let mut script = Command::new("perf")
        .args(["script", "--no-inline", "-i"])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("perf script could not be started: {e}"))?;
    let stdout = script.stdout.take().ok_or("perf script has no output")?;
    let mut options = inferno::collapse::perf::Options::default();
    options.annotate_kernel = true;
    options.annotate_jit = true;
    options.nthreads = 1;
    let mut folded = Vec::new();
    let collapsed = inferno::collapse::perf::Folder::from(options)
        .collapse(BufReader::new(stdout), &mut folded);
    let status = script.wait().map_err(|e| format!("perf script: {e}"))?;
    collapsed.map_err(|e| format!("folding perf script's output: {e}"))?;
    if !status.success() {
        return Err(format!("perf script failed ({status})"));
    }
    String::from_utf8(folded).map_err(|e| format!("folded stacks are not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_failures_carry_a_fix() {
        let said = "Error:\nNo permission to enable cpu-clock event.\nConsider tweaking /proc/sys/kernel/perf_event_paranoid";
        let m = perf_failed(said);
        assert!(m.contains("perf_event_paranoid=1"), "{m}");
    }
}
