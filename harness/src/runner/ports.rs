//! Who listens on a loopback port. A command target is told its port (`free_port` picks one and
//! lets it go before the target binds it), so another process can take it in between: the
//! target then fails to bind, or worse, the readiness check reaches the other process and the
//! run would measure a stranger. [`owners`] reads the listening sockets from /proc so that the
//! run can check the port is its target's.

use std::collections::BTreeSet;

use crate::procfs;

/// A command target's port was taken by another process; the run tries another port.
#[derive(Debug, thiserror::Error)]
#[error("port {port} was taken by another process ({by}) before the target could bind it")]
pub struct PortTaken {
    /// The port.
    pub port: u16,
    /// Who holds it, as far as /proc tells.
    pub by: String,
}

/// Socket inodes listening on `port` (TCP, IPv4 and IPv6).
fn listening_inodes(port: u16) -> BTreeSet<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| parse_listeners(&t, port))
        .collect()
}

/// Inodes of the LISTEN (state 0A) sockets on `port` in a /proc/net/tcp text.
fn parse_listeners(text: &str, port: u16) -> Vec<u64> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let local_port = f.get(1)?.rsplit(':').next()?;
            let matches = u16::from_str_radix(local_port, 16).ok()? == port && *f.get(3)? == "0A";
            matches.then(|| f.get(9)?.parse().ok()).flatten()
        })
        .collect()
}

/// Processes holding a socket listening on `port`, with their process groups: `(pid, pgid)`.
pub fn owners(port: u16) -> Vec<(u32, u32)> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return Vec::new();
    }
    let wanted: BTreeSet<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    procfs::pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path())
                        .is_ok_and(|l| wanted.contains(l.to_string_lossy().as_ref()))
                })
            })
        })
        .map(|pid| (pid, pgid(pid).unwrap_or(0)))
        .collect()
}

fn pgid(pid: u32) -> Option<u32> {
    u32::try_from(procfs::stat_number(&procfs::stat(pid)?, 5)?).ok()
}

/// `Err(PortTaken)` when `port` is held only by processes outside `groups` (the target's
/// process groups); fine when one of them holds it, or when no holder can be seen.
pub fn check_ours(port: u16, groups: &[u32]) -> Result<(), PortTaken> {
    let owners = owners(port);
    if owners.is_empty() || owners.iter().any(|(_, g)| groups.contains(g)) {
        return Ok(());
    }
    let by = owners
        .iter()
        .map(|(pid, _)| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("pid {pid} {}", comm.trim())
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(PortTaken { port, by })
}

/// True when a process's stderr says its bind failed because the address was in use.
pub fn says_address_in_use(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("address already in use") || t.contains("eaddrinuse") || t.contains("addrinuse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_is_found_with_its_owner() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id();
        let found = owners(port);
        assert!(found.iter().any(|(pid, _)| *pid == me), "{found:?}");
        let my_group = pgid(me).unwrap();
        assert!(check_ours(port, &[my_group]).is_ok());
        // Held by a process outside the target's groups: a stranger.
        let e = check_ours(port, &[u32::MAX]).unwrap_err();
        assert!(e.to_string().contains(&format!("pid {me}")), "{e}");
        drop(l);
        assert!(owners(port).is_empty());
        assert!(
            check_ours(port, &[u32::MAX]).is_ok(),
            "nobody listens: nothing to say"
        );
    }

    #[test]
    fn proc_net_tcp_lines_are_read_for_listeners_only() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n\
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1\n";
        assert_eq!(parse_listeners(text, 8080), [4242]);
        assert!(parse_listeners(text, 8081).is_empty());
    }

    #[test]
    fn bind_failures_are_recognised_in_several_languages_runtimes() {
        for text in [
            "OSError: [Errno 98] Address already in use",
            "Error: listen EADDRINUSE: address already in use 127.0.0.1:8000",
            "thread 'main' panicked: Os { code: 98, kind: AddrInUse }",
        ] {
            assert!(says_address_in_use(text), "{text}");
        }
        assert!(!says_address_in_use("connection refused"));
    }
}
