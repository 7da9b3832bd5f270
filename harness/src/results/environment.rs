//! Where a run happened: enough to judge whether two results are comparable.

use serde::{Deserialize, Serialize};

/// The machine and the software.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Environment {
    /// `/proc/cpuinfo` model name.
    pub cpu_model: String,
    /// CPUs online.
    pub cores: usize,
    /// Memory, MB.
    pub memory_mb: u64,
    /// `uname -r`.
    pub kernel: String,
    /// `rustc --version` of the compiler that built otelbench.
    pub rustc: String,
    /// The git commit otelbench was built from (uncommitted changes are not marked); empty
    /// when built outside a repository.
    pub git_commit: String,
    /// otelbench's version.
    pub otelbench_version: String,
    /// Host name.
    pub hostname: String,
    /// The CPU reports a hypervisor (`hypervisor` flag in /proc/cpuinfo): a virtual machine.
    #[serde(default)]
    pub hypervisor: bool,
}

/// True when /proc/cpuinfo's flags include `hypervisor`: this is a virtual machine.
pub fn hypervisor() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|t| {
        t.lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
    })
}

fn first_line(path: &str, key: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    })
}

impl Environment {
    /// Reads the current machine.
    pub fn detect() -> Self {
        Self {
            cpu_model: first_line("/proc/cpuinfo", "model name").unwrap_or_default(),
            cores: crate::procfs::online_cpus(),
            memory_mb: first_line("/proc/meminfo", "MemTotal")
                .and_then(|v| {
                    v.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                })
                .map_or(0, |kb| kb / 1024),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            rustc: env!("OTELBENCH_BUILD_RUSTC").to_string(),
            git_commit: env!("OTELBENCH_BUILD_COMMIT").to_string(),
            otelbench_version: env!("CARGO_PKG_VERSION").to_string(),
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            hypervisor: hypervisor(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compiler_and_commit_are_the_builds() {
        // Regression for issue 19: the rustc on PATH at run time was recorded as the build's.
        let e = super::Environment::detect();
        assert_eq!(e.rustc, env!("OTELBENCH_BUILD_RUSTC"));
        assert!(e.rustc.starts_with("rustc "), "{}", e.rustc);
        assert!(
            e.git_commit.is_empty()
                || (e.git_commit.len() == 40
                    && e.git_commit.chars().all(|c| c.is_ascii_hexdigit())),
            "{}",
            e.git_commit
        );
    }
}
